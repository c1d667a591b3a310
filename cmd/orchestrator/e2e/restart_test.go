package e2e

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/protos"
)

func TestRestart(t *testing.T) {
	testRestart(t, "--data", t.TempDir())
}

// testRestart stops the server in the middle of a workload (SIGTERM, then
// SIGKILL) and checks that every acknowledged transaction survived, with
// its events, and that subscriptions resume across the restart. store are
// the flags that select the store.
func testRestart(t *testing.T, store ...string) {
	p := startProc(t, store...)
	o := newOrg(t, p.addr, "Org1MSP", "mychannel")
	must(o.organizations().RegisterOrganization(o.ctx(), &protos.RegisterOrganizationParam{Address: "org1:443"}))(t)
	dm := key(0xd, 1)
	registerManager(t, o, dm)
	registerSamples(t, o, dm, 0, 5, 10)
	before := ids(allEvents(t, o))

	// Graceful stop while writers run: every call either succeeds or
	// fails, and what succeeded is there after the restart.
	acked := writeUntilStopped(t, o, dm, 100, func() { p.stop() })
	p = startProc(t, store...)
	o = newOrg(t, p.addr, "Org1MSP", "mychannel")
	checkAcked(t, o, acked)
	after := ids(allEvents(t, o))
	if strings.Join(after[:len(before)], ",") != strings.Join(before, ",") {
		t.Fatal("the event log changed across the restart")
	}
	// The log in commit order, as a subscriber sees it.
	after = ids(subscribe(t, o, "", len(after)))
	// A subscription resumes from the last event seen before the restart.
	registerSamples(t, o, dm, 90000, 1, 3)
	evs := subscribe(t, o, after[len(after)-1], 3)
	if evs[0].GetDataSample().GetKey() != key(0x5a, 90000) {
		t.Fatalf("resumed subscription starts with %v", evs[0])
	}

	// kill -9 while writers run.
	acked = writeUntilStopped(t, o, dm, 200000, func() { p.kill() })
	p = startProc(t, store...)
	o = newOrg(t, p.addr, "Org1MSP", "mychannel")
	checkAcked(t, o, acked)
	// Every sample event of the log names a sample that exists, and the
	// other way round for the acknowledged ones.
	created := map[string]bool{}
	for _, e := range allEvents(t, o) {
		if s := e.GetDataSample(); s != nil {
			created[s.GetKey()] = true
		}
	}
	for _, k := range acked {
		if !created[k] {
			t.Fatalf("acknowledged sample %s has no event", k)
		}
	}
	p.stop()
}

// writeUntilStopped runs 4 writers registering samples (batches of 5)
// until the server stops under them: stop is called once writes are
// acknowledged. It returns the keys of the acknowledged registrations.
func writeUntilStopped(t *testing.T, o *org, dm string, base int, stop func()) []string {
	t.Helper()
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		next  atomic.Int64
		done  atomic.Bool
		// flowing is closed once 4 batches are acknowledged.
		flowing = make(chan struct{})
	)
	next.Store(int64(base))
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				first := int(next.Add(5)) - 5
				var ns []*protos.NewDataSample
				var ks []string
				for i := range 5 {
					ks = append(ks, key(0x5a, first+i))
					ns = append(ns, &protos.NewDataSample{Key: ks[i], DataManagerKeys: []string{dm}, Checksum: strings.Repeat("ef", 32)})
				}
				if _, err := o.samples().RegisterDataSamples(o.ctx(), &protos.RegisterDataSamplesParam{Samples: ns}); err != nil {
					continue
				}
				mu.Lock()
				acked = append(acked, ks...)
				if len(acked) >= 20 && len(acked)-len(ks) < 20 {
					close(flowing)
				}
				mu.Unlock()
			}
		}()
	}
	// Stop while writes flow: once 4 batches are acknowledged, the writers
	// have more in flight.
	select {
	case <-flowing:
	case <-time.After(20 * time.Second):
		t.Error("fewer than 4 batches acknowledged in 20 s")
	}
	stop()
	done.Store(true)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
	return acked
}

func checkAcked(t *testing.T, o *org, acked []string) {
	t.Helper()
	for _, k := range acked {
		if _, err := o.samples().GetDataSample(o.ctx(), &protos.GetDataSampleParam{Key: k}); err != nil {
			t.Fatalf("acknowledged sample %s: %v", k, err)
		}
	}
}
