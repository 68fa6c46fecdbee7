package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// The one rule for environment variables: every global flag can be set
// by CLUSTERCTL_ and its name in upper case, "-" as "_"
// (CLUSTERCTL_OUTPUT=json, CLUSTERCTL_CONNECT_TIMEOUT=5s,
// CLUSTERCTL_HOSTS=t58,t68), as a shell or a CI job that works on one
// cluster all day wants it; a flag on the command line wins. The flags
// that override a safety are never read from the environment: a variable
// set once and forgotten must not unlock or undrain every later run.
const envPrefix = "CLUSTERCTL_"

var envNever = map[string]bool{"force-unlock": true, "unsafe-no-drain": true, "pause-after-dump": true}

// EnvName is the environment variable of a global flag.
func EnvName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// EnvInventory names the inventory when -i is not given.
var EnvInventory = EnvName("inventory")

// flagsFromEnv sets each global flag the command line left unset from its
// variable, and says which it set (for messages that name the variable).
func flagsFromEnv(fs *pflag.FlagSet) (map[string]string, error) {
	from := map[string]string{}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || envNever[f.Name] || err != nil {
			return
		}
		name := EnvName(f.Name)
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			return
		}
		if serr := f.Value.Set(v); serr != nil {
			err = usageError(fmt.Errorf("%s=%q: %v (it sets --%s)", name, v, serr, f.Name))
			return
		}
		from[f.Name] = name
	})
	return from, err
}

// setByEnv lists the variables set for flags of names, for commands that
// must refuse them as they refuse the flags.
func setByEnv(names []string) []string {
	var out []string
	for _, n := range names {
		if v := os.Getenv(EnvName(n)); v != "" && !envNever[n] {
			out = append(out, EnvName(n))
		}
	}
	return out
}
