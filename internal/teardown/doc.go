// Package teardown undoes, host by host, what `clusterctl apply` recorded in
// the host's journal (engine.ReadJournal, under engine.DefaultStateDir).
//
// The journal is append-only and may hold several applies. Plan folds it
// into one undo per thing: for a path, the FIRST record says what the host
// had before apply ever touched it (absent, or the backed-up original), and
// every content apply wrote there is remembered so that a later hand edit
// can be told apart from apply's own writes. Undo order:
//
//  1. stop and disable the units apply started or enabled;
//  2. run the undo of every command apply ran that carries one (close the
//     firewall ports it opened, turn back an SELinux boolean, reinstall a
//     package it removed, give an account it modified its old home and
//     shell), newest first, each skipped when its guard says there is
//     nothing left to undo;
//  3. paths, in reverse order of their first record: restore a replaced
//     file from its backup (a hand-edited one is first kept aside as
//     <path>.clusterctl-edited-<time>), remove what apply created, repoint
//     symlinks, put back directory modes;
//  4. purge the packages apply installed (unless --keep-packages), after a
//     dry run: one whose removal would take along a package apply did not
//     install is kept, with the accounts packages made (cascade.go);
//  5. remove the users, then the groups, apply (or those packages) made;
//  6. restore the hostname and the timezone;
//  7. systemctl daemon-reload when a unit file or a package went (handler);
//  8. finally remove the state dir: the journal goes last, so a teardown
//     that failed half-way is simply run again.
//
// Every undo is an engine step (Check reads, Apply changes only what still
// differs), so teardown's output, --dry-run and -o json are apply's, and a
// second teardown finds no journal and says so.
package teardown
