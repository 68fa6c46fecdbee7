package inventory

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
	sjs "github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// schemaFile is where the binary embeds the schema from (assets) and
// where editors find it (the shipped inventory's first line names it).
const schemaFile = "../../assets/inventory.schema.json"

var updateSchema = flag.Bool("update-schema", false, "rewrite "+schemaFile+" from the schema types")

// reflectSchema is the inventory's JSON Schema, reflected from the schema
// types and their doc comments; what the types do not say (the values an
// enumerated field takes, a duration's text form) is added from the same
// constants the validator uses.
func reflectSchema(t *testing.T) []byte {
	t.Helper()
	roles := make([]any, len(Roles))
	for i, r := range Roles {
		roles[i] = string(r)
	}
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true, // defaults fill in what is left out
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch t {
			case reflect.TypeFor[Duration]():
				return &jsonschema.Schema{Type: "string", Pattern: `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`,
					Description: "a duration with its unit, as Go writes it: 500ms, 10s, 2m"}
			case reflect.TypeFor[Role]():
				return &jsonschema.Schema{Type: "string", Enum: roles}
			}
			return nil
		},
	}
	if err := r.AddGoComments("github.com/clusterctl/clusterctl/internal/inventory", "./"); err != nil {
		t.Fatal(err)
	}
	s := r.Reflect(&Inventory{})
	s.ID = ""
	s.Title = "clusterctl inventory (apiVersion clusterctl/v1)"
	enum := func(def, prop string, values ...string) {
		d, ok := s.Definitions[def]
		if !ok {
			t.Fatalf("schema: no definition %s", def)
		}
		p, ok := d.Properties.Get(prop)
		if !ok {
			t.Fatalf("schema: %s has no property %s", def, prop)
		}
		for _, v := range values {
			p.Enum = append(p.Enum, v)
		}
	}
	enum("Inventory", "apiVersion", APIVersion)
	enum("Inventory", "kind", KindCluster)
	enum("Java", "install", JavaTarball, JavaPackage)
	enum("MSM", "serializer", SerializerJava, SerializerKryo)
	enum("Nginx", "balance", BalanceSticky, BalanceIPHash, BalanceRoundRobin)
	enum("App", "session_check", SessionCheckBoth, SessionCheckOffline, SessionCheckLive, SessionCheckNone)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// The schema shipped in assets (what `clusterctl inventory schema`
// prints and editors read) is the one the schema types give today: a new
// field, a renamed one or a changed comment without a regenerated schema
// fails here. Regenerate: go test ./internal/inventory -run Schema -args -update-schema
func TestTheShippedSchemaIsCurrent(t *testing.T) {
	want := reflectSchema(t)
	if *updateSchema {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what the schema types give: run go test ./internal/inventory -run Schema -args -update-schema", schemaFile)
	}
}

// The schema accepts what the loader accepts (the shipped inventory, a
// starter, every default written out) and refuses what an editor should
// flag: an unknown key, a role or balance that does not exist, a
// duration without its unit.
func TestTheSchemaAgreesWithTheLoader(t *testing.T) {
	c := sjs.NewCompiler()
	doc, err := sjs.UnmarshalJSON(bytes.NewReader(reflectSchema(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("inventory.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("inventory.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	validate := func(text string) error {
		var v any
		if err := yaml.Unmarshal([]byte(text), &v); err != nil {
			t.Fatal(err)
		}
		return sch.Validate(v)
	}
	shipped, err := os.ReadFile("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	starter, err := Starter(StarterOptions{Proxies: []string{"10.0.0.8"}, Tomcats: []string{"10.0.0.58", "10.0.0.68"},
		Name: "c", Domain: "example.com", Timezone: "UTC", User: "ops", KeyFiles: []string{"~/.ssh/id_ed25519"}})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := parse("inventory.yaml", []byte(base), "/inv", "/home/u")
	if err != nil {
		t.Fatal(err)
	}
	effective, err := inv.EffectiveYAML()
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"the shipped inventory": string(shipped), "a starter": string(starter),
		"every default written out": string(effective), "the tests' base": base} {
		if err := validate(text); err != nil {
			t.Errorf("%s: the schema refuses it: %v", name, err)
		}
	}
	for name, edit := range map[string][2]string{
		"an unknown key":        {"  domain: lab.test\n", "  domain: lab.test\n  colour: blue\n"},
		"an unknown role":       {"roles: [proxy]", "roles: [balancer]"},
		"an unknown balance":    {"balance: sticky", "balance: least_conn"},
		"a duration sans unit":  {"connect_timeout: 10s", "connect_timeout: 10"},
		"a port that is a word": {"  port: 8080\n", "  port: eighty\n"},
	} {
		text := strings.Replace(base, edit[0], edit[1], 1)
		if text == base {
			t.Fatalf("%s: the edit does not apply", name)
		}
		if err := validate(text); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}
