package pebblestore

import (
	"context"
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

// TestReadCacheBound: the cache never holds more bytes than its bound, and
// its count of bytes matches what it holds, through fills, refills,
// evictions and commits.
func TestReadCacheBound(t *testing.T) {
	c := newReadCache(1, 1<<10)
	ver := store.Version("\x00\x00\x00\x00\x00\x00\x00\x01")
	c.mu.Lock()
	for i := range 500 {
		key := fmt.Sprintf("k%03d", i%150) // refills too
		c.fillLocked(key, 1, ver, make([]byte, i%40))
		if c.bytes > c.max {
			t.Fatalf("after %d fills: %d bytes > bound %d", i, c.bytes, c.max)
		}
	}
	c.mu.Unlock()
	req := newRequest(&store.Batch{Writes: []store.Write{{Key: "k001", Value: make([]byte, 30)}, {Key: "k002", Delete: true}}})
	copy(req.vals[0], "\x00\x00\x00\x00\x00\x00\x00\x02")
	c.apply([]*request{req}, []error{nil}, 2)
	sum := 0
	for k, e := range c.entries {
		sum += len(k) + len(e.val)
	}
	if sum != c.bytes {
		t.Fatalf("counted %d bytes, holds %d", c.bytes, sum)
	}
}
