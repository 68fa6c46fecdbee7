package lab

import (
	"bytes"
	"encoding/json"
	"strings"
	"text/template"

	"github.com/clusterctl/clusterctl/internal/lab/artifacts"
)

// inventoryTemplate is the shipped inventory.yaml with the lab's addresses,
// keys, time source and artifacts filled in; every other value is the
// seed's, so applying it builds the same cluster the blog post builds.
var inventoryTemplate = template.Must(template.New("inventory").Funcs(template.FuncMap{
	"q":    quote,
	"list": func(s []string) string { return "[" + strings.Join(s, ", ") + "]" },
}).Parse(`# clusterctl inventory for the local lab, written by ` + "`clusterctl lab up`" + `.
# Regenerated on every ` + "`lab up`" + ` (fresh keys each time); edit the shipped
# inventory.yaml instead. Differences from it: addresses (the lab bridge
# 10.250.0.0/24), SSH key and known_hosts (the lab's own, no agent, no ~/.ssh/config), the time
# source (the proxy serves time to the lab) and the artifacts (prepared
# offline from Debian's packages).
#
# MSM: {{.Artifacts.MSMSummary}}
#
{{- range .Hosts}}
#   {{printf "%-16s %-13s %s" .FQDN .Address (list .Roles)}}
{{- end}}

apiVersion: clusterctl/v1
kind: Cluster

cluster:
  name: shone
  domain: {{.Domain}}
  timezone: Asia/Shanghai
  # No outside NTP server is reachable from the lab: the proxy serves time
  # to the bridge subnet (apply configures it).
  ntp_servers: [proxy.{{.Domain}}]
  manage_firewall: true

ssh:
  user: root
  port: 22
  key_files: [{{q .KeyFile}}]
  agent: false
  known_hosts: {{q .KnownHosts}}
  connect_timeout: 10s
  # The lab is reached directly on its bridge: a ProxyJump or a User from
  # the operator's ~/.ssh/config must not send it anywhere else.
  config: none

hosts:
{{- range .Hosts}}
  - name: {{.Name}}
    fqdn: {{.FQDN}}
    address: {{.Address}}
    roles: {{list .Roles}}
{{- end}}

# Prepared by the lab from Debian's packages (no download site is reachable).
artifacts:
  dir: {{q .Artifacts.Dir}}

java:
  install: tarball            # tarball (the seed's way) or package (distro OpenJDK)
  tarball: {{.Artifacts.JDKTarball}}

tomcat:
  version: {{.Artifacts.TomcatVersion}}
  tarball: {{.Artifacts.TomcatTarball}}
  # sha512 of the tarball; or leave empty to read <tarball>.sha512 next to it
  port: 8080

memcached:
  port: 11211
  memory_mb: 64
  max_connections: 1024

msm:
  version: 2.3.2
  sticky: true
  serializer: java            # java (default serialization) or kryo
  maven_repo: https://repo1.maven.org/maven2
  request_uri_ignore_pattern: '.*\.(ico|png|gif|jpg|jpeg|css|js|html|txt)$'

nginx:
  listen: 80
  balance: sticky             # sticky (route on JSESSIONID's jvmRoute), ip_hash, round_robin
`))

type inventoryData struct {
	Domain     string
	Hosts      []Host
	KeyFile    string
	KnownHosts string
	Artifacts  artifacts.Manifest
}

// quote renders s as a YAML double-quoted scalar (JSON strings are YAML),
// so paths with spaces or colons stay one value.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func renderInventory(d inventoryData) ([]byte, error) {
	var b bytes.Buffer
	if err := inventoryTemplate.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
