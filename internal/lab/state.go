package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/clusterctl/clusterctl/internal/lab/artifacts"
)

// state is what Up leaves in <cache>/run/state.json for Status, Load and
// Down. Down does not depend on it: it also finds leftovers by name.
type state struct {
	Dir         string             `json:"dir"`
	Hosts       []Host             `json:"hosts"`
	AptProxyPID int                `json:"apt_proxy_pid"`
	Artifacts   artifacts.Manifest `json:"artifacts"`
}

func writeState(o Options, s state) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.runDir(), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(o.stateFile(), b, 0o644)
}

func readState(o Options) (state, error) {
	var s state
	b, err := os.ReadFile(o.stateFile())
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("lab: %s: %w", o.stateFile(), err)
	}
	return s, nil
}

// lockPath is machine-wide because the lab's names (br-lab, lab-*) are.
const lockPath = "/run/clusterctl-lab.lock"

// lock serialises Up and Down across processes.
func lock() (func(), error) {
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lab: another `lab up/down` is running (lock %s held)", lockPath)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
