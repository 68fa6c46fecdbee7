//go:build tools

// Package internal pins the module's direct dependencies while the packages
// that use them are being written; removed once each one is imported.
package internal

import (
	_ "github.com/pkg/sftp"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/crypto/ssh/agent"
	_ "golang.org/x/crypto/ssh/knownhosts"
	_ "golang.org/x/term"
	_ "gopkg.in/yaml.v3"
)
