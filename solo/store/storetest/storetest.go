// Package storetest is the conformance suite every store.Store
// implementation must pass. Call Run from the implementation's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Opener { return memstore.Opener() })
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/store"
)

// NewOpener returns a fresh, empty Opener for one test. Channels opened on it
// must not see data of other tests. Opening a channel again after closing it
// must give back its state.
type NewOpener func(t *testing.T) store.Opener

// AwkwardKeys are keys every store must store and order by bytes.
var AwkwardKeys = []string{
	"a", "b", "_id", "_design/x", "__", "a\x00b", "\x00task\x00k1\x00",
	"\x00task\x00k1\x00\U0010FFFF", "\x01", "Z", "é", "日本", "\U0010FFFF",
	"a\U0010FFFF", "key with space", "k/slash", "k%2F", "0", "~", "\x7f",
}

// Run runs the conformance suite.
func Run(t *testing.T, newOpener NewOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, o store.Opener)
	}{
		{"GetAbsent", testGetAbsent},
		{"PutGetDelete", testPutGetDelete},
		{"Versions", testVersions},
		{"OrderAndScan", testOrderAndScan},
		{"GetMany", testGetMany},
		{"ReadConflict", testReadConflict},
		{"AbsentReadConflict", testAbsentReadConflict},
		{"RangeConflict", testRangeConflict},
		{"ValidateOnly", testValidateOnly},
		{"Events", testEvents},
		{"WaitEvents", testWaitEvents},
		{"Reopen", testReopen},
		{"Channels", testChannels},
		{"LargeBatch", testLargeBatch},
		{"ConcurrentCounters", testConcurrentCounters},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newOpener(t))
		})
	}
}

