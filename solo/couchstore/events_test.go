//go:build couchdb

package couchstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/store"
)

// bigBatch writes n keys of size bytes each (prefix tx) and, when withEvent,
// emits an event whose payload names tx.
func bigBatch(tx string, n, size int, withEvent bool) *store.Batch {
	b := &store.Batch{TxID: tx}
	for i := range n {
		b.Writes = append(b.Writes, store.Write{
			Key:   fmt.Sprintf("%s/%03d", tx, i),
			Value: bytes.Repeat([]byte{byte('a' + i%26)}, size),
		})
	}
	if withEvent {
		b.Event = &store.Event{TxID: tx, Name: "ev", Payload: []byte("payload of " + tx)}
	}
	return b
}

// eventLogFixture commits journal entries of every shape (groups of
// several events with large write sets, entries without events, single
// events) and returns the transaction ids of the events in commit order.
func eventLogFixture(t testing.TB, s *Store) []string {
	t.Helper()
	var want []string
	group := func(batches ...*store.Batch) {
		for i, err := range commitAsGroup(t, s, batches) {
			if err != nil {
				t.Fatalf("commit %s: %v", batches[i].TxID, err)
			}
			if batches[i].Event != nil {
				want = append(want, batches[i].TxID)
			}
		}
	}
	group(bigBatch("g1a", 4, 64<<10, true), bigBatch("g1b", 4, 64<<10, true), bigBatch("g1c", 4, 64<<10, true))
	group(bigBatch("quiet1", 3, 100<<10, false))
	group(bigBatch("single1", 1, 10, true))
	group(bigBatch("g2a", 2, 32<<10, true), bigBatch("g2b", 2, 32<<10, false),
		bigBatch("g2c", 2, 32<<10, true), bigBatch("g2d", 2, 32<<10, true), bigBatch("g2e", 2, 32<<10, true))
	group(bigBatch("quiet2", 1, 10, false))
	group(bigBatch("quiet3", 1, 10, false))
	group(bigBatch("single2", 2, 128<<10, true))
	return want
}

// ReadEvents returns exactly the events after any position, in order, at
// most limit, whatever the page size: pages end inside groups, on entries
// without events, and on the last entry.
func TestReadEventsPages(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newOpener(t, newPrefix()), "events")
	want := eventLogFixture(t, s)

	all, err := s.ReadEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Fatalf("ReadEvents(0, 0) = %d events, want %d", len(all), len(want))
	}
	for i, e := range all {
		if e.TxID != want[i] || e.Name != "ev" || string(e.Payload) != "payload of "+want[i] {
			t.Errorf("event %d = %s %q %q, want %s", i, e.TxID, e.Name, e.Payload, want[i])
		}
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Errorf("event %d: seq %d after %d", i, e.Seq, all[i-1].Seq)
		}
	}
	// Positions to resume from: the start, every event, a position between
	// two entries, and the end.
	afters := []uint64{0}
	for _, e := range all {
		afters = append(afters, e.Seq)
	}
	afters = append(afters, all[3].Seq+1, all[len(all)-1].Seq+1<<eventBits)

	for _, cfg := range []struct {
		page   int
		noFind bool
		ring   bool // from memory (the events of this process's commits)
	}{{1, false, false}, {3, false, false}, {0, false, false}, {2, true, false}, {0, false, true}} {
		page := cfg.page
		s.maxEventPage = page
		s.noFind.Store(cfg.noFind)
		s.mu.Lock()
		s.noRing = !cfg.ring
		s.mu.Unlock()
		for _, after := range afters {
			for _, limit := range []int{0, 1, 2, 5} {
				got, err := s.ReadEvents(ctx, after, limit)
				if err != nil {
					t.Fatalf("page %d (noFind %v): ReadEvents(%d, %d): %v", page, cfg.noFind, after, limit, err)
				}
				var exp []store.Event
				for _, e := range all {
					if e.Seq > after && (limit <= 0 || len(exp) < limit) {
						exp = append(exp, e)
					}
				}
				if len(got) != len(exp) {
					t.Fatalf("page %d (noFind %v): ReadEvents(%d, %d) = %d events, want %d", page, cfg.noFind, after, limit, len(got), len(exp))
				}
				for i := range got {
					if got[i].Seq != exp[i].Seq || got[i].TxID != exp[i].TxID || !bytes.Equal(got[i].Payload, exp[i].Payload) {
						t.Fatalf("page %d (noFind %v): ReadEvents(%d, %d)[%d] = %d %s, want %d %s",
							page, cfg.noFind, after, limit, i, got[i].Seq, got[i].TxID, exp[i].Seq, exp[i].TxID)
					}
				}
			}
		}
	}
}

