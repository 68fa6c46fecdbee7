package memcache

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Item is one key with what a restart would lose of it.
type Item struct {
	Key   string
	Flags uint32
	Exp   int64 // absolute Unix time it expires; 0 = never
	Value []byte
}

// Dump reads every key (lru_crawler metadump, memcached 1.4.31+) with its
// flags, expiry and value. Keys that vanish between the listing and the
// read are left out: they were deleted or expired meanwhile.
func (m *Memcache) Dump(ctx context.Context) ([]Item, error) {
	var metas []Item
	err := m.untilEnd(ctx, "lru_crawler metadump all", func(line string) error {
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
	if err != nil {
		return nil, err
	}
	out := metas[:0]
	for _, it := range metas {
		v, flags, found, err := m.Get(ctx, it.Key)
		if err != nil {
			return nil, err
		}
		if found {
			it.Value, it.Flags = v, flags
			out = append(out, it)
		}
	}
	return out, nil
}

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
		}
	}
	return it, haveKey
}

// Restore writes items back with `add`, so that a key written since (by
// MSM, newer than the dump) wins; expired items are skipped. It returns
// how many were added and how many were already there.
func (m *Memcache) Restore(ctx context.Context, items []Item, now time.Time) (added, kept int, err error) {
	for _, it := range items {
		if it.Exp != 0 && it.Exp <= now.Unix() {
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
