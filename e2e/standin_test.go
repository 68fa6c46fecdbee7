//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestStandInLab keeps the path of a user without MSM jars working end to
// end, whatever MSM the rest of the suite ran: a lab built without
// --msm-jars runs the stand-in, apply converges it, and the whole verify,
// drill included, passes. It replaces the lab for its own
// time only (replaceLab brings the suite's lab back).
func TestStandInLab(t *testing.T) {
	l := replaceLab(t, 2, "")
	if !l.Artifacts.MSMStandIn {
		t.Fatalf("a lab without --msm-jars runs %s, want the stand-in", l.Artifacts.MSMSummary())
	}
	t.Logf("MSM: %s", l.Artifacts.MSMSummary())
	inv, _ := os.ReadFile(l.Inventory)
	if !strings.Contains(string(inv), "# MSM: clusterctl's MSM stand-in") {
		t.Errorf("the lab inventory does not say it runs the stand-in:\n%s", inv)
	}

	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	if n := strings.TrimSpace(RunOn(t, "t58", "journalctl -u tomcat --no-pager -o cat | grep -c 'clusterctl MSM TEST DOUBLE' || true")); n == "0" {
		t.Error("Tomcat's log on t58 lacks the stand-in's WARNING banner: is it running the stand-in?")
	}
	v := runVerify(t)
	if v.ExitCode != 0 {
		t.Fatalf("verify on the stand-in lab: exit %d; failures:\n%s", v.ExitCode, strings.Join(v.failed(), "\n"))
	}
	t.Logf("stand-in lab: apply and verify (drill included) passed")
}
