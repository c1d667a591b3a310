//go:build couchdb

package couchstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/solotest"
	"github.com/fedchain/orchestrator/solo/store"
	"github.com/fedchain/orchestrator/solo/store/storetest"
)

// TestMain fails the whole run at once, with the way to run it, when there
// is no server.
func TestMain(m *testing.M) {
	if os.Getenv("COUCHDB_URL") == "" {
		fmt.Fprintln(os.Stderr, "FAIL: "+needCouchDB)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, serverLine())
	os.Exit(m.Run())
}

// serverLine says which server the tests run on (the password redacted).
func serverLine() string {
	where := "?"
	if u, err := url.Parse(os.Getenv("COUCHDB_URL")); err == nil {
		where = u.Redacted()
	}
	kind := os.Getenv("COUCHDB_SERVER")
	if kind == "" {
		kind = "unknown (COUCHDB_SERVER unset: not started by scripts/couchdb/with-couchdb.sh)"
	}
	return fmt.Sprintf("couchstore tests: CouchDB server %s at %s", kind, where)
}

var errSimulatedCrash = errors.New("simulated crash after journal write")

var prefixSeq atomic.Uint64

func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("COUCHDB_URL")
	if u == "" {
		t.Fatal(needCouchDB)
	}
	return u
}

// newPrefix returns a database prefix used by no other test (nor by an
// earlier run against the same server).
func newPrefix() string {
	return fmt.Sprintf("fctest%x_%d_", time.Now().UnixNano(), prefixSeq.Add(1))
}

// newOpener returns an Opener on COUCHDB_URL whose databases are destroyed
// at the end of the test.
func newOpener(t testing.TB, prefix string) *Opener {
	t.Helper()
	o, err := NewOpener(serverURL(t), WithDBPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		dbs, err := o.client.AllDBs(ctx)
		if err != nil {
			t.Errorf("list databases: %v", err)
		}
		for _, db := range dbs {
			if strings.HasPrefix(db, prefix) {
				if err := o.client.DestroyDB(ctx, db); err != nil {
					t.Errorf("destroy %s: %v", db, err)
				}
			}
		}
		o.Close()
	})
	return o
}

// anotherProcess returns a second Opener on the same databases as o, with
// its own client and state, as another process would have.
func anotherProcess(t testing.TB, o *Opener) *Opener {
	t.Helper()
	o2, err := NewOpener(serverURL(t), WithDBPrefix(o.prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o2.Close() })
	return o2
}

func openStore(t testing.TB, o *Opener, channel string) *Store {
	t.Helper()
	s, err := o.OpenStore(context.Background(), channel)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitApplied waits until the applier of s has applied every entry s
// knows.
func waitApplied(t testing.TB, s *Store) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; {
		s.mu.Lock()
		done := s.applied == s.head
		s.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("entries still unapplied after 90s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testOpener(t *testing.T) store.Opener { return newOpener(t, newPrefix()) }

func TestConformance(t *testing.T) { storetest.Run(t, testOpener) }

// TestConformanceSmallCache runs the suite with a cache too small for the
// state, so that evictions, cold reads and server scans are exercised.
func TestConformanceSmallCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Opener {
		prefix := newPrefix()
		newOpener(t, prefix) // cleanup of the databases
		o, err := NewOpener(serverURL(t), WithDBPrefix(prefix), WithCacheBytes(2048))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		return o
	})
}

func TestChaincode(t *testing.T) { solotest.Run(t, testOpener) }

func getKV(t *testing.T, s store.Store, key string) store.KV { return storetest.Get(t, s, key) }

func commit(t *testing.T, s store.Store, b *store.Batch) {
	t.Helper()
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatalf("commit %s: %v", b.TxID, err)
	}
}

func putBatch(txID string, kv ...string) *store.Batch {
	b := &store.Batch{TxID: txID}
	for i := 0; i < len(kv); i += 2 {
		b.Writes = append(b.Writes, store.Write{Key: kv[i], Value: []byte(kv[i+1])})
	}
	return b
}

// crashBatch writes k, creates new, deletes gone and emits an event.
func crashBatch() *store.Batch {
	return &store.Batch{
		TxID: "crash",
		Writes: []store.Write{
			{Key: "k", Value: []byte("v1")},
			{Key: "new", Value: []byte("x")},
			{Key: "gone", Delete: true},
		},
		Event: &store.Event{TxID: "crash", Name: "ev", Payload: []byte("p")},
	}
}

