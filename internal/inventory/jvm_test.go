package inventory

import (
	"strings"
	"testing"
)

// Each bad JVM or connector setting is an error at the value that is
// wrong; good ones give the options in order, heap first.
func TestJVMSettingsErrorsPointAtTheValue(t *testing.T) {
	for _, c := range []struct{ new, field, msg string }{
		{"  port: 8080\n  java_opts: [⇒Xmx2g]\n", "tomcat.java_opts[0]", "not a JVM option"},
		{"  port: 8080\n  java_opts: [-XX:+UseG1GC, ⇒'-Dx=$(id)']\n", "tomcat.java_opts[1]", "shell characters"},
		{"  port: 8080\n  java_opts: [⇒-Djava.home=/opt/jdk]\n", "tomcat.java_opts[0]", "java.home"},
		{"  port: 8080\n  heap_mb: 512\n  java_opts: [⇒-Xmx1g]\n", "tomcat.java_opts[0]", "tomcat.heap_mb"},
		{"  port: 8080\n  heap_mb: ⇒-1\n", "tomcat.heap_mb", "between 1 and"},
		{"  port: 8080\n  max_threads: ⇒0\n", "tomcat.max_threads", "between 1 and"},
		{"  port: 8080\n  access_log_max_days: ⇒0\n", "tomcat.access_log_max_days", "at least 1"},
	} {
		e, _, line, col := singleErrorAtMarker(t, editText(t, base, "  port: 8080\n", c.new))
		if e.Field != c.field || e.Line != line || e.Column != col || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%q: got %s at %d:%d %q, want %s at %d:%d containing %q", c.new, e.Field, e.Line, e.Column, e.Msg, c.field, line, col, c.msg)
		}
	}
	inv := mustParse(t, editText(t, base, "  port: 8080\n", "  port: 8080\n  heap_mb: 512\n  java_opts: [-XX:+UseG1GC]\n"))
	if got := strings.Join(inv.Tomcat.JVMOptions(), " "); got != "-Xms512m -Xmx512m -XX:+UseG1GC" || inv.Tomcat.MaxThreads != 200 || inv.Tomcat.AccessLogMaxDays != 14 {
		t.Errorf("options %q, max_threads %d, access_log_max_days %d", got, inv.Tomcat.MaxThreads, inv.Tomcat.AccessLogMaxDays)
	}
}

// The heap the preflight holds against the host's memory: heap_mb, else
// the last -Xmx of java_opts in the JVM's units, else none.
func TestMaxHeapBytes(t *testing.T) {
	for _, c := range []struct {
		t    Tomcat
		want int64
	}{
		{Tomcat{}, 0},
		{Tomcat{HeapMB: 512}, 512 << 20},
		{Tomcat{JavaOpts: []string{"-Xmx2g"}}, 2 << 30},
		{Tomcat{JavaOpts: []string{"-Xmx1024m", "-XX:+UseG1GC", "-Xmx3G"}}, 3 << 30},
		{Tomcat{JavaOpts: []string{"-Xmx65536k"}}, 64 << 20},
		{Tomcat{JavaOpts: []string{"-Xmx1048576"}}, 1 << 20},
		{Tomcat{JavaOpts: []string{"-Xms2g", "-Xmxbad"}}, 0},
	} {
		if got := c.t.MaxHeapBytes(); got != c.want {
			t.Errorf("%+v: MaxHeapBytes = %d, want %d", c.t, got, c.want)
		}
	}
}
