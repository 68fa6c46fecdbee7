package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/assets"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/phase"
)

// newInitCommand is `clusterctl init`: a starter inventory for the
// operator's own hosts, commented, that loads as it is written.
func newInitCommand(g *phase.Options) *cobra.Command {
	o := inventory.StarterOptions{}
	var force bool
	cmd := &cobra.Command{
		Use:   "init --proxy ADDRESS --tomcat ADDRESS [--tomcat ADDRESS ...]",
		Short: "Write a starter inventory for your hosts",
		Long: `init writes a commented inventory (the file of -i, default ./inventory.yaml)
for a proxy and Tomcat hosts, each Tomcat host running memcached too, as in the
classic two-host layout. Hosts are named the classic way (a Tomcat at 10.0.0.58
is t58). The file is validated before it is written; an existing file is kept
unless --force. Beside it init writes inventory.schema.json, the schema editors
validate the inventory against (see clusterctl inventory schema).`,
		Example: `  clusterctl init --proxy 10.0.0.8 --tomcat 10.0.0.58 --tomcat 10.0.0.68 --domain example.com
  clusterctl -i prod.yaml init --proxy 10.1.0.8 --tomcat 10.1.0.58 --tomcat 10.1.0.68 --user ops`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(g.Inventory); err == nil && !force {
				return usageError(fmt.Errorf("%s exists: kept as it is (--force overwrites it, or -i names another file)", g.Inventory))
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return usageError(err)
			}
			b, err := inventory.Starter(o)
			if err != nil {
				return usageError(err)
			}
			if err := os.WriteFile(g.Inventory, b, 0o644); err != nil {
				return phase.HostsFailed(err)
			}
			// The schema is clusterctl's own, regenerated with each
			// version: overwriting an older copy is what keeps it true.
			schema := filepath.Join(filepath.Dir(g.Inventory), SchemaFile)
			if err := os.WriteFile(schema, assets.InventorySchema, 0o644); err != nil {
				return phase.HostsFailed(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d proxy and %d Tomcat hosts (and %s, which editors validate it against)\nnext: put the Tomcat tarball into artifacts/, then clusterctl -i %s apply --dry-run\n",
				g.Inventory, len(o.Proxies), len(o.Tomcats), schema, g.Inventory)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Proxies, "proxy", nil, "address of an nginx proxy host (repeatable)")
	f.StringSliceVar(&o.Tomcats, "tomcat", nil, "address of a Tomcat + memcached host (repeatable)")
	f.StringVar(&o.Name, "name", "cluster", "cluster name")
	f.StringVar(&o.Domain, "domain", "example.com", "DNS domain: each host's fqdn is name.domain")
	f.StringVar(&o.Timezone, "timezone", "UTC", "IANA time zone set on every host")
	f.StringVar(&o.User, "user", "root", "SSH user (not root: passwordless sudo)")
	f.StringSliceVar(&o.KeyFiles, "key", []string{"~/.ssh/id_ed25519", "~/.ssh/id_rsa"}, "SSH private key files to try")
	f.BoolVar(&force, "force", false, "overwrite an existing inventory file")
	return cmd
}
