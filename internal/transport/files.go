package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/checksum"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// DefaultFileMode is used when FileMeta.Mode is 0 (a file nobody may read
// is never what a play means).
const DefaultFileMode fs.FileMode = 0o644

// sftpConcurrency: parallel write requests per transfer, so throughput is
// not one 32 KiB packet per round trip. Safe: the temp file is renamed
// only after every write succeeded.
const sftpConcurrency = 64

// absentExit is the exit status the read script uses for "no such file".
const absentExit = 3

// ReadFile returns path's content; exists is false when it is absent.
// Retried once on a fresh connection if the connection was lost.
func (c *Client) ReadFile(ctx context.Context, p string) (data []byte, exists bool, err error) {
	err = c.retry(ctx, func(cn *conn) error {
		data, exists, err = c.readOn(ctx, cn, p)
		return err
	})
	if err != nil {
		return nil, false, c.fail(err, "read "+p)
	}
	return data, exists, nil
}

func (c *Client) readOn(ctx context.Context, cn *conn, p string) ([]byte, bool, error) {
	if c.sudo {
		// The login user may not be allowed to read it: cat as root.
		q := remote.ShellQuote(p)
		res, err := c.runOn(ctx, cn, c.asRoot(fmt.Sprintf("[ -e %s ] || exit %d; exec cat -- %s", q, absentExit, q)))
		switch {
		case err != nil:
			return nil, false, err
		case res.ExitCode == absentExit:
			return nil, false, nil
		case !res.OK():
			return nil, false, c.exitError(res, "cat")
		}
		return []byte(res.Stdout), true, nil
	}
	sc, err := cn.sftpClient()
	if err != nil {
		return nil, false, err
	}
	f, err := sc.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, false, err
	}
	return buf.Bytes(), true, nil
}

// WriteFile replaces path atomically with data, mode and owner: a reader
// sees the old file or the new one, never a partial one. Retried once on a
// fresh connection if the connection was lost (safe: nothing is replaced
// until the final rename).
func (c *Client) WriteFile(ctx context.Context, p string, data []byte, meta remote.FileMeta) error {
	err := c.retry(ctx, func(cn *conn) error {
		if c.sudoPass == "" {
			return c.writeByCommand(ctx, cn, p, data, meta)
		}
		// sudo -S reads its password from the same stdin: were a rule to
		// let the user in without one, the line would land in the file.
		return c.writeOn(ctx, cn, p, bytes.NewReader(data), meta)
	})
	if err != nil {
		return c.fail(err, "write "+p)
	}
	return nil
}

