package engine

import "time"

// RecordKind names what a step did to a host, so that teardown can undo it.
type RecordKind string

// The kinds of Record. Each says what the host looked like BEFORE the
// change, because that is what teardown puts back.
const (
	RecordFileCreated      RecordKind = "file_created"      // Path was absent; SHA256 is what apply wrote
	RecordFileReplaced     RecordKind = "file_replaced"     // Path existed; Backup holds the original, SHA256 what apply wrote
	RecordDirCreated       RecordKind = "dir_created"       // Path (the topmost missing ancestor) was absent
	RecordDirChanged       RecordKind = "dir_changed"       // Path existed with Mode/Owner/Group
	RecordSymlinkCreated   RecordKind = "symlink_created"   // Path was absent; Target is the new target
	RecordSymlinkReplaced  RecordKind = "symlink_replaced"  // Path pointed to Previous
	RecordPackageInstalled RecordKind = "package_installed" // Name was not installed (dependencies included)
	RecordUserCreated      RecordKind = "user_created"      // user Name did not exist; Path is its home when apply made one
	RecordGroupCreated     RecordKind = "group_created"     // group Name did not exist (made by a package or useradd)
	RecordServiceEnabled   RecordKind = "service_enabled"   // unit Name was not enabled
	RecordServiceStarted   RecordKind = "service_started"   // unit Name was not running
	RecordHostname         RecordKind = "hostname"          // the kernel hostname was Previous
	RecordTimezone         RecordKind = "timezone"          // the timezone was Previous
	RecordCommandCreated   RecordKind = "command_created"   // a guarded Command made Path, which was absent
	RecordCommandRan       RecordKind = "command_ran"       // Command Name ran; Undo reverses it unless UndoUnless exits 0
)

// Record is one line of a host's journal. Steps fill in what they know in
// Check (write-ahead: the runner stores the records, and takes the backups,
// before Apply runs), and may add records from Apply (what a package
// install pulled in). The runner stamps Time and Step.
type Record struct {
	Kind     RecordKind `json:"kind"`
	Path     string     `json:"path,omitempty"`
	Name     string     `json:"name,omitempty"`
	SHA256   string     `json:"sha256,omitempty"`   // content apply writes to Path (hex)
	Backup   string     `json:"backup,omitempty"`   // file_replaced: copy of the original (set by the runner)
	Target   string     `json:"target,omitempty"`   // symlinks: the target apply sets
	Previous string     `json:"previous,omitempty"` // symlink target, hostname or timezone before apply
	Mode     string     `json:"mode,omitempty"`     // dir_changed: octal mode before apply
	Owner    string     `json:"owner,omitempty"`    // dir_changed
	Group    string     `json:"group,omitempty"`    // dir_changed
	// Undo and UndoUnless: command_ran's reversal and its guard.
	Undo       string `json:"undo,omitempty"`
	UndoUnless string `json:"undo_unless,omitempty"`
	// Via is "package" for what a package install brought along (its
	// dependencies, the users its scripts made): --keep-packages keeps those.
	Via  string    `json:"via,omitempty"`
	Time time.Time `json:"time"`
	Step string    `json:"step,omitempty"`
}
