package verify

import (
	"context"
	"path"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func (r *run) javaBin() string { return path.Join(r.inv.Java.Home, "bin", "java") }

func (r *run) javaVersionCmd() string { return shellQuote(r.javaBin()) + " -version 2>&1" }

// tomcatJavaCmd prints Tomcat's pid, the binary it runs, what java.home's
// java resolves to and the process's command line, one argument a line.
func (r *run) tomcatJavaCmd() string {
	return `pid=$(systemctl show -p MainPID --value tomcat); echo "pid $pid"; ` +
		`readlink -f /proc/$pid/exe 2>/dev/null || echo; readlink -f ` + shellQuote(r.javaBin()) + ` || echo; ` +
		`tr '\0' '\n' < /proc/$pid/cmdline 2>/dev/null`
}

func (r *run) checkJava(ctx context.Context, c remote.Conn) (Status, string) {
	java := r.javaBin()
	res, err := r.read(ctx, c, r.javaVersionCmd())
	if err != nil {
		return fail("%v", err)
	}
	if res.ExitCode == 127 || res.ExitCode == 126 {
		return fail("%s not found or not executable (java.home in the inventory; clusterctl apply installs the JDK)", java)
	}
	if !res.OK() {
		return fail("%s -version exit %d: %s", java, res.ExitCode, remote.LastLine(res.Stdout, res.Stderr))
	}
	return ok("%s", firstLine(res.Stdout))
}

// checkTomcatJava: the JVM Tomcat runs is the java.home the inventory
// names (the unpacked tarball, or the package's Java home), not whatever
// java another JDK on the host put first on the PATH, and it runs with the
// inventory's JVM options (tomcat.heap_mb, tomcat.java_opts): read from
// the process's own command line, not from the unit file.
func (r *run) checkTomcatJava(ctx context.Context, c remote.Conn) (Status, string) {
	java := r.javaBin()
	res, err := r.read(ctx, c, r.tomcatJavaCmd())
	if err != nil {
		return fail("%v", err)
	}
	lines := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "pid 0" || lines[0] == "pid " {
		return skip("tomcat is not running")
	}
	running, want := strings.TrimSpace(lines[1]), strings.TrimSpace(lines[2])
	switch {
	case want == "":
		return fail("%s does not exist (java.home; clusterctl apply links it)", java)
	case running != want:
		return fail("Tomcat runs %s, not %s (= %s): JAVA_HOME in tomcat.service is not java.home; run clusterctl apply", running, java, want)
	}
	opts := r.inv.Tomcat.JVMOptions()
	args := lines[3:]
	if missing := slices.DeleteFunc(slices.Clone(opts), func(o string) bool { return slices.Contains(args, o) }); len(missing) > 0 {
		return fail("the running JVM lacks %s (tomcat.heap_mb / tomcat.java_opts): restarted since the last apply? run clusterctl restart tomcat", strings.Join(missing, " "))
	}
	if len(opts) > 0 {
		return ok("%s (%s) with %s", running, strings.TrimPrefix(lines[0], "pid "), strings.Join(opts, " "))
	}
	return ok("%s (%s)", running, strings.TrimPrefix(lines[0], "pid "))
}
