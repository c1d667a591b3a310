//go:build couchdb

package couchstore

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/store"
)

// countingTransport counts the requests sent to CouchDB by kind ("PUT
// journal", "POST _all_docs", ...), _changes feeds apart.
type countingTransport struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := req.Method + " "
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	switch last := parts[len(parts)-1]; {
	case len(parts) == 1:
		kind += "db"
	case strings.HasPrefix(last, "_"):
		kind += last
	case strings.HasPrefix(last, commitPrefix):
		kind += "journal"
	default:
		kind += "state"
	}
	c.mu.Lock()
	c.counts[kind]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// take returns the counts since the last take, without _changes, and
// their total.
func (c *countingTransport) take() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, n := map[string]int{}, 0
	for k, v := range c.counts {
		if !strings.HasSuffix(k, "_changes") {
			out[k] = v
			n += v
		}
	}
	c.counts = map[string]int{}
	return out, n
}

func describe(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// TestRoundTripBudget counts the requests of each operation on the
// caller's path: with a warm cache, reads cost none and an uncontended
// commit costs one (the journal PUT, the commit point); applying the write
// set is one _bulk_docs off the path.
func TestRoundTripBudget(t *testing.T) {
	prefix := newPrefix()
	newOpener(t, prefix) // cleanup of the databases
	ct := &countingTransport{counts: map[string]int{}}
	o, err := NewOpener(serverURL(t), WithDBPrefix(prefix), WithHTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() }) // after the stores' cleanups
	// The follower opens its feed at Open (with a catch-up read), closes
	// it at the first commit, and opens it again (one more read) followIdle
	// after the last commit; that is off every caller's path, and counted
	// apart (TestFollowerWhileCommitting).
	o.tune = func(s *Store) { s.followIdle = time.Hour }
	s := openStore(t, o, "budget")
	ctx := context.Background()
	for s.feeds.Load() == 0 { // the follower's first catch-up is done
		time.Sleep(5 * time.Millisecond)
	}
	commit(t, s, putBatch("init", "a", "1", "b", "2", "r1", "x", "r2", "y"))
	waitApplied(t, s)
	s.mu.Lock()
	gate := make(chan struct{})
	s.applyGate = gate
	s.mu.Unlock()
	ct.take()

	// Reads: cached keys, an absent key, a range scan: the cache holds the
	// whole (small) state, so none needs the server.
	r, _ := s.Begin(ctx)
	a, _ := r.Get(ctx, "a")
	if _, err := r.GetMany(ctx, []string{"b", "absent"}); err != nil {
		t.Fatal(err)
	}
	if got, n := ct.take(); n != 0 {
		t.Errorf("point reads of cached and absent keys: %d requests (%s), want 0", n, describe(got))
	}
	kvs, err := r.Scan(ctx, "r", "s", 0)
	if err != nil || len(kvs) != 2 {
		t.Fatalf("scan: %v %v", kvs, err)
	}
	if got, n := ct.take(); n != 0 {
		t.Errorf("scan: %d requests (%s), want 0", n, describe(got))
	}
	r.Close()
	snap := r.Snapshot()

	// An update that read a, scanned [r, s) and writes a and a new key.
	b := &store.Batch{
		TxID:     "update",
		Reads:    []store.KeyVersion{{Key: "a", Version: a.Version}, {Key: "absent"}},
		Ranges:   []store.RangeRead{{Start: "r", End: "s", Results: []store.KeyVersion{{Key: "r1", Version: kvs[0].Version}, {Key: "r2", Version: kvs[1].Version}}}},
		Writes:   []store.Write{{Key: "a", Value: []byte("2")}, {Key: "c", Value: []byte("3")}},
		Event:    &store.Event{TxID: "update", Name: "ev"},
		Snapshot: snap,
	}
	commit(t, s, b)
	got, n := ct.take()
	if n != 1 || got["PUT journal"] != 1 {
		t.Errorf("uncontended commit with a warm cache: %d requests (%s), want 1 journal PUT", n, describe(got))
	}
	t.Logf("commit: %s", describe(got))
	if kv := getKV(t, s, "a"); string(kv.Value) != "2" {
		t.Errorf("a = %q after the commit, before its application", kv.Value)
	}

	// Off the path: one _bulk_docs applies it.
	s.mu.Lock()
	s.applyGate = nil
	s.mu.Unlock()
	close(gate)
	waitApplied(t, s)
	got, n = ct.take()
	if got["POST _bulk_docs"] != 1 || n != 1 {
		t.Errorf("application: %s, want one _bulk_docs", describe(got))
	}
	t.Logf("application: %d requests (%s)", n, describe(got))

	// A cache that does not hold every key (evicted, or a state too
	// large at Open) reads misses and scans from the server, once.
	s.mu.Lock()
	s.mem.complete, s.mem.order = false, nil
	s.mu.Unlock()
	r, _ = s.Begin(ctx)
	if _, err := r.GetMany(ctx, []string{"absent", "absent2"}); err != nil {
		t.Fatal(err)
	}
	if got, n := ct.take(); n != 1 || got["POST _all_docs"] != 1 {
		t.Errorf("cold reads of two keys: %d requests (%s), want one _all_docs", n, describe(got))
	}
	if _, err := r.GetMany(ctx, []string{"absent", "absent2", "a"}); err != nil {
		t.Fatal(err)
	}
	if got, n := ct.take(); n != 0 {
		t.Errorf("reads of keys read before: %d requests (%s), want 0", n, describe(got))
	}
	if _, err := r.Scan(ctx, "r", "s", 0); err != nil {
		t.Fatal(err)
	}
	if got, n := ct.take(); n != 1 {
		t.Errorf("scan without a complete cache: %d requests (%s), want 1", n, describe(got))
	}
	r.Close()

	// Another process sees the commit on the server.
	other := openStore(t, anotherProcess(t, o), "budget")
	if kv := getKV(t, other, "c"); string(kv.Value) != "3" {
		t.Errorf("c = %q in another process", kv.Value)
	}
}
