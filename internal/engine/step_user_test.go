package engine

import (
	"slices"
	"testing"
)

func TestUserCommands(t *testing.T) {
	u := User{Name: "tomcat", System: true, Home: "/opt/tomcat"}
	tests := []struct {
		facts Facts
		want  string
	}{
		{debianFacts, "useradd -r -M -d /opt/tomcat -s /usr/sbin/nologin tomcat"},
		{rhelFacts, "useradd -r -M -d /opt/tomcat -s /sbin/nologin tomcat"},
		{centos7Facts, "useradd -r -M -d /opt/tomcat -s /sbin/nologin tomcat"},
	}
	for _, tc := range tests {
		if got, err := userAddCmd(tc.facts, u); err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.facts.ID, got, err, tc.want)
		}
	}
	if got, _ := userAddCmd(debianFacts, User{Name: "ops", Shell: "/bin/bash", CreateHome: true}); got != "useradd -m -s /bin/bash ops" {
		t.Errorf("login user: %q", got)
	}
	if _, err := userAddCmd(Facts{ID: "alpine"}, u); err == nil {
		t.Error("unsupported OS: want an error")
	}
	if got := userModCmd(User{Name: "tomcat", Home: "/opt/tomcat", Shell: "/sbin/nologin"}, "/home/tomcat", "/sbin/nologin"); got != "usermod -d /opt/tomcat tomcat" {
		t.Errorf("usermod: %q", got)
	}
	if got := userModCmd(User{Name: "memcache", System: true}, "/nonexistent", "/bin/false"); got != "" {
		t.Errorf("an unset shell must not override a package's choice: %q", got)
	}
}

func TestUserCreatedOnce(t *testing.T) {
	h, c := newTestHost("h1")
	state := stubTools(t, c)
	step := User{Name: "tomcat", System: true}
	converge(t, h, Options{}, step)
	rc, _ := converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 0 || !slices.Equal(stubLog(t, state), []string{"useradd -r -M -s /usr/sbin/nologin tomcat"}) {
		t.Fatalf("%+v %q", rc.Hosts[0], stubLog(t, state))
	}
}
