package memcache

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Item is one key with what a restart would lose of it.
type Item struct {
	Key   string `json:"key"`
	Flags uint32 `json:"flags"`
	Exp   int64  `json:"exp"` // absolute Unix time (memcached's clock) it expires; 0 = never
	// CAS is memcached's version of the item: every write gives a new one,
	// so a key whose CAS changed since the dump was written anew.
	CAS   uint64 `json:"cas"`
	Value []byte `json:"value"`
}

// Dump reads every key (lru_crawler metadump, memcached 1.4.31+) with its
// flags, expiry, version and value. Keys that vanish between the listing
// and the read are left out: they were deleted or expired meanwhile.
func (m *Memcache) Dump(ctx context.Context) ([]Item, error) {
	out, _, err := m.CatchUp(ctx, nil)
	return out, err
}

// CatchUp brings a dump up to date: keys written since (a new CAS) are
// read again, keys gone are dropped, keys unchanged keep their value
// without a read. It returns the new dump and how many keys differed.
func (m *Memcache) CatchUp(ctx context.Context, items []Item) ([]Item, int, error) {
	old := make(map[string]Item, len(items))
	for _, it := range items {
		old[it.Key] = it
	}
	metas, err := m.list(ctx)
	if err != nil {
		return nil, 0, err
	}
	changed := len(items)
	out := metas[:0]
	for _, it := range metas {
		if o, ok := old[it.Key]; ok && o.CAS == it.CAS && it.CAS != 0 {
			out = append(out, o)
			changed--
			continue
		}
		v, flags, cas, found, err := m.Gets(ctx, it.Key)
		if err != nil {
			return nil, 0, err
		}
		if found {
			it.Value, it.Flags, it.CAS = v, flags, cas
			out = append(out, it)
			if _, ok := old[it.Key]; !ok {
				changed++
			}
		}
	}
	return out, changed, nil
}

// Keys is every key's metadata (no value), read-only.
func (m *Memcache) Keys(ctx context.Context) ([]Item, error) { return m.list(ctx) }

// list is every key's metadata; a crawler busy with another request is
// asked again for a while.
func (m *Memcache) list(ctx context.Context) ([]Item, error) {
	for try := 0; ; try++ {
		var metas []Item
		busy := false
		err := m.untilEnd(ctx, "lru_crawler metadump all", func(line string) error {
			if strings.HasPrefix(line, "BUSY") && try < 20 {
				busy = true
				return errBusy
			}
			if strings.HasPrefix(line, "ERROR") || strings.HasPrefix(line, "BUSY") || strings.HasPrefix(line, "CLIENT_ERROR") {
				return replyError("lru_crawler metadump", line)
			}
			it, ok := parseMeta(line)
			if !ok {
				return replyError("lru_crawler metadump", line)
			}
			metas = append(metas, it)
			return nil
		})
		if !busy {
			return metas, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var errBusy = errors.New("busy")

// parseMeta reads "key=<urlencoded> exp=<unix|-1> la=... cas=... ...".
func parseMeta(line string) (Item, bool) {
	var it Item
	var haveKey bool
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "key":
			key, err := url.QueryUnescape(v)
			if err != nil {
				return it, false
			}
			it.Key, haveKey = key, true
		case "exp":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return it, false
			}
			if n > 0 {
				it.Exp = n
			}
		case "cas":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return it, false
			}
			it.CAS = n
		}
	}
	return it, haveKey
}

// Restore writes items back with `add`, so that a key written since (by
// MSM, newer than the dump) wins; items expired by now (memcached's own
// clock, as their Exp is) are skipped. It returns how many were added and
// how many were already there.
func (m *Memcache) Restore(ctx context.Context, items []Item, now int64) (added, kept int, err error) {
	for _, it := range items {
		if it.Exp != 0 && it.Exp <= now {
			continue
		}
		stored, err := m.Add(ctx, it.Key, it.Flags, it.Exp, it.Value)
		if err != nil {
			return added, kept, err
		}
		if stored {
			added++
		} else {
			kept++
		}
	}
	return added, kept, nil
}

// Add stores value under key unless the key exists. exp is an absolute
// Unix time (memcached reads values over 30 days as such) or 0.
func (m *Memcache) Add(ctx context.Context, key string, flags uint32, exp int64, value []byte) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	var stored bool
	err := m.do(ctx, func() error {
		if _, err := fmt.Fprintf(m.c, "add %s %d %d %d\r\n", key, flags, exp, len(value)); err != nil {
			return err
		}
		if _, err := m.c.Write(append(append([]byte(nil), value...), '\r', '\n')); err != nil {
			return err
		}
		line, err := m.line()
		if err != nil {
			return err
		}
		switch line {
		case "STORED":
			stored = true
		case "NOT_STORED":
		default:
			return replyError("add", line)
		}
		return nil
	})
	return stored, err
}
