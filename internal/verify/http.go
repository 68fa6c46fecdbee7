package verify

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/topology"
)

// ProbePath is the probe application's page (assets/probe, context /probe):
// a .jsp URL, so it takes the proxy's ".jsp to the Tomcats" route.
const ProbePath = topology.ProbeContext + "/index.jsp"

// Probe is one answer of the probe page plus the cookie the response set.
type Probe struct {
	Host     string `json:"host"`     // jvmRoute, or the host name without one
	Route    string `json:"route"`    // jvmRoute suffix of the session id
	Hostname string `json:"hostname"` // the serving machine's host name
	Session  string `json:"session"`
	Counter  int    `json:"counter"`
	New      bool   `json:"new"`

	SetCookie string        `json:"-"` // JSESSIONID from Set-Cookie, "" if none
	At        time.Time     `json:"-"` // when the answer arrived
	Took      time.Duration `json:"-"`
}

// prober sends probe requests over tunnels opened by dial to addr, with
// Host header host. Cookies are handled by the caller: a request carries
// exactly the session it is given.
type prober struct {
	dial    TCPDialer
	addr    string // "127.0.0.1:80" as seen from the proxy host
	host    string // Host header
	timeout time.Duration
}

// get requests the probe page with session id (none when "").
func (p *prober) get(ctx context.Context, session string) (Probe, error) {
	return p.getPath(ctx, ProbePath, session)
}

func (p *prober) getPath(ctx context.Context, path, session string) (Probe, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	client := &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return p.dial.DialTCP(ctx, p.addr)
			},
			// One request, one tunnel: a connection kept from before a
			// disruption must not decide what the next request sees.
			DisableKeepAlives: true,
		},
		// A redirect would leave the probe; report it instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.host+path, nil)
	if err != nil {
		return Probe{}, err
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: session})
	}
	resp, err := client.Do(req)
	if err != nil {
		return Probe{}, fmt.Errorf("GET %s via %s: %s", path, p.addr, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Probe{}, fmt.Errorf("GET %s: reading the answer: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Probe{}, fmt.Errorf("GET %s: HTTP %d (%s)", path, resp.StatusCode, firstLine(string(body)))
	}
	pr, err := parseProbe(body)
	if err != nil {
		return Probe{}, fmt.Errorf("GET %s: %v", path, err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "JSESSIONID" {
			pr.SetCookie = c.Value
		}
	}
	pr.At = time.Now()
	pr.Took = pr.At.Sub(start)
	return pr, nil
}

// parseProbe reads the probe's one JSON line; anything else (nginx's error
// page, a Tomcat 404) is reported by its first line.
func parseProbe(body []byte) (Probe, error) {
	var pr Probe
	if err := json.Unmarshal(body, &pr); err != nil || pr.Session == "" || pr.Counter == 0 {
		return Probe{}, fmt.Errorf("not the probe's JSON answer: %q", firstLine(string(body)))
	}
	return pr, nil
}

func unwrapURLError(err error) string {
	msg := err.Error()
	// `Get "http://...": <cause>` -> `<cause>`
	if i := strings.Index(msg, `": `); i >= 0 && strings.HasPrefix(msg, "Get ") {
		msg = msg[i+3:]
	}
	return msg
}

// firstLine is the first non-empty line, shortened for a one-line reason.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 120 {
				l = l[:120] + "..."
			}
			return l
		}
	}
	return "(empty)"
}

// httpStatusLine sends a minimal HEAD request and returns the status line:
// any HTTP answer proves the connector is up, without creating a session.
func httpStatusLine(ctx context.Context, d TCPDialer, addr string, connectTimeout, timeout time.Duration) (string, error) {
	return httpAsk(ctx, d, addr, "HEAD", "/", "", connectTimeout, timeout)
}

// httpAsk sends one request (Host header host, or addr's host when "")
// and returns the answer's status line.
func httpAsk(ctx context.Context, d TCPDialer, addr, method, path, host string, connectTimeout, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := connect(ctx, d, addr, connectTimeout)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if host == "" {
		host, _, _ = net.SplitHostPort(addr)
	}
	if _, err := io.WriteString(nc, method+" "+path+" HTTP/1.0\r\nHost: "+host+"\r\nConnection: close\r\n\r\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "HTTP/") {
		if err != nil {
			return "", fmt.Errorf("connection closed without an answer (%v)", err)
		}
		return "", fmt.Errorf("not an HTTP answer: %q", firstLine(line))
	}
	return line, nil
}
