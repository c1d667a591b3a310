//go:build couchdb

package couchstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/couchstore/couchtest"
	"github.com/fedchain/orchestrator/solo/store"
)

// TestOutage stops CouchDB under a commit load and starts it again: during
// the outage every call fails fast with ErrUnavailable, and after it every
// acknowledged write is there, also for another process.
func TestOutage(t *testing.T) {
	srv := couchtest.Start(t)
	o, err := NewOpener(srv.URL, WithDBPrefix("outage_"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() }) // after the stores' cleanups
	ctx := context.Background()
	s, err := o.OpenStore(ctx, "ch")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Load: writers commit distinct keys and remember what was
	// acknowledged.
	var (
		mu       sync.Mutex
		acked    []string
		failures = map[string]int{}
		slowest  time.Duration
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				start := time.Now()
				err := s.Commit(cctx, &store.Batch{
					TxID:   key,
					Reads:  []store.KeyVersion{{Key: key}},
					Writes: []store.Write{{Key: key, Value: []byte("v")}},
					Event:  &store.Event{TxID: key, Name: "put"},
				})
				took := time.Since(start)
				cancel()
				mu.Lock()
				switch {
				case err == nil:
					acked = append(acked, key)
				case errors.Is(err, store.ErrOutcomeUnknown):
					failures["outcome unknown"]++
				case errors.Is(err, store.ErrUnavailable):
					failures["unavailable"]++
					slowest = max(slowest, took)
				default:
					failures[err.Error()]++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	srv.Stop()

	// During the outage: reads, event reads and waits fail with
	// ErrUnavailable, before their deadline.
	s.mu.Lock()
	s.mem.complete = false // so that a read of an unknown key needs the server
	s.mu.Unlock()
	checks := map[string]func(context.Context) error{
		"Get": func(ctx context.Context) error {
			r, _ := s.Begin(ctx)
			defer r.Close()
			_, err := r.Get(ctx, "never-read")
			return err
		},
		"Scan": func(ctx context.Context) error {
			r, _ := s.Begin(ctx)
			defer r.Close()
			_, err := r.Scan(ctx, "", "", 10)
			return err
		},
		"ReadEvents": func(ctx context.Context) error {
			_, err := s.ReadEvents(ctx, 0, 10)
			return err
		},
		"WaitEvents": func(ctx context.Context) error {
			return s.WaitEvents(ctx, 1<<62)
		},
		"Commit": func(ctx context.Context) error {
			return s.Commit(ctx, putBatch("during", "during", "x"))
		},
	}
	for name, f := range checks {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		err := f(cctx)
		cancel()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s during the outage: %v, want ErrUnavailable", name, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s during the outage took %v (deadline 10s)", name, took)
		}
	}
	time.Sleep(300 * time.Millisecond)

	srv.Start()
	time.Sleep(1500 * time.Millisecond) // the load resumes
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d acknowledged commits; failures: %v; slowest unavailable error after %v", len(acked), failures, slowest)
	for what, n := range failures {
		if what != "unavailable" && what != "outcome unknown" {
			t.Errorf("%d commits failed with %q, want only ErrUnavailable", n, what)
		}
	}
	if failures["unavailable"] == 0 {
		t.Error("no commit failed during the outage: was the server stopped?")
	}
	if slowest > 5*time.Second {
		t.Errorf("an unavailable error came after %v", slowest)
	}
	// Every acknowledged write is there, for this process and another.
	o2, err := NewOpener(srv.URL, WithDBPrefix("outage_"))
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	s2, err := o2.OpenStore(ctx, "ch")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for _, st := range []*Store{s, s2} {
		r, _ := st.Begin(ctx)
		for _, k := range acked {
			kv, err := r.Get(ctx, k)
			if err != nil || string(kv.Value) != "v" {
				t.Fatalf("acknowledged %s: %+v %v", k, kv, err)
			}
		}
		r.Close()
	}
	evs, err := s2.ReadEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.TxID] {
			t.Errorf("event of %s twice", e.TxID)
		}
		seen[e.TxID] = true
	}
	for _, k := range acked {
		if !seen[k] {
			t.Errorf("no event for acknowledged %s", k)
		}
	}
}

// outageTransport forwards requests until down is set, then fails them
// all as a stopped server would; lose makes it drop the answer of the next
// journal PUT after sending it, and go down.
type outageTransport struct {
	down atomic.Bool
	lose atomic.Bool
}

func (o *outageTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if o.down.Load() {
		return nil, errors.New("injected: connection refused")
	}
	if isJournalPut(req) && o.lose.Swap(false) {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		o.down.Store(true)
		return nil, errors.New("injected: connection reset")
	}
	return http.DefaultTransport.RoundTrip(req)
}

// A journal PUT whose answer is lost while the server goes away fails with
// ErrOutcomeUnknown; when the server is back the store finds the entry and
// the batch is there, once.
func TestOutcomeUnknownResolved(t *testing.T) {
	prefix := newPrefix()
	newOpener(t, prefix) // cleanup of the databases
	ot := &outageTransport{}
	o, err := NewOpener(serverURL(t), WithDBPrefix(prefix), WithHTTPClient(&http.Client{Transport: ot}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() }) // after the stores' cleanups
	s := openStore(t, o, "unknown")
	ctx := context.Background()
	commit(t, s, putBatch("init", "k", "v0"))
	ot.lose.Store(true)
	err = s.Commit(ctx, &store.Batch{
		TxID:   "lost",
		Writes: []store.Write{{Key: "k", Value: []byte("v1")}},
		Event:  &store.Event{TxID: "lost", Name: "n"},
	})
	if !errors.Is(err, store.ErrOutcomeUnknown) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("commit whose answer was lost: %v, want ErrOutcomeUnknown and ErrUnavailable", err)
	}
	t.Logf("error: %v", err)
	ot.down.Store(false)
	// The next commit meets the entry (409), learns it, and goes after it.
	commit(t, s, putBatch("after", "other", "x"))
	if kv := getKV(t, s, "k"); string(kv.Value) != "v1" {
		t.Fatalf("k = %q after recovery, want the lost-answer commit's v1", kv.Value)
	}
	evs, err := s.ReadEvents(ctx, 0, 0)
	if err != nil || len(evs) != 1 || evs[0].TxID != "lost" {
		t.Fatalf("events after recovery: %+v %v", evs, err)
	}
	start := time.Now()
	s.Close()
	t.Logf("close took %v", time.Since(start))
}
