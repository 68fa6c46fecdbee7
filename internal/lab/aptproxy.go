package lab

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// apt-cacher-ng is run by hand, not through a service manager (there is
// none outside), with a config of its own: the package's default config
// remaps every request to backends it does not have and answers 503.
//
// PassThroughPattern lets the hosts tunnel (CONNECT) only to Debian's
// archive over TLS; plain-HTTP apt traffic does not need it. A ".*" pattern
// would make the proxy a tunnel from the lab to any address, which the lab's
// "bridge only" promise forbids.
const aptProxyPassThrough = `^(deb|security)\.debian\.org:443$`

// aptProxyMarker is on apt-cacher-ng's command line so Down can tell the
// lab's instance from any other without a state file.
var aptProxyMarker = "BindAddress=" + BridgeAddress

func (o Options) aptProxyConfDir() string { return filepath.Join(o.runDir(), "apt-cacher-ng") }
func (o Options) aptProxyLogDir() string  { return filepath.Join(o.runDir(), "apt-cacher-ng", "log") }

func startAptProxy(ctx context.Context, o Options) (int, error) {
	// A system apt-cacher-ng listening on the wildcard address would take the
	// lab's connections instead of ours (and serve them with its own config).
	if portListening(AptProxyPort) {
		return 0, fmt.Errorf("lab: TCP port %d is already in use (a system apt-cacher-ng? stop it first)", AptProxyPort)
	}
	conf, logDir, cache := o.aptProxyConfDir(), o.aptProxyLogDir(), o.aptCacheDir()
	for _, d := range []string{conf, logDir, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, err
		}
	}
	cfg := fmt.Sprintf(`# clusterctl lab: apt-cacher-ng for the lab bridge only
CacheDir: %s
LogDir: %s
SupportDir: /usr/lib/apt-cacher-ng
Port: %d
BindAddress: %s
PassThroughPattern: %s
# Keep the control socket with the rest of the lab's run state.
SocketPath: %s
`, cache, logDir, AptProxyPort, BridgeAddress, aptProxyPassThrough, filepath.Join(conf, "socket"))
	if err := os.WriteFile(filepath.Join(conf, "acng.conf"), []byte(cfg), 0o644); err != nil {
		return 0, err
	}
	logFile, err := os.OpenFile(filepath.Join(logDir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, err
	}
	defer logFile.Close()
	// ForeGround keeps the PID we start the one that serves, so it can be
	// recorded and signalled.
	cmd := exec.Command("/usr/sbin/apt-cacher-ng", "-c", conf, "ForeGround=1", aptProxyMarker)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("lab: apt-cacher-ng: %w", err)
	}
	go cmd.Wait()
	pid := cmd.Process.Pid

	addr := net.JoinHostPort(BridgeAddress, fmt.Sprint(AptProxyPort))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return pid, nil
		}
		if !alive(pid) || time.Now().After(deadline) || ctx.Err() != nil {
			b, _ := os.ReadFile(filepath.Join(logDir, "stdout.log"))
			return pid, fmt.Errorf("lab: apt-cacher-ng not listening on %s: %v: %s", addr, err, lastLines(string(b), 10))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// labAptProxies finds the lab's apt-cacher-ng processes by their marker.
func labAptProxies() []int {
	var out []int
	for _, p := range scanProcs() {
		if !strings.Contains(filepath.Base(p.args[0]), "apt-cacher-ng") {
			continue
		}
		for _, a := range p.args[1:] {
			if a == aptProxyMarker {
				out = append(out, p.pid)
				break
			}
		}
	}
	return out
}

// portListening reports whether any socket listens on TCP port (IPv4 or
// IPv6, any address), from /proc/net/tcp{,6}.
func portListening(port int) bool {
	want := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			// fields[1] = local addr:port, fields[3] = state (0A = LISTEN)
			if len(fields) > 3 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" {
				return true
			}
		}
	}
	return false
}