func open(t *testing.T, o store.Opener, channel string) store.Store {
	t.Helper()
	s, err := o.Open(context.Background(), channel)
	if err != nil {
		t.Fatalf("open %s: %v", channel, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func get(t *testing.T, s store.Store, key string) store.KV {
	t.Helper()
	ctx := context.Background()
	r, err := s.Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer r.Close()
	kv, err := r.Get(ctx, key)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return kv
}

func scan(t *testing.T, s store.Store, start, end string, limit int) []store.KV {
	t.Helper()
	ctx := context.Background()
	r, err := s.Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer r.Close()
	kvs, err := r.Scan(ctx, start, end, limit)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return kvs
}

func put(t *testing.T, s store.Store, kv ...string) {
	t.Helper()
	b := &store.Batch{TxID: "put"}
	for i := 0; i < len(kv); i += 2 {
		b.Writes = append(b.Writes, store.Write{Key: kv[i], Value: []byte(kv[i+1])})
	}
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func keysOf(kvs []store.KV) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key
	}
	return out
}

func testGetAbsent(t *testing.T, o store.Opener) {
	s := open(t, o, "absent")
	kv := get(t, s, "nope")
	if kv.Key != "nope" || kv.Value != nil || kv.Version != "" {
		t.Fatalf("absent key: got %+v", kv)
	}
	if got := scan(t, s, "", "", 0); len(got) != 0 {
		t.Fatalf("empty store scan: %v", keysOf(got))
	}
}

func testPutGetDelete(t *testing.T, o store.Opener) {
	s := open(t, o, "putget")
	put(t, s, "k", "v1", "other", "x")
	kv := get(t, s, "k")
	if string(kv.Value) != "v1" || kv.Version == "" {
		t.Fatalf("after put: %+v", kv)
	}
	err := s.Commit(context.Background(), &store.Batch{TxID: "del", Writes: []store.Write{{Key: "k", Delete: true}, {Key: "never-existed", Delete: true}}})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if kv := get(t, s, "k"); kv.Value != nil || kv.Version != "" {
		t.Fatalf("after delete: %+v", kv)
	}
	if kv := get(t, s, "other"); string(kv.Value) != "x" {
		t.Fatalf("untouched key: %+v", kv)
	}
	// binary value round trip
	bin := []byte{0, 1, 2, 255, 0}
	if err := s.Commit(context.Background(), &store.Batch{Writes: []store.Write{{Key: "bin", Value: bin}}}); err != nil {
		t.Fatal(err)
	}
	if kv := get(t, s, "bin"); !bytes.Equal(kv.Value, bin) {
		t.Fatalf("binary value: %v", kv.Value)
	}
}

func testVersions(t *testing.T, o store.Opener) {
	s := open(t, o, "versions")
	seen := map[store.Version]bool{}
	for i := range 4 {
		put(t, s, "k", fmt.Sprint("v", i))
		v := get(t, s, "k").Version
		if v == "" || seen[v] {
			t.Fatalf("write %d: version %q empty or reused", i, v)
		}
		seen[v] = true
	}
	// delete and re-create: the version must still be new
	if err := s.Commit(context.Background(), &store.Batch{Writes: []store.Write{{Key: "k", Delete: true}}}); err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", "again")
	if v := get(t, s, "k").Version; seen[v] {
		t.Fatalf("version %q reused after delete", v)
	}
	// a commit that does not touch k keeps its version
	v := get(t, s, "k").Version
	put(t, s, "j", "x")
	if v2 := get(t, s, "k").Version; v2 != v {
		t.Fatalf("untouched key changed version %q -> %q", v, v2)
	}
}

func testOrderAndScan(t *testing.T, o store.Opener) {
	s := open(t, o, "order")
	var kv []string
	for _, k := range AwkwardKeys {
		kv = append(kv, k, "v:"+k)
	}
	put(t, s, kv...)
	want := slices.Clone(AwkwardKeys)
	slices.Sort(want)
	got := scan(t, s, "", "", 0)
	if !slices.Equal(keysOf(got), want) {
		t.Fatalf("full scan order:\n got %q\nwant %q", keysOf(got), want)
	}
	for _, g := range got {
		if string(g.Value) != "v:"+g.Key || g.Version == "" {
			t.Fatalf("scan value of %q: %q version %q", g.Key, g.Value, g.Version)
		}
		if one := get(t, s, g.Key); string(one.Value) != "v:"+g.Key || one.Version != g.Version {
			t.Fatalf("get %q: %+v, scan gave version %q", g.Key, one, g.Version)
		}
	}
	between := func(start, end string) []string {
		var out []string
		for _, k := range want {
			if k >= start && (end == "" || k < end) {
				out = append(out, k)
			}
		}
		return out
	}
	ranges := []struct{ start, end string }{
		{"\x01", ""},     // simple keys only, as GetStateByRange("", "")
		{"\x00", "\x01"}, // composite keys only
		{"\x00task\x00", "\x00task\x00\U0010FFFF"}, // partial composite key
		{"a", "b"},
		{"_", "a"},
		{"b", "b"},
		{"z", "a"},
		{"é", ""},
		{"\U0010FFFF", ""},
	}
	for _, r := range ranges {
		if got := keysOf(scan(t, s, r.start, r.end, 0)); !slices.Equal(got, between(r.start, r.end)) {
			t.Errorf("scan [%q,%q): got %q want %q", r.start, r.end, got, between(r.start, r.end))
		}
	}
	for _, limit := range []int{1, 3, len(want), len(want) + 5} {
		got := keysOf(scan(t, s, "", "", limit))
		w := want[:min(limit, len(want))]
		if !slices.Equal(got, w) {
			t.Errorf("scan limit %d: got %q want %q", limit, got, w)
		}
	}
	// paging by "last key + \x00" visits every key once
	var paged []string
	start := ""
	for {
		page := scan(t, s, start, "", 3)
		if len(page) == 0 {
			break
		}
		paged = append(paged, keysOf(page)...)
		start = page[len(page)-1].Key + "\x00"
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged scan: got %q want %q", paged, want)
	}
}

func testGetMany(t *testing.T, o store.Opener) {
	s := open(t, o, "getmany")
	put(t, s, "a", "1", "_c", "3", "\x00x\x00", "4")
	ctx := context.Background()
	r, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	kvs, err := r.GetMany(ctx, []string{"_c", "missing", "a", "\x00x\x00", "a"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"3", "", "1", "4", "1"}
	if len(kvs) != len(want) {
		t.Fatalf("GetMany: %d results", len(kvs))
	}
	for i, kv := range kvs {
		if string(kv.Value) != want[i] || (want[i] == "") != (kv.Version == "") {
			t.Errorf("GetMany[%d] = %+v, want value %q", i, kv, want[i])
		}
	}
	if kvs[1].Key != "missing" || kvs[1].Value != nil {
		t.Errorf("absent entry: %+v", kvs[1])
	}
}

func testReadConflict(t *testing.T, o store.Opener) {
	s := open(t, o, "readconflict")
	ctx := context.Background()
	put(t, s, "k", "v1")
	v1 := get(t, s, "k").Version
	put(t, s, "k", "v2")
	err := s.Commit(ctx, &store.Batch{
		TxID:   "stale",
		Reads:  []store.KeyVersion{{Key: "k", Version: v1}},
		Writes: []store.Write{{Key: "k", Value: []byte("stale")}, {Key: "new", Value: []byte("x")}},
		Event:  &store.Event{TxID: "stale", Name: "e"},
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale read: err = %v, want ErrConflict", err)
	}
	if kv := get(t, s, "k"); string(kv.Value) != "v2" {
		t.Fatalf("conflicting batch wrote k: %q", kv.Value)
	}
	if kv := get(t, s, "new"); kv.Value != nil {
		t.Fatalf("conflicting batch wrote new: %q", kv.Value)
	}
	if evs, err := s.ReadEvents(ctx, 0, 0); err != nil || len(evs) != 0 {
		t.Fatalf("conflicting batch appended events: %v %v", evs, err)
	}
	v2 := get(t, s, "k").Version
	err = s.Commit(ctx, &store.Batch{
		TxID:   "fresh",
		Reads:  []store.KeyVersion{{Key: "k", Version: v2}},
		Writes: []store.Write{{Key: "k", Value: []byte("v3")}},
	})
	if err != nil {
		t.Fatalf("fresh read: %v", err)
	}
	if kv := get(t, s, "k"); string(kv.Value) != "v3" {
		t.Fatalf("k = %q, want v3", kv.Value)
	}
}

func testAbsentReadConflict(t *testing.T, o store.Opener) {
	s := open(t, o, "absentconflict")
	ctx := context.Background()
	put(t, s, "k", "created")
	err := s.Commit(ctx, &store.Batch{Reads: []store.KeyVersion{{Key: "k"}}, Writes: []store.Write{{Key: "k", Value: []byte("mine")}}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("read-absent then created: err = %v", err)
	}
	// read present then deleted
	v := get(t, s, "k").Version
	if err := s.Commit(ctx, &store.Batch{Writes: []store.Write{{Key: "k", Delete: true}}}); err != nil {
		t.Fatal(err)
	}
	err = s.Commit(ctx, &store.Batch{Reads: []store.KeyVersion{{Key: "k", Version: v}}, Writes: []store.Write{{Key: "x", Value: []byte("1")}}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("read-present then deleted: err = %v", err)
	}
	// read absent, still absent: ok
	if err := s.Commit(ctx, &store.Batch{Reads: []store.KeyVersion{{Key: "k"}}, Writes: []store.Write{{Key: "x", Value: []byte("1")}}}); err != nil {
		t.Fatalf("read-absent still absent: %v", err)
	}
}

func kvsOf(kvs []store.KV) []store.KeyVersion {
	out := make([]store.KeyVersion, len(kvs))
	for i, kv := range kvs {
		out[i] = store.KeyVersion{Key: kv.Key, Version: kv.Version}
	}
	return out
}

func testRangeConflict(t *testing.T, o store.Opener) {
	ctx := context.Background()
	cases := []struct {
		name     string
		start    string
		end      string
		change   store.Write
		conflict bool
	}{
		{"insert inside (phantom)", "b", "d", store.Write{Key: "bb", Value: []byte("x")}, true},
		{"delete inside", "b", "d", store.Write{Key: "c", Delete: true}, true},
		{"update inside", "b", "d", store.Write{Key: "b", Value: []byte("new")}, true},
		{"insert at end (exclusive)", "b", "d", store.Write{Key: "d", Value: []byte("x")}, false},
		{"insert before start", "b", "d", store.Write{Key: "a0", Value: []byte("x")}, false},
		{"insert after, unbounded", "b", "", store.Write{Key: "zz", Value: []byte("x")}, true},
		{"composite insert", "\x00t\x00", "\x00t\x00\U0010FFFF", store.Write{Key: "\x00t\x00k9\x00", Value: []byte("x")}, true},
		{"simple insert vs composite range", "\x00t\x00", "\x00t\x00\U0010FFFF", store.Write{Key: "t", Value: []byte("x")}, false},
		{"empty range insert", "m", "n", store.Write{Key: "mm", Value: []byte("x")}, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, o, fmt.Sprintf("range%d", i))
			put(t, s, "a", "1", "b", "2", "c", "3", "e", "5", "\x00t\x00k1\x00", "6")
			results := kvsOf(scan(t, s, tc.start, tc.end, 0))
			if err := s.Commit(ctx, &store.Batch{Writes: []store.Write{tc.change}}); err != nil {
				t.Fatal(err)
			}
			err := s.Commit(ctx, &store.Batch{
				TxID:   "scanner",
				Ranges: []store.RangeRead{{Start: tc.start, End: tc.end, Results: results}},
				Writes: []store.Write{{Key: "result", Value: []byte("x")}},
			})
			if got := errors.Is(err, store.ErrConflict); got != tc.conflict {
				t.Fatalf("conflict = %v (err %v), want %v", got, err, tc.conflict)
			}
			if err != nil && !errors.Is(err, store.ErrConflict) {
				t.Fatalf("unexpected error: %v", err)
			}
			if written := get(t, s, "result").Value != nil; written != !tc.conflict {
				t.Fatalf("result written = %v, want %v", written, !tc.conflict)
			}
		})
	}
}

func testValidateOnly(t *testing.T, o store.Opener) {
	s := open(t, o, "validateonly")
	ctx := context.Background()
	put(t, s, "k", "v")
	v := get(t, s, "k").Version
	if err := s.Commit(ctx, &store.Batch{Reads: []store.KeyVersion{{Key: "k", Version: v}}}); err != nil {
		t.Fatalf("read-only batch: %v", err)
	}
	if got := get(t, s, "k").Version; got != v {
		t.Fatalf("read-only batch changed version")
	}
	put(t, s, "k", "v2")
	if err := s.Commit(ctx, &store.Batch{Reads: []store.KeyVersion{{Key: "k", Version: v}}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale read-only batch: %v", err)
	}
}

func testEvents(t *testing.T, o store.Opener) {
	s := open(t, o, "events")
	ctx := context.Background()
	for i := range 5 {
		b := &store.Batch{TxID: fmt.Sprint("tx", i), Writes: []store.Write{{Key: fmt.Sprint("k", i), Value: []byte("v")}}}
		if i != 2 { // tx2 emits no event
			b.Event = &store.Event{Seq: 999, TxID: b.TxID, Name: "ev", Payload: []byte{byte(i), 0}}
		}
		if err := s.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.ReadEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantTx := []string{"tx0", "tx1", "tx3", "tx4"}
	if len(evs) != len(wantTx) {
		t.Fatalf("got %d events, want %d", len(evs), len(wantTx))
	}
	var prev uint64
	for i, e := range evs {
		if e.TxID != wantTx[i] || e.Name != "ev" || len(e.Payload) != 2 || e.Seq <= prev {
			t.Fatalf("event %d: %+v (prev seq %d)", i, e, prev)
		}
		prev = e.Seq
	}
	if evs[0].Seq < 1 {
		t.Fatalf("first seq %d, want >= 1", evs[0].Seq)
	}
	rest, err := s.ReadEvents(ctx, evs[1].Seq, 0)
	if err != nil || len(rest) != 2 || rest[0].TxID != "tx3" {
		t.Fatalf("resume after %d: %+v %v", evs[1].Seq, rest, err)
	}
	lim, err := s.ReadEvents(ctx, 0, 3)
	if err != nil || len(lim) != 3 {
		t.Fatalf("limit 3: %d %v", len(lim), err)
	}
	none, err := s.ReadEvents(ctx, evs[3].Seq, 0)
	if err != nil || len(none) != 0 {
		t.Fatalf("after last: %+v %v", none, err)
	}
}

func testWaitEvents(t *testing.T, o store.Opener) {
	s := open(t, o, "wait")
	ctx := context.Background()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.WaitEvents(short, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait on empty log: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		done <- s.WaitEvents(wctx, 0)
	}()
	time.Sleep(20 * time.Millisecond)
	// a commit without an event does not satisfy the waiter
	put(t, s, "x", "y")
	select {
	case err := <-done:
		t.Fatalf("woke without event: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	start := time.Now()
	if err := s.Commit(ctx, &store.Batch{TxID: "t", Event: &store.Event{TxID: "t", Name: "n"}}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("waiter woke after %v", d)
	}
	// already satisfied: returns at once
	if err := s.WaitEvents(short, 0); err != nil {
		t.Fatalf("wait with event present: %v", err)
	}
}

func testReopen(t *testing.T, o store.Opener) {
	ctx := context.Background()
	s, err := o.Open(ctx, "reopen")
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", "v", "\x00c\x00a\x00", "c")
	if err := s.Commit(ctx, &store.Batch{TxID: "e1", Event: &store.Event{TxID: "e1", Name: "n", Payload: []byte("p")}}); err != nil {
		t.Fatal(err)
	}
	v := get(t, s, "k").Version
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s2 := open(t, o, "reopen")
	kv := get(t, s2, "k")
	if string(kv.Value) != "v" || kv.Version != v {
		t.Fatalf("after reopen: %+v (version before %q)", kv, v)
	}
	if kv := get(t, s2, "\x00c\x00a\x00"); string(kv.Value) != "c" {
		t.Fatalf("composite after reopen: %+v", kv)
	}
	evs, err := s2.ReadEvents(ctx, 0, 0)
	if err != nil || len(evs) != 1 || string(evs[0].Payload) != "p" {
		t.Fatalf("events after reopen: %+v %v", evs, err)
	}
	put(t, s2, "k", "v2")
	if v2 := get(t, s2, "k").Version; v2 == v {
		t.Fatalf("version reused after reopen")
	}
	if err := s2.Commit(ctx, &store.Batch{TxID: "e2", Event: &store.Event{TxID: "e2", Name: "n"}}); err != nil {
		t.Fatal(err)
	}
	evs, _ = s2.ReadEvents(ctx, 0, 0)
	if len(evs) != 2 || evs[1].Seq <= evs[0].Seq {
		t.Fatalf("seq after reopen: %+v", evs)
	}
}

func testChannels(t *testing.T, o store.Opener) {
	a := open(t, o, "chan-a")
	b := open(t, o, "chan-b")
	put(t, a, "k", "a")
	if kv := get(t, b, "k"); kv.Value != nil {
		t.Fatalf("channel b sees channel a's key: %+v", kv)
	}
	if err := a.Commit(context.Background(), &store.Batch{TxID: "t", Event: &store.Event{TxID: "t", Name: "n"}}); err != nil {
		t.Fatal(err)
	}
	if evs, _ := b.ReadEvents(context.Background(), 0, 0); len(evs) != 0 {
		t.Fatalf("channel b sees channel a's events")
	}
}

func testLargeBatch(t *testing.T, o store.Opener) {
	s := open(t, o, "large")
	var kv []string
	for i := range 1000 {
		kv = append(kv, fmt.Sprintf("\x00big\x00%04d\x00", i), string(bytes.Repeat([]byte{'x'}, 200)))
	}
	put(t, s, kv...)
	if got := scan(t, s, "\x00big\x00", "\x00big\x00\U0010FFFF", 0); len(got) != 1000 {
		t.Fatalf("scan after 1000 writes: %d keys", len(got))
	}
}

func testConcurrentCounters(t *testing.T, o store.Opener) {
	s := open(t, o, "counters")
	ctx := context.Background()
	const workers, incs, counters = 8, 15, 2
	var wg sync.WaitGroup
	var mu sync.Mutex
	conflicts := 0
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range incs {
				key := fmt.Sprint("counter", (w+i)%counters)
				for {
					r, err := s.Begin(ctx)
					if err != nil {
						errs <- err
						return
					}
					kv, err := r.Get(ctx, key)
					r.Close()
					if err != nil {
						errs <- err
						return
					}
					n := 0
					if kv.Value != nil {
						fmt.Sscan(string(kv.Value), &n)
					}
					err = s.Commit(ctx, &store.Batch{
						TxID:   fmt.Sprint(w, "-", i),
						Reads:  []store.KeyVersion{{Key: key, Version: kv.Version}},
						Writes: []store.Write{{Key: key, Value: []byte(fmt.Sprint(n + 1))}, {Key: fmt.Sprint("w", w, "-", i), Value: []byte("done")}},
					})
					if errors.Is(err, store.ErrConflict) {
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for c := range counters {
		var n int
		fmt.Sscan(string(get(t, s, fmt.Sprint("counter", c)).Value), &n)
		total += n
	}
	if total != workers*incs {
		t.Fatalf("lost updates: counters sum to %d, want %d (conflicts %d)", total, workers*incs, conflicts)
	}
	if n := len(scan(t, s, "w", "x", 0)); n != workers*incs {
		t.Fatalf("%d marker keys, want %d", n, workers*incs)
	}
	t.Logf("%d conflicts retried", conflicts)
}

func testClosed(t *testing.T, o store.Opener) {
	ctx := context.Background()
	s, err := o.Open(ctx, "closed")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.WaitEvents(ctx, 0) }()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrClosed) {
			t.Fatalf("waiter on close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake WaitEvents")
	}
	if err := s.Commit(ctx, &store.Batch{Writes: []store.Write{{Key: "k", Value: []byte("v")}}}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("commit after close: %v", err)
	}
	if _, err := s.ReadEvents(ctx, 0, 0); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("read events after close: %v", err)
	}
}

// Get reads key from the last durable state of s, failing t on an error:
// for an implementation's own tests.
func Get(t testing.TB, s store.Store, key string) store.KV {
	t.Helper()
	ctx := context.Background()
	r, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	kv, err := r.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}