// checkCrashBatchApplied checks that crashBatch is there entirely.
func checkCrashBatchApplied(t *testing.T, s store.Store) {
	t.Helper()
	if kv := getKV(t, s, "k"); string(kv.Value) != "v1" {
		t.Errorf("k = %q, want v1", kv.Value)
	}
	if kv := getKV(t, s, "new"); string(kv.Value) != "x" {
		t.Errorf("new = %q, want x", kv.Value)
	}
	if kv := getKV(t, s, "gone"); kv.Value != nil {
		t.Errorf("gone = %q, want deleted", kv.Value)
	}
	evs, err := s.ReadEvents(context.Background(), 0, 0)
	if err != nil || len(evs) != 1 || evs[0].TxID != "crash" || string(evs[0].Payload) != "p" {
		t.Errorf("events = %+v, %v; want the crash batch's", evs, err)
	}
}

// A process that dies between the journal write and its application leaves
// a commit that the next Open completes.
func TestCrashAfterJournalReopen(t *testing.T) {
	o := newOpener(t, newPrefix())
	s := openStore(t, o, "crash")
	commit(t, s, putBatch("init", "k", "v0", "gone", "g"))
	s.afterJournal = func(uint64) error { return errSimulatedCrash }
	if err := s.Commit(context.Background(), crashBatch()); !errors.Is(err, errSimulatedCrash) {
		t.Fatalf("commit: %v", err)
	}
	// Nothing applied yet: the state is the old one.
	if kv := getKV(t, s, "k"); string(kv.Value) != "v0" {
		t.Fatalf("before roll-forward k = %q", kv.Value)
	}
	s.Close()

	restarted := openStore(t, anotherProcess(t, o), "crash")
	checkCrashBatchApplied(t, restarted)
	commit(t, restarted, putBatch("after", "k", "v2"))
	if kv := getKV(t, restarted, "k"); string(kv.Value) != "v2" {
		t.Fatalf("k = %q after a later commit", kv.Value)
	}
}

