package artifacts

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Where Debian 12 puts the inputs. Variables, not constants, so a test can
// point them elsewhere.
var (
	javaDir      = "/usr/share/java"                    // libtomcat9-java, libspymemcached-java, libeclipse-jdt-core-java
	tomcat10Home = "/usr/share/tomcat10"                // tomcat10-common (bin/) and tomcat10 (etc/)
	tomcat10Etc  = "/etc/tomcat10"                      // tomcat10 (policy.d/)
	jdkHome      = "/usr/lib/jvm/java-17-openjdk-amd64" // openjdk-17-jre-headless, openjdk-17-jdk-headless (javac)
)

// AptPackages lists the Debian packages Prepare reads from (install them
// with apt-get install --no-install-recommends).
var AptPackages = []string{
	"libtomcat9-java", "tomcat10-common", "tomcat10", "libeclipse-jdt-core-java",
	"libspymemcached-java", "openjdk-17-jdk-headless",
}

// debVersion returns the installed version of a Debian package, or an
// error that tells the user what to install.
func debVersion(ctx context.Context, pkg string) (string, error) {
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status}\t${Version}", pkg).Output()
	status, version, _ := strings.Cut(string(out), "\t")
	if err != nil || !strings.HasSuffix(status, " installed") || version == "" {
		return "", fmt.Errorf("artifacts: Debian package %s is not installed (apt-get install %s)", pkg, pkg)
	}
	return version, nil
}

// upstreamVersion strips the epoch and Debian revision: 1:9.0.70-2 -> 9.0.70,
// 2.12.3+dfsg-3 -> 2.12.3.
func upstreamVersion(v string) string {
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	if i := strings.LastIndex(v, "-"); i > 0 {
		v = v[:i]
	}
	if i := strings.IndexAny(v, "+~"); i > 0 {
		v = v[:i]
	}
	return v
}

// need fails with the package name when an input file is missing.
func need(path, pkg string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("artifacts: %s is missing; it comes from Debian package %s (apt-get install %s)", path, pkg, pkg)
	}
	return nil
}
