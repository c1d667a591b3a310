package pebblestore

import (
	"slices"
	"strings"

	"github.com/fedchain/orchestrator/solo/store"
)

// window remembers which keys the most recent commits wrote, so that a
// batch read on a recent snapshot is validated in memory: a key it read is
// unchanged exactly when no transaction after the snapshot wrote it, and a
// range it scanned is unchanged exactly when no key inside it was written
// (inserted, updated or deleted) after the snapshot. That replaces one
// database lookup per read key, in the committer every commit waits for, by
// one map lookup. A batch read on an older snapshot than the window covers
// is validated against the database as before.
//
// The window belongs to the committer goroutine.
type window struct {
	// last is each key's last writing transaction, for writes after floor.
	last map[string]uint64
	// groups are the committed groups still in last, oldest first, each
	// with its written keys sorted (for range checks).
	groups []windowGroup
	// pending are the keys written by the group being committed, in the
	// order they were accepted.
	pending []string
	// floor: every write of a transaction numbered above floor is in last.
	floor uint64
	max   int
}

type windowGroup struct {
	maxTx uint64 // the group's last transaction number
	keys  []string
}

func newWindow(floor uint64, max int) *window {
	return &window{last: make(map[string]uint64), floor: floor, max: max}
}

// covers tells whether every write after snapshot is known.
func (w *window) covers(snapshot uint64) bool {
	return snapshot != 0 && snapshot >= w.floor
}

// validate checks b, read on a snapshot the window covers. It reports the
// conflicting key or range, or "" when b still holds.
func (w *window) validate(b *store.Batch) (conflict string, ok bool) {
	for _, r := range b.Reads {
		if w.last[r.Key] > b.Snapshot {
			return r.Key, false
		}
	}
	for _, rr := range b.Ranges {
		if w.touched(rr.Start, rr.End, b.Snapshot) {
			return "[" + rr.Start + ", " + rr.End + ")", false
		}
	}
	return "", true
}

// validatePending checks b, read on a snapshot the window does not cover,
// against the writes of the group being committed only (transactions after
// durable, the last durable one); the caller then checks it against the
// database, which does not hold those writes yet.
func (w *window) validatePending(b *store.Batch, durable uint64) (conflict string, ok bool) {
	for _, r := range b.Reads {
		if w.last[r.Key] > durable {
			return r.Key, false
		}
	}
	for _, rr := range b.Ranges {
		if w.touched(rr.Start, rr.End, ^uint64(0)) {
			return "[" + rr.Start + ", " + rr.End + ")", false
		}
	}
	return "", true
}

// touched tells whether a key of [start, end) was written after snapshot.
func (w *window) touched(start, end string, snapshot uint64) bool {
	in := func(k string) bool { return k >= start && (end == "" || k < end) }
	for _, k := range w.pending {
		if in(k) {
			return true
		}
	}
	for i := len(w.groups) - 1; i >= 0 && w.groups[i].maxTx > snapshot; i-- {
		keys := w.groups[i].keys
		j, _ := slices.BinarySearch(keys, start)
		if j < len(keys) && in(keys[j]) {
			return true
		}
	}
	return false
}

// add records the writes of transaction txNum of the group being committed.
func (w *window) add(txNum uint64, writes []store.Write) {
	for _, wr := range writes {
		w.last[wr.Key] = txNum
		w.pending = append(w.pending, wr.Key)
	}
}

// committed closes the group being committed (last transaction maxTx) and
// forgets the oldest groups beyond the window's size.
func (w *window) committed(maxTx uint64) {
	if len(w.pending) > 0 {
		keys := slices.Clone(w.pending)
		slices.SortFunc(keys, strings.Compare)
		w.groups = append(w.groups, windowGroup{maxTx: maxTx, keys: slices.Compact(keys)})
		w.pending = w.pending[:0]
	}
	for len(w.last) > w.max && len(w.groups) > 1 {
		g := w.groups[0]
		for _, k := range g.keys {
			if w.last[k] <= g.maxTx {
				delete(w.last, k)
			}
		}
		w.floor = g.maxTx
		w.groups[0] = windowGroup{}
		w.groups = w.groups[1:]
	}
}

// reset forgets everything after a failed group commit: only snapshots
// from txNum on (the last durable transaction) are covered again.
func (w *window) reset(txNum uint64) {
	clear(w.last)
	w.groups = nil
	w.pending = w.pending[:0]
	w.floor = txNum
}
