// Package engine converges hosts: it runs plays (ordered steps plus
// handlers) against many hosts in parallel, where every step first reads the
// host's state and changes only what differs.
//
// The contract every step kind follows:
//
//   - Check reads and never writes. It returns nil when the host is already in
//     the wanted state, or a Change describing what would change and how.
//   - Apply is called only outside --dry-run, only after Check, and only when
//     Check returned a Change.
//   - A Change carries Records of what it does to the host (file created or
//     replaced, package installed, unit enabled, previous hostname, ...).
//     The runner stores them on the host before Apply (write-ahead, one
//     extra round trip per change, none for a no-op run, nothing in
//     dry-run) in Options.StateDir (DefaultStateDir): an append-only
//     journal.jsonl, and backup/<path> with the original of every file apply
//     replaces, copied once and never overwritten by a later run. Teardown
//     (internal/teardown) undoes the journal.
//   - Nothing that may carry a secret (sensitive file content, a command line)
//     is put in a Summary, a Diff or an error.
//
// Defaults worth knowing:
//
//   - DefaultParallel (10) hosts are converged at once when Options.Parallel
//     is 0: enough for a small cluster in one wave, low enough that a laptop's
//     SSH agent and the hosts' sshd MaxStartups (default 10) are not swamped.
//   - Package on apt runs `apt-get update` before installing only when no
//     package list under /var/lib/apt/lists is newer than Package.UpdateMaxAge
//     (DefaultAptMaxAge, 24h): fresh lab hosts have no lists at all, while a
//     re-run on a converged host must not hit the mirrors every time.
package engine
