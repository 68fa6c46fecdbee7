package artifacts

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readTarball returns the tarball's entries (name -> header) and the bytes
// of the regular files among wanted.
func readTarball(t *testing.T, file string, wanted ...string) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	heads, data := map[string]*tar.Header{}, map[string][]byte{}
	eachTarEntry(t, file, func(h *tar.Header, content io.Reader) {
		heads[h.Name] = h
		if slices.Contains(wanted, h.Name) {
			data[h.Name], _ = io.ReadAll(content)
		}
	})
	return heads, data
}

func TestTomcatTarballLayout(t *testing.T) {
	m := prepared(t)
	if m.TomcatVersion != "9.0.70" || m.TomcatTarball != "apache-tomcat-9.0.70.tar.gz" {
		t.Fatalf("Tomcat version/tarball = %s/%s", m.TomcatVersion, m.TomcatTarball)
	}
	top := m.TomcatTopDir + "/"
	heads, data := readTarball(t, filepath.Join(m.Dir, m.TomcatTarball),
		top+"bin/bootstrap.jar", top+"conf/server.xml", top+"conf/web.xml", top+"conf/logging.properties")

	want := []string{"", "bin/", "conf/", "lib/", "logs/", "temp/", "work/", "webapps/", "webapps/ROOT/",
		"webapps/ROOT/index.jsp", "bin/catalina.sh", "bin/startup.sh", "bin/shutdown.sh", "bin/setclasspath.sh",
		"bin/version.sh", "bin/bootstrap.jar", "bin/tomcat-juli.jar", "conf/server.xml", "conf/web.xml",
		"conf/context.xml", "conf/logging.properties", "conf/catalina.properties", "conf/catalina.policy",
		"conf/tomcat-users.xml", "lib/catalina.jar", "lib/servlet-api.jar", "lib/jasper.jar", "lib/jsp-api.jar",
		"lib/el-api.jar", "lib/tomcat-coyote.jar", "lib/tomcat-util.jar", "lib/tomcat-util-scan.jar",
		"lib/tomcat-api.jar", "lib/annotations-api.jar", "lib/websocket-api.jar", "lib/tomcat-websocket.jar"}
	for _, w := range want {
		if _, ok := heads[top+w]; !ok {
			t.Errorf("missing %s%s", top, w)
		}
	}
	ecj := 0
	for name, h := range heads {
		if !strings.HasPrefix(name, top) {
			t.Errorf("entry %s outside %s", name, top)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeDir {
			t.Errorf("%s is not a plain file or directory (symlinks must be resolved)", name)
		}
		if strings.HasSuffix(name, ".sh") && h.Mode&0o100 == 0 {
			t.Errorf("%s is not executable", name)
		}
		if regexp.MustCompile(`/lib/ecj-[0-9.]+\.jar$`).MatchString(name) {
			ecj++
		}
		if strings.Contains(name, "/bin/") && strings.HasSuffix(name, ".jar") && !strings.HasSuffix(name, "bootstrap.jar") &&
			!strings.HasSuffix(name, "tomcat-juli.jar") {
			t.Errorf("unexpected jar in bin/: %s", name)
		}
	}
	if ecj != 1 {
		t.Errorf("want exactly one lib/ecj-<v>.jar (JSP compiler), found %d", ecj)
	}

	// bootstrap.jar: only the bootstrap classes, Main-Class Bootstrap.
	b := data[top+"bin/bootstrap.jar"]
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	sawBootstrap := false
	for _, f := range zr.File {
		switch {
		case f.Name == "META-INF/MANIFEST.MF":
			rc, _ := f.Open()
			mf, _ := io.ReadAll(rc)
			rc.Close()
			if !strings.Contains(string(mf), "Main-Class: org.apache.catalina.startup.Bootstrap") {
				t.Errorf("bootstrap.jar manifest lacks Main-Class:\n%s", mf)
			}
		case !bootstrapClass.MatchString(f.Name):
			t.Errorf("bootstrap.jar holds %s", f.Name)
		case f.Name == "org/apache/catalina/startup/Bootstrap.class":
			sawBootstrap = true
		}
	}
	if !sawBootstrap {
		t.Error("bootstrap.jar lacks Bootstrap.class")
	}
	if !strings.Contains(string(data[top+"conf/server.xml"]), `<Server port="8005"`) {
		t.Error("server.xml does not have Apache's shutdown port 8005")
	}
	if !strings.Contains(string(data[top+"conf/web.xml"]), `version="4.0"`) {
		t.Error("web.xml does not declare Servlet 4.0")
	}
	if strings.Contains(string(data[top+"conf/logging.properties"]), "SystemdFormatter") {
		t.Error("logging.properties still uses Debian's SystemdFormatter")
	}
}

func TestTomcatSHA512FileVerifies(t *testing.T) {
	m := prepared(t)
	line, err := os.ReadFile(filepath.Join(m.Dir, m.TomcatSHA512))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^([0-9a-f]{128}) \*` + regexp.QuoteMeta(m.TomcatTarball) + "\n$")
	sm := re.FindStringSubmatch(string(line))
	if sm == nil {
		t.Fatalf("%s is not in Apache's format: %q", m.TomcatSHA512, line)
	}
	f, err := os.Open(filepath.Join(m.Dir, m.TomcatTarball))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sm[1] {
		t.Fatalf("sha512 mismatch: file says %s, tarball is %s", sm[1], got)
	}
}

// writeSHA512 itself, on a file of its own: the cached lab artifacts above
// were written by whichever code built the cache, this is today's.
func TestWriteSHA512(t *testing.T) {
	f := filepath.Join(t.TempDir(), "apache-tomcat-9.0.70.tar.gz")
	if err := os.WriteFile(f, []byte("not really a tarball\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSHA512(f); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f + ".sha512")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512([]byte("not really a tarball\n"))
	if want := hex.EncodeToString(sum[:]) + " *apache-tomcat-9.0.70.tar.gz\n"; string(got) != want {
		t.Fatalf("%s.sha512 = %q, want %q", f, got, want)
	}
}

// Same inputs, same bytes: what makes caching by package versions sound.
func TestTomcatTarballIsDeterministic(t *testing.T) {
	m := prepared(t)
	ecj := "ecj.jar"
	var sums []string
	for i := 0; i < 2; i++ {
		out := t.TempDir()
		if err := buildTomcat(context.Background(), out, m.TomcatVersion, ecj); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, m.TomcatSHA512))
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, string(b))
	}
	if sums[0] != sums[1] {
		t.Fatalf("two builds differ:\n%s%s", sums[0], sums[1])
	}
}

func TestMissingInputNamesDebianPackage(t *testing.T) {
	old := javaDir
	javaDir = t.TempDir()
	defer func() { javaDir = old }()
	err := buildTomcat(context.Background(), t.TempDir(), "9.0.70", "ecj.jar")
	if err == nil || !strings.Contains(err.Error(), "libtomcat9-java") {
		t.Fatalf("want an error naming libtomcat9-java, got %v", err)
	}
	if _, err := javacClasspath(); err == nil || !strings.Contains(err.Error(), "apt-get install libtomcat9-java") {
		t.Fatalf("want an error naming libtomcat9-java, got %v", err)
	}
}

func TestUpstreamVersion(t *testing.T) {
	for in, want := range map[string]string{
		"9.0.70-2": "9.0.70", "2.12.3+dfsg-3": "2.12.3", "1:9.0.70-2": "9.0.70",
		"17.0.15+6-1~deb12u1": "17.0.15", "3.32.0+eclipse4.26-2": "3.32.0",
	} {
		if got := upstreamVersion(in); got != want {
			t.Errorf("upstreamVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
