package lab

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Fixed lab network. Everything the lab creates is named after these, which
// is how Down finds leftovers of a run it has no state for.
const (
	BridgeName    = "br-lab"
	BridgeAddress = "10.250.0.1"
	subnetPrefix  = "10.250.0."
	prefixLen     = 24
	netnsPrefix   = "lab-"           // netns lab-<host>, outer veth lab-<host>
	overlaySource = "clusterctl-lab" // "device" column of the hosts' overlay mounts
	AptProxyPort  = 3142
	Domain        = "shone.cn"

	// MaxTomcats keeps t<octet> below .255: 58 + 10*19 = 248.
	MaxTomcats = 20
)

// Options configures Up, Down and Status. The zero value means the defaults.
type Options struct {
	Dir      string    // output dir for inventory, key, known_hosts; default ./lab
	CacheDir string    // rootfs, apt cache, per-host trees, run state; default ~/.cache/clusterctl/lab
	Tomcats  int       // number of Tomcat hosts, 2..MaxTomcats; default 2
	Log      io.Writer // progress lines; nil = quiet
	// MSMJars is a directory of real MSM jars (core + tc9 of one release)
	// the lab runs instead of the stand-in; "" runs the stand-in unless the
	// user put real jars into the artifacts directory by hand.
	MSMJars string
}

// OptionError is a bad Options value, found before anything was touched.
type OptionError struct{ Err error }

func (e *OptionError) Error() string { return "lab: " + e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		o.Dir = "lab"
	}
	if o.CacheDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return o, fmt.Errorf("lab: no cache dir given and no home dir: %w", err)
		}
		o.CacheDir = filepath.Join(home, ".cache", "clusterctl", "lab")
	}
	if o.Tomcats == 0 {
		o.Tomcats = 2
	}
	if o.Tomcats < 2 || o.Tomcats > MaxTomcats {
		return o, &OptionError{fmt.Errorf("tomcats must be between 2 and %d, got %d", MaxTomcats, o.Tomcats)}
	}
	var err error
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return o, err
	}
	if o.CacheDir, err = filepath.Abs(o.CacheDir); err != nil {
		return o, err
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o, nil
}

// Paths under the cache dir. Per-run state lives in run/, per-host trees in
// machines/; rootfs/ and apt-cacher-ng/ are the caches that survive Down.
func (o Options) rootfsDir() string          { return filepath.Join(o.CacheDir, "rootfs") }
func (o Options) aptCacheDir() string        { return filepath.Join(o.CacheDir, "apt-cacher-ng") }
func (o Options) machinesDir() string        { return filepath.Join(o.CacheDir, "machines") }
func (o Options) runDir() string             { return filepath.Join(o.CacheDir, "run") }
func (o Options) stateFile() string          { return filepath.Join(o.runDir(), "state.json") }
func (o Options) consoleLog(h string) string { return filepath.Join(o.runDir(), "console", h+".log") }
func (o Options) keyFile() string            { return filepath.Join(o.Dir, "id_ed25519") }
func (o Options) knownHostsFile() string     { return filepath.Join(o.Dir, "known_hosts") }
func (o Options) inventoryFile() string      { return filepath.Join(o.Dir, "inventory.yaml") }
func (o Options) artifactsDir() string       { return filepath.Join(o.CacheDir, "artifacts") }

// Host is one lab machine.
type Host struct {
	Name       string   `json:"name"`
	FQDN       string   `json:"fqdn"`
	Address    string   `json:"address"`
	Roles      []string `json:"roles"`
	ConsoleLog string   `json:"console_log"`
	PID        int      `json:"pid"` // systemd-nspawn's PID, 0 when not running
}

func (h Host) netns() string    { return netnsPrefix + h.Name }
func (h Host) vethName() string { return netnsPrefix + h.Name }

// plan lists the hosts of a lab with n Tomcat hosts: proxy first, then
// t58, t68, t78, ... (the seed's names, continued ten addresses apart).
func plan(o Options) []Host {
	hosts := []Host{{Name: "proxy", Address: subnetPrefix + "8", Roles: []string{"proxy"}}}
	for i := 0; i < o.Tomcats; i++ {
		octet := 58 + 10*i
		hosts = append(hosts, Host{
			Name:    fmt.Sprintf("t%d", octet),
			Address: fmt.Sprintf("%s%d", subnetPrefix, octet),
			Roles:   []string{"tomcat", "memcached"},
		})
	}
	for i := range hosts {
		hosts[i].FQDN = hosts[i].Name + "." + Domain
		hosts[i].ConsoleLog = o.consoleLog(hosts[i].Name)
	}
	return hosts
}