// Upload copies localPath to path atomically unless the remote file
// already has the same SHA-256; then only a wrong mode or owner is fixed.
// changed reports whether anything was transferred or fixed.
func (c *Client) Upload(ctx context.Context, localPath, p string, meta remote.FileMeta) (changed bool, err error) {
	sum, size, err := localSHA256(localPath)
	if err != nil {
		return false, c.errorf(err, "upload %s: %v", localPath, err)
	}
	err = c.retry(ctx, func(cn *conn) error {
		st, err := c.remoteState(ctx, cn, p)
		if err != nil {
			return err
		}
		if st.exists && st.sha256 == sum {
			fix := metaFix(st, meta, p)
			if fix == "" {
				changed = false
				return nil
			}
			res, err := c.runOn(ctx, cn, c.asRoot(fix))
			if err != nil {
				return err
			}
			if !res.OK() {
				return c.exitError(res, "fix mode/owner")
			}
			changed = true
			return nil
		}
		f, err := os.Open(localPath)
		if err != nil {
			return err
		}
		defer f.Close()
		r := newProgress(c.cfg.Progress, c.cfg.Host+": upload "+filepath.Base(localPath), size, f)
		if tr := remote.TransferFrom(ctx); tr != nil {
			tr.Begin(size)
			r = countingReader{r, tr}
		}
		if err := c.writeOn(ctx, cn, p, r, meta); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, c.fail(err, "upload "+p)
	}
	return changed, nil
}

// writeByCommand writes data through one command's stdin: a temp file
// next to p, its owner, its mode, then the rename over p, as writeOn does
// over SFTP. One command is two round trips; SFTP's create, write, close,
// chmod and rename are five or more, for every file a run writes.
func (c *Client) writeByCommand(ctx context.Context, cn *conn, p string, data []byte, meta remote.FileMeta) error {
	tmp := remote.ShellQuote(tempName(p))
	dir := remote.ShellQuote(path.Dir(p))
	script := "{ [ -d " + dir + " ] || { echo " + dir + ": directory does not exist >&2; exit 1; }; } && umask 077 && cat > " + tmp
	if own := chownCmd(meta, tmp); own != "" {
		script += " && " + own // before chmod: chown clears setuid/setgid
	}
	script += fmt.Sprintf(" && chmod %04o -- %s && mv -f -- %s %s || { rm -f -- %s; exit 1; }",
		unixMode(meta), tmp, tmp, remote.ShellQuote(p), tmp)
	inv := c.asRoot(script)
	inv.stdin = string(data)
	res, err := c.runOn(ctx, cn, inv)
	if err != nil {
		return err
	}
	if !res.OK() {
		return c.exitError(res, "write")
	}
	return nil
}

// writeOn writes r to a temp file next to path, sets mode and owner, then
// renames it over path.
func (c *Client) writeOn(ctx context.Context, cn *conn, p string, r io.Reader, meta remote.FileMeta) error {
	if c.sudo {
		return c.writeViaSudo(ctx, cn, p, r, meta)
	}
	sc, err := cn.sftpClient()
	if err != nil {
		return err
	}
	tmp := tempName(p)
	if err := c.sftpCreate(cn, tmp, r); err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			sc.Remove(tmp) // best effort: the connection may be gone
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	// chown before chmod: chown clears setuid/setgid bits.
	if own := chownCmd(meta, remote.ShellQuote(tmp)); own != "" {
		res, err := c.runOn(ctx, cn, plain(own))
		if err != nil {
			return err
		}
		if !res.OK() {
			return c.exitError(res, "set owner")
		}
	}
	if err := sc.Chmod(tmp, fileMode(meta)); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	// posix-rename replaces the target atomically; plain SFTP rename
	// refuses an existing target, so fall back to mv(1).
	if _, ok := sc.HasExtension("posix-rename@openssh.com"); ok {
		err = sc.PosixRename(tmp, p)
	} else {
		var res remote.Result
		res, err = c.runOn(ctx, cn, plain("mv -f -- "+remote.ShellQuote(tmp)+" "+remote.ShellQuote(p)))
		if err == nil && !res.OK() {
			err = c.exitError(res, "rename")
		}
	}
	if err != nil {
		return fmt.Errorf("rename %s to %s: %w", path.Base(tmp), path.Base(p), err)
	}
	done = true
	return nil
}

// writeViaSudo stages the data in the login's home directory (the only
// place it can surely write), then root copies it to a temp file next to
// path, sets mode and owner there and renames it into place.
func (c *Client) writeViaSudo(ctx context.Context, cn *conn, p string, r io.Reader, meta remote.FileMeta) error {
	sc, err := cn.sftpClient()
	if err != nil {
		return err
	}
	home, err := cn.homeDir()
	if err != nil {
		return err
	}
	stage := path.Join(home, ".clusterctl-"+randomSuffix()+".tmp")
	if err := c.sftpCreate(cn, stage, r); err != nil {
		return err
	}
	defer sc.Remove(stage)
	if err := ctx.Err(); err != nil {
		return err
	}

	tmp := remote.ShellQuote(tempName(p))
	script := fmt.Sprintf("umask 077 && cp -- %s %s", remote.ShellQuote(stage), tmp)
	if own := chownCmd(meta, tmp); own != "" {
		script += " && " + own // before chmod: chown clears setuid/setgid
	}
	script += fmt.Sprintf(" && chmod %04o -- %s && mv -f -- %s %s || { rm -f -- %s; exit 1; }",
		unixMode(meta), tmp, tmp, remote.ShellQuote(p), tmp)
	res, err := c.runOn(ctx, cn, c.asRoot(script))
	if err != nil {
		return err
	}
	if !res.OK() {
		return c.exitError(res, "install")
	}
	return nil
}

// sftpCreate creates name exclusively, private until the final chmod (the
// content may be a secret), and fills it from r.
func (c *Client) sftpCreate(cn *conn, name string, r io.Reader) error {
	sc, err := cn.sftpClient()
	if err != nil {
		return err
	}
	f, err := sc.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if err := sc.Chmod(name, 0o600); err != nil {
		f.Close()
		sc.Remove(name)
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	if _, err := f.ReadFromWithConcurrency(r, sftpConcurrency); err != nil {
		f.Close()
		sc.Remove(name)
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		sc.Remove(name)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// remoteFile is what Upload compares against.
type remoteFile struct {
	exists       bool
	sha256       string
	mode         uint32
	owner, group string
}

func (c *Client) remoteState(ctx context.Context, cn *conn, p string) (remoteFile, error) {
	q := remote.ShellQuote(p)
	script := fmt.Sprintf("if [ -f %s ]; then sha256sum -- %s && stat -c '%%a %%U %%G' -- %s; else echo absent; fi", q, q, q)
	res, err := c.runOn(ctx, cn, c.asRoot(script))
	if err != nil {
		return remoteFile{}, err
	}
	if !res.OK() {
		return remoteFile{}, c.exitError(res, "checksum")
	}
	return parseRemoteState(res.Stdout)
}

// parseRemoteState reads "absent", or sha256sum's line then "mode owner group".
func parseRemoteState(out string) (remoteFile, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 1 && lines[0] == "absent" {
		return remoteFile{}, nil
	}
	if len(lines) != 2 {
		return remoteFile{}, fmt.Errorf("unexpected checksum output %q", out)
	}
	sum := strings.Fields(lines[0])
	st := strings.Fields(lines[1])
	if len(sum) == 0 || len(st) != 3 {
		return remoteFile{}, fmt.Errorf("unexpected checksum output %q", out)
	}
	mode, err := strconv.ParseUint(st[0], 8, 32)
	if err != nil {
		return remoteFile{}, fmt.Errorf("unexpected mode %q", st[0])
	}
	// sha256sum prefixes the line with "\" when the name needed escaping.
	return remoteFile{
		exists: true,
		sha256: strings.TrimPrefix(sum[0], `\`),
		mode:   uint32(mode),
		owner:  st[1],
		group:  st[2],
	}, nil
}

// metaFix is the command fixing mode/owner of an up-to-date file, or "".
func metaFix(st remoteFile, meta remote.FileMeta, p string) string {
	q := remote.ShellQuote(p)
	var cmds []string
	want := meta
	if want.Owner == st.owner {
		want.Owner = ""
	}
	if want.Group == st.group {
		want.Group = ""
	}
	own := chownCmd(want, q)
	if own != "" {
		cmds = append(cmds, own)
	}
	// chown clears setuid/setgid, so chmod after it, and also whenever
	// the owner changed even if the mode looked right before.
	if st.mode != unixMode(meta) || (own != "" && unixMode(meta)&0o6000 != 0) {
		cmds = append(cmds, fmt.Sprintf("chmod %04o -- %s", unixMode(meta), q))
	}
	return strings.Join(cmds, " && ")
}

// chownCmd sets the owner and/or group of the already quoted path, or "".
// A group alone uses chgrp: ":group" is not POSIX chown syntax.
func chownCmd(meta remote.FileMeta, quoted string) string {
	switch {
	case meta.Owner != "" && meta.Group != "":
		return "chown -- " + remote.ShellQuote(meta.Owner+":"+meta.Group) + " " + quoted
	case meta.Owner != "":
		return "chown -- " + remote.ShellQuote(meta.Owner) + " " + quoted
	case meta.Group != "":
		return "chgrp -- " + remote.ShellQuote(meta.Group) + " " + quoted
	}
	return ""
}

// fileMode is meta's mode with the default applied.
func fileMode(meta remote.FileMeta) fs.FileMode {
	if meta.Mode == 0 {
		return DefaultFileMode
	}
	return meta.Mode
}

// unixMode is the octal mode meta asks for (0644 when unset).
func unixMode(meta remote.FileMeta) uint32 { return remote.UnixMode(fileMode(meta)) }

// tempName is the temp file next to p: same directory, so the rename is
// atomic (same filesystem).
func tempName(p string) string { return p + ".tmp-" + randomSuffix() }

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func localSHA256(name string) (sum string, size int64, err error) {
	sum, size, err = checksum.File(name, sha256.New())
	return sum, size, unwrapPathError(err)
}

// exitError reports a failed helper command by purpose; a sudo refusal
// gets its own clear message.
func (c *Client) exitError(res remote.Result, what string) error {
	if c.sudo && sudoRefused(res.Stderr) {
		return c.sudoError(res)
	}
	return res.ExitError(what)
}

// fail prefixes err with the host and purpose, unless it already is one
// of ours (redial failures, sudo refusals).
func (c *Client) fail(err error, what string) error {
	var te *Error
	if errors.As(err, &te) {
		return err
	}
	return c.errorf(err, "%s: %v", what, err)
}

// countingReader keeps a remote.Transfer current as an upload reads its file.
type countingReader struct {
	r  io.Reader
	tr *remote.Transfer
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.tr.Add(int64(n))
	return n, err
}
