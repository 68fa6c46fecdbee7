package memcache

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/memcache/memcachetest"
)

// A hand-off through a real memcached: dump, empty it (as a restart
// would), restore; every key comes back byte for byte with its flags and
// expiry, except one MSM wrote anew meanwhile, whose newer value wins.
func TestDumpAndRestoreRoundTrip(t *testing.T) {
	addr := memcachetest.Start(t)
	ctx := context.Background()
	m := dialMC(t, addr)
	value := []byte("\x00\x02header\r\nEND\r\n\xff")
	exp := time.Now().Add(30 * time.Minute).Unix()
	for i, k := range []string{"A-n2.t58", "B-n2.t58", "C-n1.t68"} {
		if ok, err := m.Add(ctx, k, uint32(i), exp, append([]byte(k), value...)); err != nil || !ok {
			t.Fatalf("Add %s: %v %v", k, ok, err)
		}
	}
	if ok, _ := m.Add(ctx, "A-n2.t58", 0, 0, []byte("x")); ok {
		t.Fatal("Add over an existing key stored")
	}
	items, err := m.Dump(ctx)
	if err != nil || len(items) != 3 {
		t.Fatalf("Dump: %d items, %v", len(items), err)
	}
	for _, it := range items {
		if it.Exp < exp-2 || it.Exp > exp+2 || !bytes.HasSuffix(it.Value, value) {
			t.Errorf("dumped %s: exp %d (want ~%d), value %q", it.Key, it.Exp, exp, it.Value)
		}
	}
	if _, err := m.c.Write([]byte("flush_all\r\n")); err != nil {
		t.Fatal(err)
	}
	if l, _ := m.line(); l != "OK" {
		t.Fatalf("flush_all: %q", l)
	}
	memcachetest.Set(t, addr, "B-n2.t58", 7, []byte("newer")) // MSM's write after the restart
	added, kept, err := m.Restore(ctx, items, time.Now().Unix())
	if err != nil || added != 2 || kept != 1 {
		t.Fatalf("Restore: added %d kept %d, %v; want 2 and 1", added, kept, err)
	}
	for _, it := range items {
		v, flags, found, _ := m.Get(ctx, it.Key)
		if it.Key == "B-n2.t58" {
			if string(v) != "newer" || flags != 7 {
				t.Errorf("the newer write lost: %q %d", v, flags)
			}
			continue
		}
		if !found || !bytes.Equal(v, it.Value) || flags != it.Flags {
			t.Errorf("%s after restore: found %v flags %d value %q", it.Key, found, flags, v)
		}
	}
	// Expired items are not brought back.
	if added, _, _ := m.Restore(ctx, []Item{{Key: "old", Exp: time.Now().Add(-time.Minute).Unix(), Value: []byte("x")}}, time.Now().Unix()); added != 0 {
		t.Error("an expired item was restored")
	}
}

// A key written after the dump (a new CAS), one written for the first time
// and one deleted are all caught up with; an unchanged key is not read
// again. Without the CAS comparison the written-anew key would be restored
// in its older version: a session going back in time.
func TestCatchUpSeesWritesAfterTheDump(t *testing.T) {
	addr := memcachetest.Start(t)
	ctx := context.Background()
	m := dialMC(t, addr)
	for _, k := range []string{"same", "rewritten", "deleted"} {
		memcachetest.Set(t, addr, k, 0, []byte(k+"-v1"))
	}
	items, err := m.Dump(ctx)
	if err != nil || len(items) != 3 {
		t.Fatalf("Dump: %d items, %v", len(items), err)
	}
	memcachetest.Set(t, addr, "rewritten", 0, []byte("rewritten-v2"))
	memcachetest.Set(t, addr, "new", 0, []byte("new-v1"))
	if _, err := m.c.Write([]byte("delete deleted\r\n")); err != nil {
		t.Fatal(err)
	}
	if l, _ := m.line(); l != "DELETED" {
		t.Fatalf("delete: %q", l)
	}
	got, changed, err := m.CatchUp(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, it := range got {
		values[it.Key] = string(it.Value)
	}
	want := map[string]string{"same": "same-v1", "rewritten": "rewritten-v2", "new": "new-v1"}
	if len(values) != len(want) || changed != 3 {
		t.Fatalf("CatchUp: %v (%d changed), want %v (3 changed)", values, changed, want)
	}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("CatchUp: %s = %q, want %q", k, values[k], v)
		}
	}
	st, err := m.Stats(ctx)
	if err != nil || st["curr_items"] != "3" || st["time"] == "" {
		t.Errorf("Stats: curr_items %q time %q, %v", st["curr_items"], st["time"], err)
	}
}
