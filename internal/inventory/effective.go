package inventory

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// EffectiveYAML prints the inventory as clusterctl will use it: every default
// filled in and every path resolved, in the same schema as inventory.yaml, so
// the output can itself be loaded. After Limit it lists only the targeted hosts.
// It holds no secrets: the inventory only ever names environment variables.
func (inv *Inventory) EffectiveYAML() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# effective inventory: " + inv.file + " with defaults filled in\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(inv); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
