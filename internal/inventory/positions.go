package inventory

import "strings"

// position is where a value starts in the file (1-based).
type position struct{ line, column int }

// positions maps field paths ("hosts[1].address") to where their values were
// written. Validation uses it to point at the offending value; a value that is
// absent (defaulted) is reported at its nearest written ancestor.
type positions map[string]position

// has reports whether the field was written in the file with a non-null value.
func (p positions) has(path string) bool {
	_, ok := p[path]
	return ok
}

// lookup returns the position of path or of its nearest ancestor present.
func (p positions) lookup(path string) position {
	for {
		if pos, ok := p[path]; ok {
			return pos
		}
		if path == "" {
			return position{}
		}
		path = parentPath(path)
	}
}

// parentPath strips the last ".key" or "[i]": hosts[1].ssh.port -> hosts[1].ssh -> hosts[1] -> hosts -> "".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