// findRefuser answers every _find with refuse (an HTTP status, or a
// connection error when 0) and counts them; other requests go through.
type findRefuser struct {
	refuse int
	finds  atomic.Int32
}

func (f *findRefuser) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/_find") {
		return http.DefaultTransport.RoundTrip(req)
	}
	f.finds.Add(1)
	if f.refuse == 0 {
		return nil, errors.New("injected: connection reset")
	}
	body := `{"error":"no_usable_index","reason":"injected"}`
	return &http.Response{
		StatusCode: f.refuse,
		Status:     fmt.Sprintf("%d injected", f.refuse),
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	}, nil
}

// A server that refuses the _find of the event reads gets them through
// _all_docs instead, from then on without asking again; a failure that is
// not an answer of the server is an error.
func TestReadEventsWithoutFind(t *testing.T) {
	ctx := context.Background()
	prefix := newPrefix()
	s := openStore(t, newOpener(t, prefix), "events")
	commit(t, s, bigBatch("a", 2, 1000, true))
	commit(t, s, bigBatch("b", 2, 1000, false))
	commit(t, s, bigBatch("c", 2, 1000, true))
	// The stores opened below must read the events from the server: once
	// a, b and c are applied, a last entry without event carries that
	// watermark, so that their Open learns no entry that holds an event
	// (else they would serve the events from memory, and whether they do
	// would depend on the applier's timing).
	waitApplied(t, s)
	commit(t, s, bigBatch("d", 2, 10, false))

	open := func(rt http.RoundTripper) *Store {
		o, err := NewOpener(serverURL(t), WithDBPrefix(prefix), WithHTTPClient(&http.Client{Transport: rt}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		return openStore(t, o, "events")
	}

	refuser := &findRefuser{refuse: http.StatusBadRequest}
	s2 := open(refuser)
	for range 3 {
		evs, err := s2.ReadEvents(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].TxID != "a" || evs[1].TxID != "c" {
			t.Fatalf("events = %+v, want a and c", evs)
		}
	}
	if n := refuser.finds.Load(); n != 1 {
		t.Errorf("%d _find requests, want 1 (then _all_docs only)", n)
	}

	broken := &findRefuser{}
	s3 := open(broken)
	if evs, err := s3.ReadEvents(ctx, 0, 0); err == nil {
		t.Fatalf("ReadEvents with _find failing = %+v, nil; want the error", evs)
	}
	if s3.noFind.Load() {
		t.Error("a connection error switched the event reads to _all_docs")
	}
}

// BenchmarkReadEvents measures reading the event log of journal entries
// with large write sets: the whole log in pages of 256 events (as
// solo.Peer.Events replays it), and one event after a position (as
// WaitEvents and searches probe).
//
//	scripts/couchdb/with-couchdb.sh go test -tags couchdb -run '^$' -bench ReadEvents ./solo/couchstore/
func BenchmarkReadEvents(b *testing.B) {
	ctx := context.Background()
	s := openStore(b, newOpener(b, newPrefix()), "bench")
	const entries, perEntry = 32, 4
	for e := range entries {
		var batches []*store.Batch
		for i := range perEntry {
			batches = append(batches, bigBatch(fmt.Sprintf("e%02d-%d", e, i), 50, 1<<10, true))
		}
		for _, err := range commitAsGroup(b, s, batches) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	all, err := s.ReadEvents(ctx, 0, 0)
	if err != nil || len(all) != entries*perEntry {
		b.Fatalf("%d events, %v; want %d", len(all), err, entries*perEntry)
	}
	b.Run("replay", func(b *testing.B) {
		start := time.Now()
		n := 0
		for b.Loop() {
			for after := uint64(0); ; {
				evs, err := s.ReadEvents(ctx, after, 256)
				if err != nil {
					b.Fatal(err)
				}
				if len(evs) == 0 {
					break
				}
				n += len(evs)
				after = evs[len(evs)-1].Seq
			}
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("one", func(b *testing.B) {
		mid := all[len(all)/2].Seq
		for b.Loop() {
			evs, err := s.ReadEvents(ctx, mid, 1)
			if err != nil || len(evs) != 1 {
				b.Fatal(len(evs), err)
			}
		}
	})
}
