//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

const labJava = "java:\n  install: tarball            # tarball (the seed's way) or package (distro OpenJDK)\n  tarball: jdk-17-linux-x64.tar.gz\n"

// java.install: package with a JRE package that has no
// /usr/lib/jvm/default-java: apply links java.home to the package's own
// Java home, the Tomcats roll onto it without a failed request, verify
// sees Tomcat run that JVM, and a second apply changes nothing. Before the
// fix the same inventory failed `tomcat ready: not ready after 2m0s`.
func TestJavaPackageInstall(t *testing.T) {
	ensureApplied(t)
	t.Cleanup(func() {
		res := ensureApplied(t) // back to the tarball JDK
		if !strings.Contains(strings.Join(res.Changed(), "\n"), "symlink /usr/local/jdk") {
			t.Errorf("switching back to the tarball did not relink java.home:\n%s", strings.Join(res.Changed(), "\n"))
		}
		if out := RunOn(t, "t58", "readlink -f /proc/$(systemctl show -p MainPID --value tomcat)/exe"); !strings.HasPrefix(out, "/usr/local/jdk-") {
			t.Errorf("after switching back Tomcat runs %s", out)
		}
	})
	inv := variantInventory(t, "java-package", labJava, "java:\n  install: package\n  package: openjdk-17-jre-headless\n")
	res, rep := applyUnderLoad(t, inv)
	if res.ExitCode != 0 {
		t.Fatalf("apply with java.install: package: exit %d:\n%s", res.ExitCode, strings.Join(res.Failures(), "\n"))
	}
	if !rep.Clean() {
		t.Errorf("switching the JDK under load: %s; want 0 failed, 0 lost, 0 stale", rep)
	}
	if got := strings.Join(rolledHosts(res), ","); got != "t58,t68" {
		t.Errorf("the new JVM rolled onto %q, want t58,t68", got)
	}
	for _, h := range []string{"t58", "t68"} {
		if out := strings.TrimSpace(RunOn(t, h, "readlink /usr/local/jdk; readlink -f /proc/$(systemctl show -p MainPID --value tomcat)/exe")); out != "/usr/lib/jvm/java-17-openjdk-amd64\n/usr/lib/jvm/java-17-openjdk-amd64/bin/java" {
			t.Errorf("%s: java.home and Tomcat's JVM: %q", h, out)
		}
	}
	v := runCmd(t, invCmd(t, inv, "verify"))
	if v.ExitCode != 0 || !strings.Contains(v.Stdout, `"check":"tomcat runs java.home","status":"ok","reason":"/usr/lib/jvm/java-17-openjdk-amd64/bin/java`) {
		t.Errorf("verify on the package JDK: exit %d:\n%s", v.ExitCode, lastLines(v.Stdout, 12))
	}
	assertNoChanges(t, runCmd(t, invCmd(t, inv, "apply")))

	bad := variantInventory(t, "java-not-java", labJava, "java:\n  install: package\n  package: bash\n")
	b := runCmd(t, invCmd(t, bad, "apply"))
	if b.ExitCode != 1 || !strings.Contains(strings.Join(b.Failures(), "\n"), "java.package bash installed no Java runtime") {
		t.Errorf("a package that is no Java: exit %d:\n%s", b.ExitCode, strings.Join(b.Failures(), "\n"))
	}
}
