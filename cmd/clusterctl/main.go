// Command clusterctl builds, verifies and removes a Tomcat + memcached
// session cluster over SSH. All logic lives in internal/cli.
package main

import (
	"os"

	"github.com/clusterctl/clusterctl/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
