//go:build couchdb

package couchstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/store"
)

// commitAsGroup commits batches as one group: they queue while the commit
// lock is held, then one of them leads.
func commitAsGroup(t testing.TB, s *Store, batches []*store.Batch) []error {
	t.Helper()
	s.lock <- struct{}{}
	errs := make([]error, len(batches))
	done := make(chan int, len(batches))
	for i, b := range batches {
		go func() {
			errs[i] = s.Commit(context.Background(), b)
			done <- i
		}()
		// Queue them in order.
		for deadline := time.Now().Add(5 * time.Second); ; {
			s.qmu.Lock()
			n := len(s.queue)
			s.qmu.Unlock()
			if n == i+1 {
				break
			}
			if time.Now().After(deadline) {
				s.unlock()
				t.Fatal("batches did not queue")
			}
			time.Sleep(time.Millisecond)
		}
	}
	s.unlock()
	for range batches {
		<-done
	}
	return errs
}

func TestGroupCommit(t *testing.T) {
	s := openStore(t, newOpener(t, newPrefix()), "group")
	commit(t, s, putBatch("init", "k", "0", "r1", "x", "r3", "x", "y", "gone"))
	v0 := getKV(t, s, "k").Version
	r := getKV(t, s, "r1").Version
	r3 := getKV(t, s, "r3").Version
	headBefore := s.getHead()
	ev := func(tx string) *store.Event { return &store.Event{TxID: tx, Name: "ev", Payload: []byte(tx)} }
	batches := []*store.Batch{
		{TxID: "b0", Reads: []store.KeyVersion{{Key: "k", Version: v0}}, Writes: []store.Write{{Key: "k", Value: []byte("b0")}}, Event: ev("b0")},
		// read k before b0 wrote it: conflict inside the group
		{TxID: "b1", Reads: []store.KeyVersion{{Key: "k", Version: v0}}, Writes: []store.Write{{Key: "k", Value: []byte("b1")}}, Event: ev("b1")},
		// inserts r2 into [r, s)
		{TxID: "b2", Writes: []store.Write{{Key: "r2", Value: []byte("b2")}}},
		// scanned [r, s) before b2: phantom inside the group
		{TxID: "b3", Ranges: []store.RangeRead{{Start: "r", End: "s", Results: []store.KeyVersion{{Key: "r1", Version: r}, {Key: "r3", Version: r3}}}}, Writes: []store.Write{{Key: "count", Value: []byte("2")}}},
		// scanned [r, r2) only, limit-narrowed: unaffected by r2
		{TxID: "b4", Ranges: []store.RangeRead{{Start: "r", End: "r2", Results: []store.KeyVersion{{Key: "r1", Version: r}}}}, Writes: []store.Write{{Key: "first", Value: []byte("r1")}}, Event: ev("b4")},
		// validation only
		{TxID: "b5", Reads: []store.KeyVersion{{Key: "r1", Version: r}}},
		// delete and blind write, the last write of k wins
		{TxID: "b6", Writes: []store.Write{{Key: "y", Delete: true}, {Key: "k", Value: []byte("b6")}}, Event: ev("b6")},
	}
	errs := commitAsGroup(t, s, batches)
	wantConflict := map[int]bool{1: true, 3: true}
	for i, err := range errs {
		if got := errors.Is(err, store.ErrConflict); got != wantConflict[i] || (err != nil && !got) {
			t.Errorf("%s: err %v, want conflict %v", batches[i].TxID, err, wantConflict[i])
		}
	}
	if got := s.getHead(); got != headBefore+1 {
		t.Errorf("head %d -> %d: want one journal entry for the group", headBefore, got)
	}
	want := map[string]string{"k": "b6", "r2": "b2", "first": "r1", "y": "", "count": ""}
	for k, v := range want {
		if got := getKV(t, s, k); string(got.Value) != v {
			t.Errorf("%s = %q, want %q", k, got.Value, v)
		}
	}
	evs, err := s.ReadEvents(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var txs []string
	for i, e := range evs {
		txs = append(txs, e.TxID)
		if i > 0 && e.Seq <= evs[i-1].Seq {
			t.Errorf("event seqs not increasing: %d then %d", evs[i-1].Seq, e.Seq)
		}
	}
	if len(txs) != 3 || txs[0] != "b0" || txs[1] != "b4" || txs[2] != "b6" {
		t.Fatalf("events %q, want b0 b4 b6", txs)
	}
	// Resume in the middle of one entry's events.
	rest, err := s.ReadEvents(context.Background(), evs[0].Seq, 0)
	if err != nil || len(rest) != 2 || rest[0].TxID != "b4" {
		t.Fatalf("events after %d: %+v %v", evs[0].Seq, rest, err)
	}
	one, err := s.ReadEvents(context.Background(), evs[0].Seq, 1)
	if err != nil || len(one) != 1 || one[0].TxID != "b4" {
		t.Fatalf("one event after %d: %+v %v", evs[0].Seq, one, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.WaitEvents(ctx, evs[1].Seq); err != nil {
		t.Fatalf("wait after the middle event: %v", err)
	}
}

// A queue longer than a group is committed in several rounds, and every
// caller gets its result (also one whose batch a later leader took).
func TestGroupLimit(t *testing.T) {
	s := openStore(t, newOpener(t, newPrefix()), "limit")
	s.maxGroup = 3
	var batches []*store.Batch
	for i := range 8 {
		batches = append(batches, putBatch(fmt.Sprint("t", i), fmt.Sprint("k", i), "v"))
	}
	head := s.getHead()
	for i, err := range commitAsGroup(t, s, batches) {
		if err != nil {
			t.Errorf("batch %d: %v", i, err)
		}
	}
	if got := s.getHead() - head; got != 3 {
		t.Errorf("%d journal entries for 8 batches in groups of 3, want 3", got)
	}
	for i := range 8 {
		if kv := getKV(t, s, fmt.Sprint("k", i)); string(kv.Value) != "v" {
			t.Errorf("k%d = %q", i, kv.Value)
		}
	}
}

// The overlay scan of a group (writes by state id) agrees with a scan of the applied state.
func TestScanOverlay(t *testing.T) {
	s := openStore(t, newOpener(t, newPrefix()), "overlay")
	commit(t, s, putBatch("init", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"))
	overlay := map[string]overlayEntry{
		stateID("a"):  {deleted: true},
		stateID("b"):  {deleted: true},
		stateID("bb"): {value: []byte("n")},
		stateID("e"):  {value: []byte("u")},
		stateID("z"):  {deleted: true},
	}
	ctx := context.Background()
	nv := store.Version("new")
	tests := []struct {
		start, end string
		limit      int
		want       []string
	}{
		{"", "", 100, []string{"bb", "c", "d", "e"}},
		{"", "", 1, []string{"bb"}},
		{"", "", 2, []string{"bb", "c"}},
		{"b", "d", 10, []string{"bb", "c"}},
		{"c", "", 2, []string{"c", "d"}},
		{"d", "", 5, []string{"d", "e"}},
	}
	for _, tc := range tests {
		got, err := s.scanOverlay(ctx, tc.start, tc.end, tc.limit, overlay, nv)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, kv := range got {
			keys = append(keys, kv.Key)
			if (kv.Key == "bb" || kv.Key == "e") != (kv.Version == nv) {
				t.Errorf("version of %s: %q", kv.Key, kv.Version)
			}
		}
		if !slices.Equal(keys, tc.want) {
			t.Errorf("scanOverlay(%q, %q, %d) = %q, want %q", tc.start, tc.end, tc.limit, keys, tc.want)
		}
	}
}
