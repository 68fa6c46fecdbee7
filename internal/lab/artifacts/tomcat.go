package artifacts

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/internal/checksum"
)

// tomcatLibJars maps Debian's libtomcat9-java jar names (without
// "tomcat9-" and "-<version>.jar") to the names Apache's tarball uses in lib/.
var tomcatLibJars = map[string]string{
	"annotations-api": "annotations-api.jar", "api": "tomcat-api.jar", "catalina": "catalina.jar",
	"catalina-ant": "catalina-ant.jar", "catalina-ha": "catalina-ha.jar", "coyote": "tomcat-coyote.jar",
	"dbcp": "tomcat-dbcp.jar", "el-api": "el-api.jar", "jasper": "jasper.jar", "jasper-el": "jasper-el.jar",
	"jaspic-api": "jaspic-api.jar", "jdbc": "tomcat-jdbc.jar", "jni": "tomcat-jni.jar", "jsp-api": "jsp-api.jar",
	"servlet-api": "servlet-api.jar", "storeconfig": "catalina-storeconfig.jar", "tribes": "catalina-tribes.jar",
	"util": "tomcat-util.jar", "util-scan": "tomcat-util-scan.jar", "websocket": "tomcat-websocket.jar",
	"websocket-api": "websocket-api.jar",
}

var tomcatI18n = []string{"cs", "de", "es", "fr", "ja", "ko", "pt-BR", "ru", "zh-CN"}

// Tomcat 10's generic scripts run Tomcat 9 unchanged (docs/lab.md);
// migrate.sh is the Tomcat 10 javax->jakarta tool and is left out.
var tomcatScripts = []string{
	"catalina.sh", "ciphers.sh", "configtest.sh", "daemon.sh", "digest.sh", "makebase.sh",
	"setclasspath.sh", "shutdown.sh", "startup.sh", "tool-wrapper.sh", "version.sh",
}

var tomcatConf = []string{
	"catalina.properties", "context.xml", "jaspic-providers.xml", "logging.properties",
	"server.xml", "tomcat-users.xml", "web.xml",
}

// bootstrapClass matches the classes that belong in bin/bootstrap.jar. More
// than these (e.g. all of catalina.jar) breaks start-up with
// ClassNotFoundException: org.apache.tomcat.util.digester.Rule (docs/lab.md).
var bootstrapClass = regexp.MustCompile(`^org/apache/catalina/(startup/(Bootstrap|CatalinaProperties|ClassLoaderFactory|Tool)(\$.*)?\.class|startup/catalina\.properties|security/SecurityClassLoad(\$.*)?\.class)$`)

var webAppTag = regexp.MustCompile(`(?s)<web-app\s[^>]*>`)

const servlet40WebApp = `<web-app xmlns="http://xmlns.jcp.org/xml/ns/javaee"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://xmlns.jcp.org/xml/ns/javaee
                      http://xmlns.jcp.org/xml/ns/javaee/web-app_4_0.xsd"
  version="4.0">`

const indexJSP = `<%@ page contentType="text/plain; charset=UTF-8" %>Apache Tomcat <%= application.getServerInfo() %> (clusterctl lab build from Debian packages)
`

// buildTomcat writes apache-tomcat-<v>.tar.gz and its .sha512 into out.
// Modes follow Apache's tarball: scripts 0750, conf 0600, rest 0640.
func buildTomcat(ctx context.Context, out, version, ecjName string) error {
	top := "apache-tomcat-" + version
	jar := func(n string) string { return filepath.Join(javaDir, "tomcat9-"+n+"-"+version+".jar") }
	type src struct{ name, path string }
	var lib []src
	for deb, apache := range tomcatLibJars {
		lib = append(lib, src{apache, jar(deb)})
	}
	for _, l := range tomcatI18n {
		lib = append(lib, src{"tomcat-i18n-" + l + ".jar", jar("i18n-" + l)})
	}
	lib = append(lib, src{ecjName, filepath.Join(javaDir, "eclipse-jdt-core.jar")})
	sort.Slice(lib, func(i, j int) bool { return lib[i].name < lib[j].name })
	for _, l := range lib {
		pkg := "libtomcat9-java"
		if l.name == ecjName {
			pkg = "libeclipse-jdt-core-java"
		}
		if err := need(l.path, pkg); err != nil {
			return err
		}
	}
	for _, s := range tomcatScripts {
		if err := need(filepath.Join(tomcat10Home, "bin", s), "tomcat10-common"); err != nil {
			return err
		}
	}
	conf, err := tomcatConfFiles()
	if err != nil {
		return err
	}
	bootstrap, err := bootstrapJar(jar("catalina"))
	if err != nil {
		return err
	}
	if err := need(jar("juli"), "libtomcat9-java"); err != nil {
		return err
	}

	tarball := filepath.Join(out, top+".tar.gz")
	t, err := newTgz(tarball)
	if err != nil {
		return err
	}
	steps := []func() error{
		func() error { return t.dir(top, 0o750) },
		func() error { return t.dir(top+"/bin", 0o750) },
		func() error { return t.bytes(top+"/bin/bootstrap.jar", 0o640, bootstrap) },
		func() error {
			for _, s := range append([]string{"catalina-tasks.xml"}, tomcatScripts...) {
				mode := int64(0o750)
				if !strings.HasSuffix(s, ".sh") {
					mode = 0o640
				}
				p := filepath.Join(tomcat10Home, "bin", s)
				if _, err := os.Stat(p); err != nil && s == "catalina-tasks.xml" {
					continue // optional
				}
				if err := t.file(top+"/bin/"+s, mode, p); err != nil {
					return err
				}
			}
			return nil
		},
		func() error { return t.file(top+"/bin/tomcat-juli.jar", 0o640, jar("juli")) },
		func() error { return t.dir(top+"/conf", 0o750) },
		func() error {
			names := make([]string, 0, len(conf))
			for n := range conf {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				if err := t.bytes(top+"/conf/"+n, 0o600, conf[n]); err != nil {
					return err
				}
			}
			return nil
		},
		func() error { return t.dir(top+"/lib", 0o750) },
		func() error {
			for _, l := range lib {
				if err := t.file(top+"/lib/"+l.name, 0o640, l.path); err != nil {
					return err
				}
			}
			return nil
		},
		func() error { return t.dir(top+"/logs", 0o750) },
		func() error { return t.dir(top+"/temp", 0o750) },
		func() error { return t.dir(top+"/webapps", 0o750) },
		func() error { return t.dir(top+"/webapps/ROOT", 0o750) },
		func() error { return t.bytes(top+"/webapps/ROOT/index.jsp", 0o640, []byte(indexJSP)) },
		func() error { return t.dir(top+"/work", 0o750) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.close()
			return fmt.Errorf("artifacts: building %s: %w", filepath.Base(tarball), err)
		}
	}
	if err := t.close(); err != nil {
		return err
	}
	return writeSHA512(tarball)
}

