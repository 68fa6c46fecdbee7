package engine

import (
	"context"
	"fmt"
	"strings"
)

// User makes sure a local account exists. An existing account is only
// changed where Home or Shell are set explicitly and differ; the family's
// nologin shell is the default for creating system users only, so accounts
// made by packages keep their shell.
type User struct {
	Name       string
	System     bool   // useradd -r: system uid range, no aging
	Home       string // "" leaves useradd's default
	Shell      string // "" means nologin for system users, useradd's default otherwise
	CreateHome bool   // -m; otherwise -M (system users' homes are usually made by a Directory step)
	Label      string // title override; default "user <Name>"
}

func (u User) Title() string {
	if u.Label != "" {
		return u.Label
	}
	return "user " + u.Name
}

func (u User) queryCmd() string { return "getent passwd " + Quote(u.Name) }

func (u User) Probes(*Host) []string { return []string{u.queryCmd()} }

func (u User) Check(ctx context.Context, h *Host) (*Change, error) {
	// getent answers existence, home and shell in one read; exit 2 means
	// no such user.
	res, err := h.Conn.Run(ctx, u.queryCmd())
	if err != nil {
		return nil, fmt.Errorf("query user %s: %w", u.Name, err)
	}
	var cmd, summary string
	var recs []Record
	switch res.ExitCode {
	case 2:
		if cmd, err = userAddCmd(h.Facts, u); err != nil {
			return nil, err
		}
		summary = "create user " + u.Name
		rec := Record{Kind: RecordUserCreated, Name: u.Name}
		if u.CreateHome { // teardown removes the home useradd -m makes
			rec.Path = u.Home
			if rec.Path == "" {
				rec.Path = "/home/" + u.Name // useradd's HOME default on both families
			}
		}
		recs = append(recs, rec)
	case 0:
		f := strings.Split(strings.TrimSpace(res.Stdout), ":")
		if len(f) < 7 {
			return nil, fmt.Errorf("query user %s: unexpected getent output %q", u.Name, res.Stdout)
		}
		cmd = userModCmd(u, f[5], f[6])
		if cmd == "" {
			return nil, nil
		}
		summary = fmt.Sprintf("modify user %s (home %s, shell %s)", u.Name, f[5], f[6])
		recs = append(recs, userRestoreRecord(u.Name, f[5], f[6]))
	default:
		return nil, res.ExitError("query user " + u.Name)
	}
	return &Change{
		Summary: summary,
		Records: recs,
		Apply: func(ctx context.Context) error {
			_, err := h.run(ctx, summary, cmd)
			return err
		},
	}, nil
}

// userAddCmd is the useradd line for u on a host of facts f.
func userAddCmd(f Facts, u User) (string, error) {
	shell := u.Shell
	if shell == "" && u.System {
		var err error
		if shell, err = f.NologinShell(); err != nil {
			return "", err
		}
	}
	args := []string{"useradd"}
	if u.System {
		args = append(args, "-r")
	}
	if u.CreateHome {
		args = append(args, "-m")
	} else {
		args = append(args, "-M")
	}
	if u.Home != "" {
		args = append(args, "-d", Quote(u.Home))
	}
	if shell != "" {
		args = append(args, "-s", Quote(shell))
	}
	return strings.Join(append(args, Quote(u.Name)), " "), nil
}

// userModCmd fixes the explicitly wanted fields that differ; "" when none.
func userModCmd(u User, home, shell string) string {
	var args []string
	if u.Home != "" && u.Home != home {
		args = append(args, "-d", Quote(u.Home))
	}
	if u.Shell != "" && u.Shell != shell {
		args = append(args, "-s", Quote(u.Shell))
	}
	if len(args) == 0 {
		return ""
	}
	return "usermod " + strings.Join(args, " ") + " " + Quote(u.Name)
}

// userRestoreRecord makes teardown put an account apply modified back to
// the home and shell it had; nothing to do once they are back or the
// account is gone.
func userRestoreRecord(name, home, shell string) Record {
	n := Quote(name)
	return Record{
		Kind:       RecordCommandRan,
		Name:       "modify user " + name,
		Undo:       "usermod -d " + Quote(home) + " -s " + Quote(shell) + " " + n,
		UndoUnless: "! getent passwd " + n + " >/dev/null || [ \"$(getent passwd " + n + " | cut -d: -f6-7)\" = " + Quote(home+":"+shell) + " ]",
	}
}
