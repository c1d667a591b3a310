//go:build couchdb

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo/couchstore/couchtest"
)

// TestCouchDBOutage stops Apache CouchDB under a solo server while writers
// and a subscriber run, and starts it again. During the outage every call
// fails fast with Unavailable and a message saying whether the write
// happened (never Internal, never a hang), and the event stream ends with
// Unavailable. After it every acknowledged write is there, and a
// subscriber resuming from the last event it received gets every later
// event once, in commit order.
func TestCouchDBOutage(t *testing.T) {
	srv := couchtest.Start(t)
	p := startProc(t, "--couchdb", srv.URL, "--couchdb-prefix", fmt.Sprintf("outage%x_", time.Now().UnixNano()))
	o := newOrg(t, p.addr, "Org1MSP", "mychannel")
	must(o.organizations().RegisterOrganization(o.ctx(), &protos.RegisterOrganizationParam{Address: "org1:443"}))(t)
	dm := key(0xd, 1)
	registerManager(t, o, dm)
	registerSamples(t, o, dm, 0, 2, 5)

	// The subscriber: everything from the start, until the stream ends.
	var (
		smu      sync.Mutex
		received []string
	)
	streamEnd := make(chan error, 1)
	go func() {
		s, err := o.events().SubscribeToEvents(o.ctx(), &protos.SubscribeToEventsParam{})
		if err != nil {
			streamEnd <- err
			return
		}
		for {
			ev, err := s.Recv()
			if err != nil {
				streamEnd <- err
				return
			}
			smu.Lock()
			received = append(received, ev.GetId())
			smu.Unlock()
		}
	}()

	// Writers, through the outage and after it.
	var (
		mu       sync.Mutex
		acked    []string
		failures = map[codes.Code]int{}
		unknown  int
		slowest  time.Duration
		next     atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	next.Store(1000)
	ackedNow := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				k := key(0x5a, int(next.Add(1)))
				ctx, cancel := context.WithTimeout(o.ctx(), 20*time.Second)
				start := time.Now()
				_, err := o.samples().RegisterDataSamples(ctx, &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
					{Key: k, DataManagerKeys: []string{dm}, Checksum: strings.Repeat("ef", 32)}}})
				cancel()
				took := time.Since(start)
				mu.Lock()
				if err == nil {
					acked = append(acked, k)
				} else {
					failures[status.Code(err)]++
					if strings.Contains(status.Convert(err).Message(), "unknown") {
						unknown++
					}
					slowest = max(slowest, took)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond) // a client's back-off, not a synchronisation
				}
			}
		}()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("writes before the outage", func() bool { return ackedNow() >= 20 })

	srv.Stop()
	before := ackedNow()
	var streamErr error
	select {
	case streamErr = <-streamEnd:
	case <-time.After(60 * time.Second):
		t.Fatal("the event stream did not end during the outage")
	}
	if status.Code(streamErr) != codes.Unavailable {
		t.Errorf("the stream ended with %v, want Unavailable", streamErr)
	}
	waitFor("failed calls during the outage", func() bool { mu.Lock(); defer mu.Unlock(); return failures[codes.Unavailable] >= 10 })
	srv.Start()
	waitFor("writes after the outage", func() bool { return ackedNow() >= before+20 })
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	for c, n := range failures {
		if c != codes.Unavailable {
			t.Errorf("%d calls failed with %v during the outage, want Unavailable only", n, c)
		}
	}
	if slowest > 15*time.Second {
		t.Errorf("a failing call took %v: calls must fail fast", slowest)
	}
	mu.Unlock()
	checkAcked(t, o, acked)

	// Resume after the last event received: exactly the later events, in
	// commit order (a fresh subscription from the start gives that order).
	smu.Lock()
	got := append([]string(nil), received...)
	smu.Unlock()
	if len(got) == 0 {
		t.Fatal("the subscriber received nothing before the outage")
	}
	total := len(allEvents(t, o))
	all := ids(subscribe(t, o, "", total))
	resumed := ids(subscribe(t, o, got[len(got)-1], total-len(got)))
	if strings.Join(append(got, resumed...), ",") != strings.Join(all, ",") {
		t.Fatalf("received %d events before the outage and %d after resuming; they are not the log's %d events in order", len(got), len(resumed), len(all))
	}
	p.stop()
	report(t, fmt.Sprintf("CouchDB outage (solo server on Apache CouchDB, stopped and restarted under 2 writers and a subscriber): %d writes acknowledged, all there; %d calls failed during the outage, all Unavailable (%d saying the outcome is unknown), slowest %v; the stream ended with Unavailable and resumed with no gap or duplicate",
		len(acked), failures[codes.Unavailable], unknown, slowest.Round(time.Millisecond)))
}
