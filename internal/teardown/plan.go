package teardown

import (
	"slices"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// Plan is a host's journal folded into what to undo, in undo order.
type Plan struct {
	Services []ServiceUndo
	Commands []CommandUndo // reverse order of first appearance
	Paths    []PathUndo    // reverse order of first appearance
	Packages []string      // installed by apply (dependencies included)
	Users    []UserUndo
	Groups   []UserUndo // Home is always empty
	// Hostname and Timezone are the values before the first apply; nil
	// when apply never changed them.
	Hostname *string
	Timezone *string
}

// ServiceUndo is a unit apply started and/or enabled.
type ServiceUndo struct {
	Name          string
	Stop, Disable bool
}

// CommandUndo reverses a command apply ran (a firewall port it opened).
type CommandUndo struct {
	Name        string // the command's label
	Cmd, Unless string // the undo and its guard (skip when it exits 0)
}

// PathUndo puts one path back as the first record found it.
type PathUndo struct {
	First engine.Record // kind says what the path was before apply
	// Written holds the SHA-256 of every content apply wrote to the path:
	// a current content outside this set (and not the original) is a hand
	// edit.
	Written []string
}

// Path is the path the undo acts on.
func (p PathUndo) Path() string { return p.First.Path }

// UserUndo is an account (or a group) apply (or a package it installed) created.
type UserUndo struct {
	Name string
	Home string // remove too: apply made it
	// ByPackage: made by a package's scripts; kept with --keep-packages.
	ByPackage bool
}

// Empty reports whether there is nothing to undo.
func (p Plan) Empty() bool {
	return len(p.Services)+len(p.Commands)+len(p.Paths)+len(p.Packages)+len(p.Users)+len(p.Groups) == 0 && p.Hostname == nil && p.Timezone == nil
}

// NewPlan folds records (oldest first) into a Plan.
func NewPlan(recs []engine.Record) Plan {
	var p Plan
	paths := map[string]int{} // path -> index in p.Paths (oldest first for now)
	services := map[string]int{}
	seen := map[string]bool{} // kind+name, for commands, packages, users, groups
	for _, r := range recs {
		switch r.Kind {
		case engine.RecordFileCreated, engine.RecordFileReplaced, engine.RecordDirCreated, engine.RecordDirChanged,
			engine.RecordSymlinkCreated, engine.RecordSymlinkReplaced, engine.RecordCommandCreated:
			i, ok := paths[r.Path]
			if !ok {
				i = len(p.Paths)
				paths[r.Path] = i
				p.Paths = append(p.Paths, PathUndo{First: r})
			}
			if r.SHA256 != "" && !slices.Contains(p.Paths[i].Written, r.SHA256) {
				p.Paths[i].Written = append(p.Paths[i].Written, r.SHA256)
			}
		case engine.RecordServiceEnabled, engine.RecordServiceStarted:
			i, ok := services[r.Name]
			if !ok {
				i = len(p.Services)
				services[r.Name] = i
				p.Services = append(p.Services, ServiceUndo{Name: r.Name})
			}
			if r.Kind == engine.RecordServiceStarted {
				p.Services[i].Stop = true
			} else {
				p.Services[i].Disable = true
			}
		case engine.RecordCommandRan:
			if !seen["c "+r.Undo] {
				seen["c "+r.Undo] = true
				p.Commands = append(p.Commands, CommandUndo{Name: r.Name, Cmd: r.Undo, Unless: r.UndoUnless})
			}
		case engine.RecordPackageInstalled:
			if !seen["p "+r.Name] {
				seen["p "+r.Name] = true
				p.Packages = append(p.Packages, r.Name)
			}
		case engine.RecordUserCreated:
			if !seen["u "+r.Name] {
				seen["u "+r.Name] = true
				p.Users = append(p.Users, UserUndo{Name: r.Name, Home: r.Path, ByPackage: r.Via == engine.ViaPackage})
			}
		case engine.RecordGroupCreated:
			if !seen["g "+r.Name] {
				seen["g "+r.Name] = true
				p.Groups = append(p.Groups, UserUndo{Name: r.Name, ByPackage: r.Via == engine.ViaPackage})
			}
		case engine.RecordHostname:
			if p.Hostname == nil {
				v := r.Previous
				p.Hostname = &v
			}
		case engine.RecordTimezone:
			if p.Timezone == nil {
				v := r.Previous
				p.Timezone = &v
			}
		}
	}
	// Last in, first out: a file inside a directory apply created goes
	// before the directory; a unit stops before its file goes.
	slices.Reverse(p.Paths)
	slices.Reverse(p.Services)
	slices.Reverse(p.Commands)
	slices.Reverse(p.Users)
	slices.Reverse(p.Groups)
	return p
}