// tomcatConfFiles reads Debian's pristine Tomcat 10 conf files (accepted by
// Tomcat 9) and undoes Debian's changes so they look like Apache's.
func tomcatConfFiles() (map[string][]byte, error) {
	conf := map[string][]byte{}
	for _, n := range tomcatConf {
		p := filepath.Join(tomcat10Home, "etc", n)
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, need(p, "tomcat10")
		}
		conf[n] = b
	}
	// Debian disables the shutdown port; Apache's default is 8005.
	conf["server.xml"] = []byte(strings.Replace(string(conf["server.xml"]),
		`<Server port="-1" shutdown="SHUTDOWN">`, `<Server port="8005" shutdown="SHUTDOWN">`, 1))
	// Tomcat 10's web.xml declares Jakarta EE 10 (version 6.0), which Tomcat 9
	// warns about; declare Servlet 4.0 as Apache's Tomcat 9 web.xml does.
	conf["web.xml"] = webAppTag.ReplaceAll(conf["web.xml"], []byte(servlet40WebApp))
	// Debian logs for journald; Apache's console format is OneLineFormatter.
	conf["logging.properties"] = []byte(strings.ReplaceAll(string(conf["logging.properties"]),
		"org.apache.juli.SystemdFormatter", "org.apache.juli.OneLineFormatter"))
	// Apache ships one catalina.policy; Debian splits it into policy.d/.
	parts, _ := filepath.Glob(filepath.Join(tomcat10Etc, "policy.d", "0*.policy"))
	if len(parts) == 0 {
		return nil, need(filepath.Join(tomcat10Etc, "policy.d", "03catalina.policy"), "tomcat10")
	}
	sort.Strings(parts)
	var policy []byte
	for _, p := range parts {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		policy = append(policy, b...)
	}
	conf["catalina.policy"] = policy
	return conf, nil
}

// bootstrapJar cuts the bootstrap classes out of catalina.jar.
func bootstrapJar(catalina string) ([]byte, error) {
	zr, err := zip.OpenReader(catalina)
	if err != nil {
		return nil, need(catalina, "libtomcat9-java")
	}
	defer zr.Close()
	var entries []jarEntry
	for _, f := range zr.File {
		if !bootstrapClass.MatchString(f.Name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		entries = append(entries, jarEntry{f.Name, b})
	}
	if len(entries) < 5 {
		return nil, fmt.Errorf("artifacts: %s lacks the bootstrap classes", catalina)
	}
	tmp, err := os.CreateTemp("", "bootstrap-*.jar")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	manifest := "Manifest-Version: 1.0\r\nMain-Class: org.apache.catalina.startup.Bootstrap\r\n" +
		"Class-Path: commons-daemon.jar\r\nCreated-By: clusterctl (from Debian libtomcat9-java)\r\n\r\n"
	if err := writeJar(tmp.Name(), manifest, entries); err != nil {
		return nil, err
	}
	return os.ReadFile(tmp.Name())
}

// writeSHA512 writes "<hex> *<name>" beside file, the format of Apache's
// .sha512 files (sha512sum -c accepts it).
func writeSHA512(file string) error {
	sum, err := checksum.SHA512(file)
	if err != nil {
		return err
	}
	line := sum + " *" + filepath.Base(file) + "\n"
	return os.WriteFile(file+".sha512", []byte(line), 0o644)
}
