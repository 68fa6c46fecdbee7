package engine

import (
	"fmt"
	"os"
	"testing"
)

// TestMain keeps every test's journal, backups and pending-handler markers
// out of the real /var/lib/clusterctl of the machine running the tests.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "engine-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defaultStateDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
