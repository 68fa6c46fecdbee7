package probe

import (
	"context"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// ReadCmd is what ReadFile runs for p: declare it to read p in a batch.
// It prints "present" and then p's content, or "absent".
func ReadCmd(p string) string {
	q := remote.ShellWord(p)
	return fmt.Sprintf("if [ -f %s ]; then echo present && cat %s; else echo absent; fi", q, q)
}

// ReadFile reads a file with one read-only command rather than over SFTP,
// so the read can ride in a batch and a run that changes nothing never
// opens SFTP (a subsystem session and several round trips of its own).
// exists is false when p is not a file.
func ReadFile(ctx context.Context, conn remote.Conn, p string) (data []byte, exists bool, err error) {
	res, err := conn.Run(ReadOnly(ctx), ReadCmd(p))
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", p, err)
	}
	if err := res.ExitError("read " + p); err != nil {
		return nil, false, err
	}
	mark, content, _ := strings.Cut(res.Stdout, "\n")
	switch mark {
	case "present":
		return []byte(content), true, nil
	case "absent":
		return nil, false, nil
	}
	head := res.Stdout
	if len(head) > 40 {
		head = head[:40] + "..."
	}
	return nil, false, fmt.Errorf("read %s: unexpected answer %q", p, head)
}