// Another process that was running when the first died completes the
// commit when it commits itself (journal id taken) or reads events, and
// validates against the completed state.
func TestCrashAfterJournalOtherProcess(t *testing.T) {
	o := newOpener(t, newPrefix())
	s := openStore(t, o, "crash")
	commit(t, s, putBatch("init", "k", "v0", "gone", "g"))
	other := openStore(t, anotherProcess(t, o), "crash")
	v0 := getKV(t, other, "k").Version

	s.afterJournal = func(uint64) error { return errSimulatedCrash }
	if err := s.Commit(context.Background(), crashBatch()); !errors.Is(err, errSimulatedCrash) {
		t.Fatalf("commit: %v", err)
	}
	s.Close()

	// other read k at v0 before the crashed commit: conflict.
	err := other.Commit(context.Background(), &store.Batch{
		TxID:   "stale",
		Reads:  []store.KeyVersion{{Key: "k", Version: v0}},
		Writes: []store.Write{{Key: "k", Value: []byte("stale")}},
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale commit after crashed commit: %v, want conflict", err)
	}
	checkCrashBatchApplied(t, other)

	// Roll-forward through ReadEvents.
	s2 := openStore(t, o, "crash2")
	commit(t, s2, putBatch("init", "k", "v0", "gone", "g"))
	other2 := openStore(t, anotherProcess(t, o), "crash2")
	s2.afterJournal = func(uint64) error { return errSimulatedCrash }
	if err := s2.Commit(context.Background(), crashBatch()); !errors.Is(err, errSimulatedCrash) {
		t.Fatalf("commit: %v", err)
	}
	// Readers see the live state (not rolled forward); reading events rolls
	// forward, so an event is never seen before its writes.
	if evs, err := other2.ReadEvents(context.Background(), 0, 0); err != nil || len(evs) != 1 {
		t.Fatalf("events: %+v, %v", evs, err)
	}
	checkCrashBatchApplied(t, other2)
}

// Concurrent read-modify-write transactions from two processes lose no
// update.
func TestTwoProcessesCounters(t *testing.T) {
	o := newOpener(t, newPrefix())
	stores := []*Store{openStore(t, o, "shared"), openStore(t, anotherProcess(t, o), "shared")}
	const workers, incs = 6, 10
	ctx := context.Background()
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%len(stores)]
			for i := range incs {
				for {
					r, _ := s.Begin(ctx)
					kv, err := r.Get(ctx, "counter")
					r.Close()
					if err != nil {
						errs <- err
						return
					}
					n := 0
					fmt.Sscan(string(kv.Value), &n)
					err = s.Commit(ctx, &store.Batch{
						TxID:   fmt.Sprint(w, "-", i),
						Reads:  []store.KeyVersion{{Key: "counter", Version: kv.Version}},
						Writes: []store.Write{{Key: "counter", Value: []byte(fmt.Sprint(n + 1))}},
						Event:  &store.Event{Name: "inc"},
					})
					if errors.Is(err, store.ErrConflict) {
						conflicts.Add(1)
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
	for _, s := range stores {
		// Reading the events learns every commit of the other process.
		evs, err := s.ReadEvents(ctx, 0, 0)
		if err != nil || len(evs) != workers*incs {
			t.Fatalf("%d events, %v; want %d", len(evs), err, workers*incs)
		}
		if got := string(getKV(t, s, "counter").Value); got != fmt.Sprint(workers*incs) {
			t.Fatalf("counter = %s, want %d (%d conflicts)", got, workers*incs, conflicts.Load())
		}
	}
	t.Logf("%d conflicts retried", conflicts.Load())
}

// A waiter is woken by a commit of another process.
func TestWaitEventsOtherProcess(t *testing.T) {
	o := newOpener(t, newPrefix())
	waiter := openStore(t, o, "wake")
	writer := openStore(t, anotherProcess(t, o), "wake")
	commit(t, writer, putBatch("noevent", "a", "1"))
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- waiter.WaitEvents(ctx, 0)
	}()
	time.Sleep(100 * time.Millisecond)
	commit(t, writer, putBatch("noevent2", "b", "2"))
	select {
	case err := <-done:
		t.Fatalf("woke without event: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	start := time.Now()
	b := putBatch("ev", "c", "3")
	b.Event = &store.Event{TxID: "ev", Name: "n"}
	commit(t, writer, b)
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	t.Logf("woken %v after the other process's commit", time.Since(start))
	// The event's writes are visible once the event is.
	evs, err := waiter.ReadEvents(context.Background(), 0, 0)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %+v %v", evs, err)
	}
	if kv := getKV(t, waiter, "c"); string(kv.Value) != "3" {
		t.Fatalf("c = %q", kv.Value)
	}
}

// The server orders random keys (all byte values, UTF-8 up to U+10FFFF) by
// bytes, through the key encoding.
func TestRandomKeyOrder(t *testing.T) {
	s := openStore(t, newOpener(t, newPrefix()), "random")
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[string]bool{}
	var keys []string
	b := &store.Batch{TxID: "random"}
	for len(keys) < 400 {
		var k strings.Builder
		for range 1 + r.IntN(4) {
			switch r.IntN(3) {
			case 0:
				k.WriteByte(byte(r.IntN(128)))
			case 1:
				k.WriteRune(rune(0x80 + r.IntN(0x800)))
			default:
				k.WriteRune(rune(0x10000 + r.IntN(0x100000)))
			}
		}
		key := k.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		keys = append(keys, key)
		b.Writes = append(b.Writes, store.Write{Key: key, Value: []byte(key)})
	}
	commit(t, s, b)
	slices.Sort(keys)
	ctx := context.Background()
	rd, _ := s.Begin(ctx)
	defer rd.Close()
	got, err := rd.Scan(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	gotKeys := make([]string, len(got))
	for i, kv := range got {
		gotKeys[i] = kv.Key
		if string(kv.Value) != kv.Key {
			t.Fatalf("value of %q is %q", kv.Key, kv.Value)
		}
	}
	if !slices.Equal(gotKeys, keys) {
		t.Fatal("scan order differs from byte order")
	}
	mid := keys[len(keys)/3]
	end := keys[2*len(keys)/3]
	part, err := rd.Scan(ctx, mid, end, 0)
	if err != nil || len(part) != 2*len(keys)/3-len(keys)/3 || part[0].Key != mid {
		t.Fatalf("scan [%q, %q): %d keys, %v", mid, end, len(part), err)
	}
}

// A server error surfaces as an error, not as an empty result.
func TestDeletedDatabaseIsAnError(t *testing.T) {
	o := newOpener(t, newPrefix())
	s := openStore(t, o, "dropped")
	commit(t, s, putBatch("t", "k", "v"))
	for _, db := range []string{s.dbPath, s.sdbPath} {
		if err := o.client.DestroyDB(context.Background(), db); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	r, _ := s.Begin(ctx)
	defer r.Close()
	// k is cached, and the cache knows that other keys are absent: forget
	// that, so that another key needs the server.
	s.mu.Lock()
	s.mem.complete = false
	s.mu.Unlock()
	if kv, err := r.Get(ctx, "not-cached"); err == nil {
		t.Errorf("Get on a dropped database: %+v, no error", kv)
	}
	if kvs, err := r.Scan(ctx, "", "", 0); err == nil {
		t.Errorf("Scan on a dropped database: %d keys, no error", len(kvs))
	}
	if evs, err := s.ReadEvents(ctx, 0, 0); err == nil {
		t.Errorf("ReadEvents on a dropped database: %d events, no error", len(evs))
	}
	if err := s.Commit(ctx, putBatch("t2", "k", "v2")); err == nil || errors.Is(err, store.ErrConflict) {
		t.Errorf("Commit on a dropped database: %v", err)
	}
}
