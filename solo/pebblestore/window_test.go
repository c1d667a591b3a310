package pebblestore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/fedchain/orchestrator/solo/store"
)

func writes(keys ...string) []store.Write {
	out := make([]store.Write, len(keys))
	for i, k := range keys {
		out[i] = store.Write{Key: k, Value: []byte("v")}
	}
	return out
}

// TestWindowValidate: history tx1 {a, m} and tx2 {c} committed as two
// groups, tx3 {x} pending in the current group.
func TestWindowValidate(t *testing.T) {
	w := newWindow(0, 1<<10)
	w.add(1, writes("a", "m"))
	w.committed(1)
	w.add(2, writes("c"))
	w.committed(2)
	w.add(3, writes("x"))
	tests := []struct {
		name   string
		b      store.Batch
		wantOK bool
	}{
		{"read before write", store.Batch{Snapshot: 1, Reads: []store.KeyVersion{{Key: "c"}}}, false},
		{"read after write", store.Batch{Snapshot: 2, Reads: []store.KeyVersion{{Key: "c"}, {Key: "a"}}}, true},
		{"read of pending write", store.Batch{Snapshot: 2, Reads: []store.KeyVersion{{Key: "x"}}}, false},
		{"untouched key", store.Batch{Snapshot: 1, Reads: []store.KeyVersion{{Key: "b"}}}, true},
		{"range with later insert", store.Batch{Snapshot: 1, Ranges: []store.RangeRead{{Start: "b", End: "d"}}}, false},
		{"range end exclusive", store.Batch{Snapshot: 1, Ranges: []store.RangeRead{{Start: "d", End: "x"}}}, true}, // x is pending but not in range; m is older than the snapshot
		{"range clean", store.Batch{Snapshot: 2, Ranges: []store.RangeRead{{Start: "d", End: "w"}}}, true},
		{"range unbounded hits pending", store.Batch{Snapshot: 2, Ranges: []store.RangeRead{{Start: "n"}}}, false},
		{"range start inclusive", store.Batch{Snapshot: 1, Ranges: []store.RangeRead{{Start: "c", End: "c\x00"}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !w.covers(tc.b.Snapshot) {
				t.Fatal("window does not cover snapshot")
			}
			if _, ok := w.validate(&tc.b); ok != tc.wantOK {
				t.Fatalf("validate = %v, want %v", ok, tc.wantOK)
			}
		})
	}
}

// TestWindowEviction: old groups leave, the floor rises, and keys
// rewritten later stay known.
func TestWindowEviction(t *testing.T) {
	w := newWindow(0, 2)
	w.add(1, writes("a", "b"))
	w.committed(1)
	w.add(2, writes("a", "c"))
	w.committed(2) // 3 keys > 2: group 1 leaves, a stays (rewritten at 2)
	if w.covers(0) || !w.covers(1) {
		t.Fatalf("floor = %d, want 1", w.floor)
	}
	if _, ok := w.last["b"]; ok {
		t.Fatal("b still remembered")
	}
	if w.last["a"] != 2 || w.last["c"] != 2 {
		t.Fatalf("last = %v", w.last)
	}
	w.reset(5)
	if w.covers(4) || !w.covers(5) || len(w.last) != 0 {
		t.Fatalf("after reset: floor %d, last %v", w.floor, w.last)
	}
}

// TestValidationBeyondWindow: with a tiny window, a batch read on an old
// snapshot is validated from the database — conflicts are still found,
// clean batches still pass — and batches read on a recent one from the
// window.
func TestValidationBeyondWindow(t *testing.T) {
	ctx := context.Background()
	st, err := Open(filepath.Join(t.TempDir(), "w.pebble"), WithWindow(1))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	commit := func(b *store.Batch) error { return st.Commit(ctx, b) }
	if err := commit(&store.Batch{TxID: "seed", Writes: writes("k", "other")}); err != nil {
		t.Fatal(err)
	}
	r, _ := st.Begin(ctx)
	old, _ := r.Get(ctx, "k")
	snap := r.Snapshot()
	r.Close()
	for i := range 5 { // push the window past snap
		if err := commit(&store.Batch{TxID: fmt.Sprint("f", i), Writes: writes(fmt.Sprint("filler", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if st.win.covers(snap) {
		t.Fatal("window still covers the old snapshot")
	}
	clean := &store.Batch{TxID: "clean", Snapshot: snap, Reads: []store.KeyVersion{{Key: "k", Version: old.Version}}, Writes: writes("n1")}
	if err := commit(clean); err != nil {
		t.Fatalf("clean batch on an old snapshot: %v", err)
	}
	if err := commit(&store.Batch{TxID: "w", Writes: writes("k")}); err != nil {
		t.Fatal(err)
	}
	stale := &store.Batch{TxID: "stale", Snapshot: snap, Reads: []store.KeyVersion{{Key: "k", Version: old.Version}}, Writes: writes("n2")}
	if err := commit(stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale batch on an old snapshot: %v, want a conflict", err)
	}
}

// TestReadCacheRules: an entry serves the snapshots at or after its
// version only, a Reader behind the last applied group plants nothing,
// values too large to be worth caching are not kept, and a group's writes
// replace or drop the entries they touch.
func TestReadCacheRules(t *testing.T) {
	c := newReadCache(1, newSharedCache(1))
	var sc scratch
	v := func(n uint64) store.Version { return store.Version(binary.BigEndian.AppendUint64(nil, n)) }
	get := func(key string, snapshot uint64) string {
		t.Helper()
		ver, val, ok := c.lookup(&sc, key, snapshot)
		switch {
		case !ok:
			return "miss"
		case ver == "":
			return "absent"
		}
		return fmt.Sprintf("%d:%s", versionNum(ver), val)
	}
	c.mu.Lock()
	c.fillLocked(&sc, "a", 1, v(1), []byte("x"))
	c.fillLocked(&sc, "gone", 1, "", nil)
	c.fillLocked(&sc, "big", 1, v(1), make([]byte, maxCachedValue))
	c.fillLocked(&sc, "late", 0, v(0), []byte("y")) // a Reader behind applied
	c.mu.Unlock()
	for _, tt := range []struct {
		key      string
		snapshot uint64
		want     string
	}{
		{"a", 1, "1:x"}, {"a", 0, "miss"}, {"gone", 1, "absent"}, {"gone", 0, "miss"},
		{"big", 1, "miss"}, {"late", 1, "miss"}, {"never", 1, "miss"},
	} {
		if got := get(tt.key, tt.snapshot); got != tt.want {
			t.Errorf("before the commit: %s at snapshot %d = %s, want %s", tt.key, tt.snapshot, got, tt.want)
		}
	}
	req := newRequest(&store.Batch{Writes: []store.Write{{Key: "a", Value: []byte("z")}, {Key: "gone", Value: []byte("w")}, {Key: "b", Delete: true}}})
	for _, val := range req.vals {
		if val != nil {
			copy(val, v(2))
		}
	}
	c.apply([]*request{req}, []error{nil}, 2)
	for _, tt := range []struct {
		key      string
		snapshot uint64
		want     string
	}{
		{"a", 2, "2:z"}, {"a", 1, "miss"}, {"gone", 2, "2:w"}, {"b", 2, "miss"},
	} {
		if got := get(tt.key, tt.snapshot); got != tt.want {
			t.Errorf("after the commit: %s at snapshot %d = %s, want %s", tt.key, tt.snapshot, got, tt.want)
		}
	}
	c.mu.Lock()
	c.fillLocked(&sc, "c", 1, v(1), []byte("old")) // a Reader of snapshot 1, now stale
	c.mu.Unlock()
	if got := get("c", 2); got != "miss" {
		t.Errorf("a stale Reader's fill: c = %s, want miss", got)
	}
}
