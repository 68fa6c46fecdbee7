package phase

import (
	"fmt"

	"github.com/clusterctl/clusterctl/internal/output"
	"github.com/clusterctl/clusterctl/internal/status"
)

// Status shows the running cluster (internal/status), changing nothing
// and taking no lock: exit 1 only when a host cannot be read.
func Status(g *Options) error {
	inv, cluster, c, err := connectCluster(g)
	if err != nil {
		return err
	}
	defer c.close()
	hosts := status.Gather(c.ctx, inv, cluster.Topo, c.hosts, g.Parallel)
	if g.Output == "json" {
		output.NewLines(g.Stdout).Write(struct {
			Type     string        `json:"type"`
			Hosts    []status.Host `json:"hosts"`
			Problems []string      `json:"problems"`
		}{"status", hosts, nonNil(status.Problems(hosts))})
	} else {
		status.Text(g.Stdout, hosts)
	}
	unread := 0
	for _, h := range hosts {
		if h.Error != "" {
			unread++
		}
	}
	if unread > 0 {
		return HostsFailed(fmt.Errorf("%d of %d hosts could not be read", unread, len(hosts)))
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
