package cli

import (
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/assets"
)

// SchemaFile is the name init writes the schema under, beside the
// inventory; the inventory's first line points editors at it.
const SchemaFile = "inventory.schema.json"

func newInventoryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Tools for the inventory file",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "schema",
		Short: "Print the inventory's JSON Schema, for editors",
		Long: `schema prints the JSON Schema of inventory.yaml (draft 2020-12): every key,
its type, the values an enumerated key takes, and what each one means. Editors
with a YAML language server (VS Code's YAML extension, neovim's yamlls) validate
and complete an inventory whose first line names it:

  # yaml-language-server: $schema=inventory.schema.json

clusterctl init writes both. The schema checks the file's shape; clusterctl's
own checks (apply --dry-run) still decide whether the cluster it describes is
valid.`,
		Example: "  clusterctl inventory schema > " + SchemaFile,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(assets.InventorySchema)
			return err
		},
	})
	return cmd
}
