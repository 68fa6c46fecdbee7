package appgate

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine/enginetest"
)

// The session check for real: the shipped jar, real MSM 2.3.2's transcoder
// (../shared/msm, where the team keeps the jars; $CLUSTERCTL_MSM_JARS
// elsewhere), Debian's Tomcat 9 jars, and WARs built here with a session
// class in three versions. v1 -> v2 (a new method, serialVersionUID kept)
// reads both ways; v2 -> v3 (a field retyped, no explicit
// serialVersionUID) is found, naming the class; a session of another app
// is skipped, not counted as broken.
func TestCheckDecodesWithTheNewClasses(t *testing.T) {
	home := catalinaHome(t)
	dir := t.TempDir()
	v1 := war(t, dir, "v1", "private static final long serialVersionUID = 1L; private java.util.ArrayList<String> items = new java.util.ArrayList<>();")
	v2 := war(t, dir, "v2", "private static final long serialVersionUID = 1L; private java.util.ArrayList<String> items = new java.util.ArrayList<>(); public boolean isEmpty() { return items.isEmpty(); }")
	v3 := war(t, dir, "v3", "private java.util.LinkedList<String> items = new java.util.LinkedList<>();")
	blobs := func(war string) []Sample {
		return []Sample{{"AAA-n1.t58", blob(t, war, "shop.Cart")}, {"BBB-n2.t68", blob(t, war, "")}}
	}
	other := blob(t, war(t, dir, "other", "private static final long serialVersionUID = 1L;", "other"), "other.Cart")
	where := Where{Java: "java", CatalinaHome: home, StateDir: filepath.Join(dir, "state")}
	c := &enginetest.LocalConn{Name: "t58"}
	ctx := context.Background()

	rep, err := Check(ctx, c, where, v2, v1, append(blobs(v1), Sample{"CCC-n1.t58", other}))
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 2 || rep.Skipped != 1 || rep.Err("shop", "v2") != nil {
		t.Fatalf("v1 -> v2: %s: %v", rep.Summary(), rep.Err("shop", "v2"))
	}
	rep, err = Check(ctx, c, where, v3, v2, blobs(v2))
	if err != nil {
		t.Fatal(err)
	}
	e := rep.Err("shop", "v3")
	if len(rep.New) != 1 || rep.OK != 1 || e == nil || !strings.Contains(e.Error(), "v3 cannot read 1 of the 2 sampled sessions") ||
		!strings.Contains(e.Error(), "java.io.InvalidClassException: shop.Cart; local class incompatible") {
		t.Fatalf("v2 -> v3: %s: %v", rep.Summary(), e)
	}
	// And the way back: v3's own sessions, which v2 cannot read.
	rep, err = Check(ctx, c, where, v3, v2, []Sample{{"DDD-n1.t58", blob(t, v3, "shop.Cart")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.New) != 0 || len(rep.Back) != 1 || !strings.Contains(rep.Back[0].Cause, "shop.Cart") {
		t.Fatalf("a v3 session against v2: %s %+v", rep.Summary(), rep)
	}
	if _, err := os.Stat(filepath.Join(where.StateDir, "sessioncheck", "sample")); !os.IsNotExist(err) {
		t.Errorf("the sample file (session data) stayed: %v", err)
	}
}

func need(t *testing.T, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: no %s (install a JDK to run the session check's test)", tool)
		}
	}
}

// catalinaHome is a Tomcat home whose lib holds Debian's Tomcat 9 jars and
// the real MSM jars.
func catalinaHome(t *testing.T) string {
	need(t, "java", "javac", "jar")
	msm := os.Getenv("CLUSTERCTL_MSM_JARS")
	if msm == "" {
		msm = "../../../shared/msm"
	}
	core, _ := filepath.Glob(filepath.Join(msm, "memcached-session-manager-2*.jar"))
	if len(core) == 0 {
		t.Skipf("SKIP: no real MSM jars in %s (set CLUSTERCTL_MSM_JARS)", msm)
	}
	tomcat, _ := filepath.Glob("/usr/share/java/tomcat9-*.jar")
	if len(tomcat) == 0 {
		t.Skip("SKIP: no Tomcat 9 jars in /usr/share/java (install libtomcat9-java)")
	}
	home := t.TempDir()
	lib := filepath.Join(home, "lib")
	os.Mkdir(lib, 0o755)
	os.Mkdir(filepath.Join(home, "bin"), 0o755)
	msmJars, _ := filepath.Glob(filepath.Join(msm, "*.jar"))
	for _, j := range append(tomcat, msmJars...) {
		abs, _ := filepath.Abs(j)
		if err := os.Symlink(abs, filepath.Join(lib, filepath.Base(j))); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// war builds a WAR whose WEB-INF/classes hold <pkg>.Cart with body.
func war(t *testing.T, dir, name, body string, pkg ...string) string {
	t.Helper()
	p := "shop"
	if len(pkg) > 0 {
		p = pkg[0]
	}
	root := filepath.Join(dir, name)
	src := filepath.Join(root, "src", p)
	classes := filepath.Join(root, "war", "WEB-INF", "classes")
	os.MkdirAll(src, 0o755)
	os.MkdirAll(classes, 0o755)
	os.WriteFile(filepath.Join(src, "Cart.java"), []byte("package "+p+";\npublic class Cart implements java.io.Serializable {\n"+body+"\n}\n"), 0o644)
	run(t, "javac", "--release", "8", "-Xlint:-options", "-d", classes, filepath.Join(src, "Cart.java"))
	out := filepath.Join(dir, name+".war")
	run(t, "jar", "cf", out, "-C", filepath.Join(root, "war"), ".")
	return out
}

// blob is an MSM session blob as memcached holds it: a header whose bytes
// 2-3 say where the attributes start, then the attributes in MSM's
// format, written by the classes of war: a counter, and an instance of cls
// when it is not "".
func blob(t *testing.T, war, cls string) []byte {
	t.Helper()
	dir := t.TempDir()
	src := `import java.io.*; import java.net.*;
public class Make { public static void main(String[] a) throws Exception {
  ClassLoader cl = new URLClassLoader(new URL[]{new URL("jar:file:" + a[0] + "!/WEB-INF/classes/")});
  ByteArrayOutputStream b = new ByteArrayOutputStream(); b.write(new byte[]{0, 2, 0, 4});
  ObjectOutputStream o = new ObjectOutputStream(b);
  boolean obj = a.length > 1;
  o.writeObject(Integer.valueOf(obj ? 2 : 1)); o.writeObject("counter"); o.writeObject(Integer.valueOf(7));
  if (obj) { o.writeObject("cart"); o.writeObject(cl.loadClass(a[1]).getConstructor().newInstance()); }
  o.close(); System.out.write(b.toByteArray()); System.out.flush(); } }`
	os.WriteFile(filepath.Join(dir, "Make.java"), []byte(src), 0o644)
	run(t, "javac", "-d", dir, filepath.Join(dir, "Make.java"))
	args := []string{"-cp", dir, "Make", war}
	if cls != "" {
		args = append(args, cls)
	}
	out, err := exec.Command("java", args...).Output()
	if err != nil {
		t.Fatalf("make a blob: %v", err)
	}
	return out
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
