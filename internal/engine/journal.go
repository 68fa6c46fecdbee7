package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// DefaultStateDir is where apply keeps, on each host, the journal of what it
// changed and the originals of the files it replaced.
const DefaultStateDir = "/var/lib/clusterctl"

// defaultStateDir is what an empty Options.StateDir means; the package's
// own tests point it into a temp dir so that they never write to the
// machine running them.
var defaultStateDir = DefaultStateDir

// Layout of a state dir: an append-only journal (one JSON Record a line)
// and backup/<original absolute path> copies, each taken only once: the
// first time apply replaces that file.
const (
	JournalFile = "journal.jsonl"
	BackupDir   = "backup"
)

// JournalPath is the journal inside stateDir.
func JournalPath(stateDir string) string { return path.Join(stateDir, JournalFile) }

// BackupPath is where the original of file is kept inside stateDir.
func BackupPath(stateDir, file string) string {
	return path.Join(stateDir, BackupDir, path.Clean("/"+file))
}

// persistCmd is the one shell command that takes the backups recs need
// (only where none exists yet: the first original wins) and then appends
// recs to the journal. The state dir is 0700: backups of e.g. a sudoers
// file must stay as private as the original.
//
// markers are pending-handler files to create in the same round trip.
func persistCmd(stateDir string, recs []Record, markers []string) (string, error) {
	d := Quote(stateDir)
	cmds := []string{"set -e", "mkdir -p " + d + " && chmod 0700 " + d}
	if len(markers) > 0 {
		quoted := make([]string, len(markers))
		for i, m := range markers {
			quoted[i] = Quote(m)
		}
		cmds = append(cmds, "mkdir -p "+Quote(path.Join(stateDir, PendingDir))+" && touch "+strings.Join(quoted, " "))
	}
	lines := make([]string, 0, len(recs))
	for _, r := range recs {
		if r.Kind == RecordFileReplaced && r.Backup != "" {
			b := Quote(r.Backup)
			cmds = append(cmds, fmt.Sprintf("if [ ! -e %s ] && [ ! -L %s ]; then mkdir -p %s && cp -a -- %s %s; fi",
				b, b, Quote(path.Dir(r.Backup)), Quote(r.Path), b))
		}
		j, err := json.Marshal(r)
		if err != nil {
			return "", err
		}
		lines = append(lines, Quote(string(j)))
	}
	if len(lines) > 0 {
		cmds = append(cmds, "printf '%s\\n' "+strings.Join(lines, " ")+" >> "+Quote(JournalPath(stateDir)))
	}
	return strings.Join(cmds, "\n"), nil
}

// persist stamps recs (time, step title, backup path) and stores them on h.
func persist(ctx context.Context, h *Host, stateDir, step string, recs []Record, markers []string) error {
	now := time.Now().UTC()
	for i := range recs {
		recs[i].Time, recs[i].Step = now, step
		if recs[i].Kind == RecordFileReplaced && recs[i].Backup == "" {
			recs[i].Backup = BackupPath(stateDir, recs[i].Path)
		}
	}
	cmd, err := persistCmd(stateDir, recs, markers)
	if err != nil {
		return err
	}
	_, err = h.run(ctx, "record changes in "+JournalPath(stateDir), cmd)
	return err
}

type stateDirKey struct{}

// StateDir is the state directory of the run ctx belongs to, for steps
// that read what earlier runs journalled (DefaultStateDir outside a run).
func StateDir(ctx context.Context) string {
	if d, ok := ctx.Value(stateDirKey{}).(string); ok {
		return d
	}
	return defaultStateDir
}

func withStateDir(ctx context.Context, dir string) context.Context {
	return context.WithValue(ctx, stateDirKey{}, dir)
}

// JournalProbe is the read ReadJournal makes in stateDir ("": the
// default), for a step that declares its reads.
func JournalProbe(stateDir string) string {
	return probe.ReadCmd(JournalPath(Options{StateDir: stateDir}.StateDirOrDefault()))
}

// ReadJournal returns the records apply stored on the host behind conn;
// exists is false when there is no journal (apply never ran there, or
// teardown finished). A last line cut short (a run killed mid-append) is
// ignored; any other bad line is an error, never silently skipped.
func ReadJournal(ctx context.Context, conn remote.Conn, stateDir string) (recs []Record, exists bool, err error) {
	// A command, not SFTP: one round trip, in a batch when declared
	// (JournalProbe), instead of a subsystem and its open, read and close.
	data, ok, err := probe.ReadFile(ctx, conn, JournalPath(stateDir))
	if err != nil || !ok {
		return nil, false, err
	}
	lines := bytes.Split(data, []byte("\n"))
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(l, &r); err != nil {
			if i == len(lines)-1 {
				break // no newline yet: the append was cut short
			}
			return nil, true, fmt.Errorf("%s line %d: %w", JournalPath(stateDir), i+1, err)
		}
		recs = append(recs, r)
	}
	return recs, true, nil
}
