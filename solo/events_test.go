package solo_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
	"github.com/fedchain/orchestrator/solo/store"
)

// sizingStore records the bytes each ReadEvents call returned.
type sizingStore struct {
	store.Store
	mu      sync.Mutex
	batches []int
}

func (s *sizingStore) ReadEvents(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	evs, err := s.Store.ReadEvents(ctx, after, limit)
	n := 0
	for _, e := range evs {
		n += len(e.Payload)
	}
	s.mu.Lock()
	s.batches = append(s.batches, n)
	s.mu.Unlock()
	return evs, err
}

// TestEventStreamBatchesBounded: a stream over transactions with large
// events reads the log by about a MiB at a time, not by a fixed number of
// entries, and still delivers every entry once, in order.
func TestEventStreamBatchesBounded(t *testing.T) {
	ss := &sizingStore{Store: memstore.New()}
	p := solo.New(errCC(func(stub shim.ChaincodeStubInterface) error {
		// A transaction's events as a RegisterTasks of 500 tasks makes them.
		return stub.SetEvent("e", bytes.Repeat([]byte{stub.GetArgs()[0][0]}, 300<<10))
	}), store.OpenerFunc(func(context.Context, string) (store.Store, error) { return ss, nil }))
	t.Cleanup(func() { p.Close() })
	const entries = 40
	for i := range entries {
		if _, err := p.Submit(context.Background(), prop(string(rune('a'+i%26)))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for e, err := range p.Events(ctx, "ch", 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq == 0 || len(e.Payload) != 300<<10 || e.Payload[0] != byte('a'+n%26) {
			t.Fatalf("entry %d: seq %d, %d bytes, first %q", n, e.Seq, len(e.Payload), e.Payload[:1])
		}
		if n++; n == entries {
			break
		}
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.batches) < 2 {
		t.Fatalf("the stream read %d batches", len(ss.batches))
	}
	// The first batch is of a few entries; the next ones hold at most a
	// MiB (three of these entries).
	for i, b := range ss.batches[1:] {
		if b > 1<<20 {
			t.Errorf("batch %d: %d bytes, want at most 1 MiB", i+1, b)
		}
	}
	if first := ss.batches[0]; first > 8*300<<10 {
		t.Errorf("first batch: %d bytes", first)
	}
}
