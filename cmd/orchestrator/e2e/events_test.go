package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// registerSamples registers batches of data samples of manager as o (one
// transaction, and so one chaincode event holding size events, per batch).
func registerSamples(t *testing.T, o *org, manager string, first, batches, size int) {
	t.Helper()
	for b := range batches {
		var ns []*protos.NewDataSample
		for i := range size {
			ns = append(ns, &protos.NewDataSample{Key: key(0x5a, first+b*size+i), DataManagerKeys: []string{manager}, Checksum: strings.Repeat("ef", 32)})
		}
		must(o.samples().RegisterDataSamples(o.ctx(), &protos.RegisterDataSamplesParam{Samples: ns}))(t)
	}
}

func registerManager(t *testing.T, o *org, k string) {
	t.Helper()
	must(o.managers().RegisterDataManager(o.ctx(), &protos.NewDataManager{Key: k, Name: "dm", NewPermissions: public(),
		Description: addr("dm"), Opener: addr("opener"), Type: "csv", LogsPermission: only(o.id)}))(t)
}

func ids(evs []*protos.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.GetId()
	}
	return out
}

func TestEventStreams(t *testing.T) {
	p := startProc(t, "--data", t.TempDir())
	o := newOrg(t, p.addr, "Org1MSP", "mychannel")
	must(o.organizations().RegisterOrganization(o.ctx(), &protos.RegisterOrganizationParam{Address: "org1:443"}))(t)
	dm := key(0xd, 1)
	registerManager(t, o, dm)
	registerSamples(t, o, dm, 0, 10, 10) // 100 events in 10 transactions

	const subscribers, batches, size = 6, 40, 10
	before := allEvents(t, o)
	total := len(before) + batches*size

	// Subscribers from the start, started before concurrent writers: each
	// sees the whole log in the same order, without gap or duplicate.
	var wg sync.WaitGroup
	got := make([][]*protos.Event, subscribers)
	for i := range subscribers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = subscribe(t, o, "", total)
		}()
	}
	// A subscriber that reads one event and then nothing for a while must
	// not hold the writers back.
	slowCtx, cancelSlow := context.WithCancel(o.ctx())
	defer cancelSlow()
	slow, err := o.events().SubscribeToEvents(slowCtx, &protos.SubscribeToEventsParam{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Recv(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wwg sync.WaitGroup
	for w := range 4 {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			registerSamples(t, o, dm, 1000+w*batches/4*size, batches/4, size)
		}()
	}
	wwg.Wait()
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("writers took %v with a stalled subscriber", d)
	}
	wg.Wait()
	// Subscribers all see the commit order. QueryEvents sorts by
	// transaction time, which concurrent transactions may commit out of:
	// it holds the same events, maybe in another order.
	want := ids(got[0])
	for i, g := range got {
		if strings.Join(ids(g), ",") != strings.Join(want, ",") {
			t.Fatalf("subscriber %d: events differ from subscriber 0", i)
		}
	}
	queried := ids(allEvents(t, o))
	if len(queried) != total {
		t.Fatalf("QueryEvents has %d events, want %d", len(queried), total)
	}
	if strings.Join(slices.Sorted(slices.Values(queried)), ",") != strings.Join(slices.Sorted(slices.Values(want)), ",") {
		t.Fatal("QueryEvents and SubscribeToEvents hold different events")
	}
	// The slow subscriber catches up with the same sequence.
	rest := []string{}
	for len(rest) < total-1 {
		ev, err := slow.Recv()
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, ev.GetId())
	}
	if strings.Join(rest, ",") != strings.Join(want[1:], ",") {
		t.Fatal("the slow subscriber's events differ")
	}

	// Resume after any event, including one in the middle of a
	// transaction's events, and see the events after it, then live ones.
	for _, i := range []int{0, 1, 5, 57, total - 11, total - 1} {
		t.Run(fmt.Sprintf("resume after %d", i), func(t *testing.T) {
			n := min(total-i-1, 20)
			if n == 0 {
				return
			}
			evs := subscribe(t, o, want[i], n)
			if strings.Join(ids(evs), ",") != strings.Join(want[i+1:i+1+n], ",") {
				t.Fatalf("resumed after event %d: got %v", i, ids(evs)[:3])
			}
		})
	}
	// A subscriber at the head follows: the second batch is committed only
	// after the subscriber has received the first, so the stream was at
	// the head, waiting, when it came.
	ctx, cancel := context.WithTimeout(o.ctx(), 30*time.Second)
	defer cancel()
	liveStream, err := o.events().SubscribeToEvents(ctx, &protos.SubscribeToEventsParam{StartEventId: want[total-1]})
	if err != nil {
		t.Fatal(err)
	}
	for batch, first := range []int{5000, 6000} {
		registerSamples(t, o, dm, first, 1, 10)
		for i := range 10 {
			ev, err := liveStream.Recv()
			if err != nil {
				t.Fatalf("live batch %d, event %d: %v", batch, i, err)
			}
			if got := ev.GetDataSample().GetKey(); i == 0 && got != key(0x5a, first) {
				t.Fatalf("live batch %d starts with %v", batch, ev)
			}
		}
	}
	cancel()

	// An unknown start event is NotFound.
	s, err := o.events().SubscribeToEvents(o.ctx(), &protos.SubscribeToEventsParam{StartEventId: "no-such-event"})
	if err == nil {
		_, err = s.Recv()
	}
	if status.Code(err) != codes.NotFound {
		t.Fatalf("unknown start event: %v", err)
	}
	// Channels are separate ledgers.
	other := newOrg(t, p.addr, "Org1MSP", "otherchannel")
	if evs := allEvents(t, other); len(evs) != 0 {
		t.Fatalf("a new channel has %d events", len(evs))
	}
	p.stop()
}
