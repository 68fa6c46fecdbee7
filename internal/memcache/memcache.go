package memcache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// Memcache speaks memcached's text protocol over any net.Conn (an SSH
// tunnel in practice), so no tool is needed on the hosts. It is not safe
// for concurrent use. Every call is bounded by its context: tunnels do not
// support deadlines, so a cancelled context closes the connection.
type Memcache struct {
	c net.Conn
	r *bufio.Reader
}

// New wraps c; Close closes c.
func New(c net.Conn) *Memcache { return &Memcache{c: c, r: bufio.NewReader(c)} }

// Close closes the connection.
func (m *Memcache) Close() error { return m.c.Close() }

// Version sends "version": the cheapest proof that a memcached answers.
func (m *Memcache) Version(ctx context.Context) (string, error) {
	var v string
	err := m.do(ctx, func() error {
		if _, err := io.WriteString(m.c, "version\r\n"); err != nil {
			return err
		}
		line, err := m.line()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "VERSION ") {
			return replyError("version", line)
		}
		v = strings.TrimPrefix(line, "VERSION ")
		return nil
	})
	return v, err
}

// Get reads one key. found is false when memcached has no such key.
func (m *Memcache) Get(ctx context.Context, key string) (value []byte, flags uint32, found bool, err error) {
	value, flags, _, found, err = m.get(ctx, "get", key)
	return value, flags, found, err
}

// Gets is Get with the item's CAS (its version).
func (m *Memcache) Gets(ctx context.Context, key string) (value []byte, flags uint32, cas uint64, found bool, err error) {
	return m.get(ctx, "gets", key)
}

func (m *Memcache) get(ctx context.Context, verb, key string) (value []byte, flags uint32, cas uint64, found bool, err error) {
	if err := checkKey(key); err != nil {
		return nil, 0, 0, false, err
	}
	err = m.untilEnd(ctx, verb+" "+key, func(line string) error {
		// VALUE <key> <flags> <bytes> [<cas>]
		f := strings.Fields(line)
		if len(f) < 4 || f[0] != "VALUE" || verb == "gets" && len(f) < 5 {
			return replyError(verb, line)
		}
		fl, err1 := strconv.ParseUint(f[2], 10, 32)
		n, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || n < 0 {
			return replyError(verb, line)
		}
		if verb == "gets" {
			c, err := strconv.ParseUint(f[4], 10, 64)
			if err != nil {
				return replyError(verb, line)
			}
			cas = c
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(m.r, buf); err != nil {
			return err
		}
		if string(buf[n:]) != "\r\n" {
			return errors.New("memcached: get: value not followed by CRLF")
		}
		if f[1] == key {
			value, flags, found = buf[:n], uint32(fl), true
		}
		return nil
	})
	return value, flags, cas, found, err
}

// Stats is memcached's `stats`: "time" (its clock), "curr_items",
// "evictions", "curr_connections", "pid", ...
func (m *Memcache) Stats(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := m.untilEnd(ctx, "stats", func(line string) error {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "STAT" {
			return replyError("stats", line)
		}
		out[f[1]] = f[2]
		return nil
	})
	return out, err
}

// untilEnd sends cmd and hands each reply line to each until memcached's
// END: the shape of every multi-line reply (get, lru_crawler metadump).
func (m *Memcache) untilEnd(ctx context.Context, cmd string, each func(line string) error) error {
	return m.do(ctx, func() error {
		if _, err := io.WriteString(m.c, cmd+"\r\n"); err != nil {
			return err
		}
		for {
			line, err := m.line()
			if err != nil {
				return err
			}
			if line == "END" {
				return nil
			}
			if err := each(line); err != nil {
				return err
			}
		}
	})
}

// do runs one exchange, closing the connection if ctx ends first.
func (m *Memcache) do(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { m.c.Close() })
	err := f()
	if !stop() {
		return fmt.Errorf("memcached: %w", ctx.Err())
	}
	if err != nil && !strings.HasPrefix(err.Error(), "memcached:") {
		err = fmt.Errorf("memcached: %w", err)
	}
	return err
}

func (m *Memcache) line() (string, error) {
	l, err := m.r.ReadString('\n')
	if err != nil {
		if err == io.EOF {
			return "", errors.New("connection closed by memcached")
		}
		return "", err
	}
	return strings.TrimRight(l, "\r\n"), nil
}

func replyError(cmd, line string) error {
	return fmt.Errorf("memcached: %s: unexpected reply %q", cmd, line)
}

// checkKey refuses what the text protocol cannot carry, so a bad key fails
// here instead of desynchronising the connection.
func checkKey(key string) error {
	if key == "" || len(key) > 250 {
		return fmt.Errorf("memcached: key length %d not in 1..250", len(key))
	}
	for _, c := range []byte(key) {
		if c <= ' ' || c == 0x7f {
			return fmt.Errorf("memcached: key %q holds a space or control character", key)
		}
	}
	return nil
}
