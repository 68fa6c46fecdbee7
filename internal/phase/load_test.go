package phase

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/sshsettings"
	"github.com/clusterctl/clusterctl/internal/sshtest"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// --load's HTTP to a proxy behind a bastion goes through the bastion, as
// the proxy's SSH does; a proxy reached directly is dialled directly.
func TestLoadDialerGoesThroughTheBastionOfItsProxy(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer web.Close()
	_, port, _ := net.SplitHostPort(web.Listener.Addr().String())
	ln2, err := net.Listen("tcp", "127.0.0.2:"+port)
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2:%s for the second proxy: %v", port, err)
	}
	go http.Serve(ln2, web.Config.Handler)
	defer ln2.Close()
	key := sshtest.NewClientKey(t, "")
	jump := sshtest.Start(t, sshtest.WithAuthorizedKey(key.Public))
	bastion := &transport.Config{Address: jump.Host(), Port: jump.Port(), User: "root", KeyFiles: []string{key.Path},
		KnownHostsFile: jump.WriteKnownHosts(t), KeepaliveInterval: -1}

	inv := &inventory.Inventory{Hosts: []inventory.Host{
		{Name: "proxy", Address: "127.0.0.1", Roles: []inventory.Role{inventory.RoleProxy}},
		{Name: "proxy2", Address: "127.0.0.2", Roles: []inventory.Role{inventory.RoleProxy}},
	}}
	inv.Nginx.Listen, _ = strconv.Atoi(port)
	g := &Options{reach: map[string]sshsettings.Host{
		"proxy":  {Config: transport.Config{Bastion: bastion}},
		"proxy2": {},
	}}
	defer g.Bastions().Close()
	dial := loadDialer(inv, g)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, addr := range []string{"127.0.0.1:" + port, "127.0.0.2:" + port} {
		c, err := dial(ctx, "tcp", addr)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		c.Write([]byte("GET / HTTP/1.0\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", addr, resp, err)
		}
		c.Close()
	}
	if fw := jump.Forwards(); !slices.Equal(fw, []string{"127.0.0.1:" + port}) {
		t.Fatalf("the bastion forwarded %v; want only the proxy behind it", fw)
	}
}
