package playbooks

import (
	"context"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// A host records the settings it finished rolling with; a later inventory
// that changes one no rollout keeps unnoticed is named per host, and one
// that changes nothing of the kind (or a host never recorded) is not.
func TestDisruptiveChangesComparesWithTheRecord(t *testing.T) {
	inv := labArtifacts(t)
	c, _ := NewCluster(inv)
	hosts := map[string]*engine.Host{}
	var all []*engine.Host
	for _, ih := range inv.AllHosts() {
		h := engine.NewHost(newPristine(ih.Name), nil)
		h.Facts = engine.ParseOSRelease([]byte(debian12))
		hosts[ih.Name] = h
		all = append(all, h)
	}
	ctx := context.Background()
	if got, err := c.DisruptiveChanges(ctx, all); err != nil || len(got) != 0 {
		t.Fatalf("never recorded: %q %v", got, err)
	}
	for _, h := range all {
		if _, err := engine.RunStep(ctx, h, "after rollout", c.LiveSettingsStep(), engine.Options{StateDir: t.TempDir()}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := c.DisruptiveChanges(ctx, all); len(got) != 0 {
		t.Fatalf("same inventory: %q", got)
	}
	moved := labArtifacts(t, "  port: 8080", "  port: 8081", "balance: sticky", "balance: ip_hash")
	cm, _ := NewCluster(moved)
	got, err := cm.DisruptiveChanges(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`t58: tomcat.port "8080" -> "8081"`, `t68: tomcat.port "8080" -> "8081"`}
	if len(got) != len(want) {
		t.Fatalf("changes %q, want %q (nginx.balance rolls unnoticed)", got, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) || !strings.Contains(got[i], "requests fail") {
			t.Errorf("change %d: %q, want %q and why", i, got[i], w)
		}
	}
}
