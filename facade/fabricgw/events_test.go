package fabricgw

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/compactwire"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// ev is the test event called name; its id is uid(name).
func ev(name string) *protos.Event {
	return &protos.Event{Id: uid(name), AssetKey: "k-" + name, EventKind: protos.EventKind_EVENT_ASSET_CREATED}
}

// uid is the event id of the test event called name (at most 6 bytes): a
// UUID, as the contracts give events, whose first bytes are the name's (so
// that test events, like real ones, differ in their first bytes).
func uid(name string) string {
	h := hex.EncodeToString([]byte(name)) + strings.Repeat("0", 12-2*len(name))
	return h[:8] + "-" + h[8:12] + "-4000-8000-000000000000"
}

// eventName is the name of the test event whose id is id.
func eventName(id string) string {
	h := strings.TrimRight(id[:8]+id[9:13], "0")
	if len(h)%2 == 1 {
		h += "0"
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return id
	}
	return string(b)
}

func valid(events ...*protos.Event) txSpec {
	return txSpec{chaincode: "orchestrator", eventName: eventwire.ChaincodeEventName, events: events, code: peer.TxValidationCode_VALID}
}

// compact is valid(events...) with the event payload in compact form.
func compact(events ...*protos.Event) txSpec {
	tx := valid(events...)
	tx.compact = true
	return tx
}

// testChain is a channel's blocks: a genesis config block, then events
// e1..e7 spread over transactions, some of which must be ignored, their
// payloads plain or compact.
func testChain(t *testing.T) []*cb.Block {
	return []*cb.Block{
		makeBlock(t, 0, txSpec{config: true}),
		makeBlock(t, 1, valid(ev("e1"), ev("e2")), compact(ev("e3"))),
		makeBlock(t, 2,
			txSpec{chaincode: "orchestrator", eventName: eventwire.ChaincodeEventName, events: []*protos.Event{ev("bad")}, code: peer.TxValidationCode_MVCC_READ_CONFLICT},
			txSpec{chaincode: "other", eventName: eventwire.ChaincodeEventName, events: []*protos.Event{ev("alien")}},
			txSpec{chaincode: "orchestrator", eventName: "something-else", events: []*protos.Event{ev("alien2")}},
			valid(ev("e4")),
		),
		makeBlock(t, 3, valid()),
		makeBlock(t, 4, compact(ev("e5"), ev("e6"), ev("e7"))),
		makeBlock(t, 5, txSpec{config: true}),
	}
}

func TestBlockEvents(t *testing.T) {
	chain := testChain(t)
	var got []string
	for _, b := range chain {
		events, err := blockEvents(b, "orchestrator", mustCodec())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			got = append(got, eventName(e.GetId()))
		}
	}
	want := []string{"e1", "e2", "e3", "e4", "e5", "e6", "e7"}
	if !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

func TestBlockEventsRejectsGarbage(t *testing.T) {
	b := makeBlock(t, 7, valid(ev("e1")))
	b.Data.Data[0] = []byte{0xff, 0xff, 0xff}
	if _, err := blockEvents(b, "orchestrator", mustCodec()); err == nil {
		t.Fatal("no error for an undecodable envelope")
	}
	broken := valid()
	broken.payload = []byte{0, 1, 0x28, 0xb5, 0x2f, 0xfd, 0xff}
	if _, err := blockEvents(makeBlock(t, 8, broken), "orchestrator", mustCodec()); !errors.Is(err, compactwire.ErrMalformed) {
		t.Fatalf("err = %v for an undecodable compact event, want ErrMalformed", err)
	}
}

// collect reads up to n events (or until an error) from a subscription
// after the test event called after, and returns their names.
func collect(t *testing.T, g *Gateway, ctx context.Context, after string, n int) ([]string, error) {
	t.Helper()
	if after != "" {
		after = uid(after)
	}
	var ids []string
	for e, err := range g.Subscribe(ctx, "", after) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, eventName(e.GetId()))
		if len(ids) == n {
			break
		}
	}
	return ids, nil
}

func TestSubscribeResumesWithoutGapsOrDuplicates(t *testing.T) {
	all := []string{"e1", "e2", "e3", "e4", "e5", "e6", "e7"}
	for i := -1; i < len(all); i++ {
		after := ""
		if i >= 0 {
			after = all[i]
		}
		t.Run("after "+after, func(t *testing.T) {
			ch := &fakeChannel{chain: testChain(t), closeEnd: true}
			g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
			ids, err := collect(t, g, context.Background(), after, 100)
			if want := all[i+1:]; !slices.Equal(ids, want) {
				t.Errorf("events = %v, want %v", ids, want)
			}
			if !errors.Is(err, facade.ErrUnavailable) {
				t.Errorf("end of stream: %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestSubscribeUnknownEvent(t *testing.T) {
	ch := &fakeChannel{chain: testChain(t), live: make(chan *cb.Block)}
	g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ids, err := collect(t, g, ctx, "nope", 100)
	if len(ids) != 0 || orcerr.KindOf(err) != orcerr.NotFound {
		t.Errorf("got %v, %v; want no event and a not found error", ids, err)
	}
}

func TestSubscribeFollowsNewBlocks(t *testing.T) {
	ch := &fakeChannel{chain: testChain(t), live: make(chan *cb.Block)}
	g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		for n := uint64(6); n < 9; n++ {
			select {
			case ch.live <- makeBlock(t, n, valid(ev(fmt.Sprintf("n%d", n)))):
			case <-ctx.Done():
				return
			}
		}
	}()
	ids, err := collect(t, g, ctx, "e6", 4)
	if want := []string{"e7", "n6", "n7", "n8"}; err != nil || !slices.Equal(ids, want) {
		t.Errorf("got %v, %v; want %v", ids, err, want)
	}
}

func TestSubscribeEndsWithContext(t *testing.T) {
	ch := &fakeChannel{chain: testChain(t), live: make(chan *cb.Block)}
	g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	ids, err := collect(t, g, ctx, "", 100)
	if len(ids) != 7 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, %v; want 7 events then the deadline", ids, err)
	}
}

func TestSubscribeRefusesAnotherOrg(t *testing.T) {
	g := testGateway(t, 0, map[string]*fakeChannel{})
	ctx := facade.WithCaller(context.Background(), facade.Caller{MSPID: "Org2MSP"})
	_, err := collect(t, g, ctx, "", 1)
	if orcerr.KindOf(err) != orcerr.PermissionDenied {
		t.Errorf("err = %v, want permission denied", err)
	}
}

func TestSubscribeStartsAtARememberedEvent(t *testing.T) {
	ch := &fakeChannel{chain: testChain(t), closeEnd: true}
	g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
	ctx := context.Background()
	if _, err := collect(t, g, ctx, "", 100); !errors.Is(err, facade.ErrUnavailable) {
		t.Fatal(err)
	}
	ids, err := collect(t, g, ctx, "e5", 100)
	if want := []string{"e6", "e7"}; !slices.Equal(ids, want) || !errors.Is(err, facade.ErrUnavailable) {
		t.Errorf("got %v, %v; want %v", ids, err, want)
	}
	if want := []uint64{0, 4}; !slices.Equal(ch.starts, want) {
		t.Errorf("block streams started at %v, want %v (e5 is in block 4)", ch.starts, want)
	}
}

// longChain is a chain of n blocks, block i > 0 holding event "b<i>".
func longChain(t *testing.T, n int) []*cb.Block {
	chain := []*cb.Block{makeBlock(t, 0, txSpec{config: true})}
	for i := 1; i < n; i++ {
		chain = append(chain, makeBlock(t, uint64(i), valid(ev(fmt.Sprintf("b%d", i)))))
	}
	return chain
}

func TestSubscribeFindsAnOldEventFromTheEnd(t *testing.T) {
	// A Gateway that never streamed the events (a restarted facade).
	ch := &fakeChannel{chain: testChain(t), closeEnd: true}
	g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
	ids, err := collect(t, g, context.Background(), "e5", 100)
	if want := []string{"e6", "e7"}; !slices.Equal(ids, want) || !errors.Is(err, facade.ErrUnavailable) {
		t.Errorf("got %v, %v; want %v", ids, err, want)
	}
	// Windows [5,6), [3,5) (e5 is in block 4), then the stream from 4.
	if want := []uint64{5, 3, 4}; !slices.Equal(ch.starts, want) {
		t.Errorf("block streams started at %v, want %v", ch.starts, want)
	}

	g = testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
	ch.starts = nil
	ids, err = collect(t, g, context.Background(), "e2", 100)
	if want := []string{"e3", "e4", "e5", "e6", "e7"}; !slices.Equal(ids, want) || !errors.Is(err, facade.ErrUnavailable) {
		t.Errorf("got %v, %v; want %v", ids, err, want)
	}
	if want := []uint64{5, 3, 0, 1}; !slices.Equal(ch.starts, want) {
		t.Errorf("block streams started at %v, want %v", ch.starts, want)
	}
}

func TestSubscribeReadsLittleOfALongChain(t *testing.T) {
	const n = 10000
	for _, back := range []int{1, 10, 1000} {
		t.Run(fmt.Sprint(back), func(t *testing.T) {
			ch := &fakeChannel{chain: longChain(t, n), closeEnd: true}
			g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
			after := fmt.Sprintf("b%d", n-back)
			ids, err := collect(t, g, context.Background(), after, n)
			if len(ids) != back-1 || !errors.Is(err, facade.ErrUnavailable) {
				t.Fatalf("got %d events, %v; want %d", len(ids), err, back-1)
			}
			if back > 1 && ids[0] != fmt.Sprintf("b%d", n-back+1) {
				t.Errorf("first event %s after %s", ids[0], after)
			}
			// At most about twice the distance to find the block, then
			// the distance again to stream what follows.
			if limit := 3*back + 2; ch.sentSettled() > limit {
				t.Errorf("read %d blocks to resume %d blocks from the end, want at most %d", ch.sentSettled(), back, limit)
			}
		})
	}
}

func TestSubscribeFindsAnEventCommittedMeanwhile(t *testing.T) {
	// The peer had 4 blocks when asked; e5 is in block 4, committed since
	// (the client saw it through another organization's peer).
	ch := &fakeChannel{chain: testChain(t), closeEnd: true, heights: []uint64{4}}
	g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
	ids, err := collect(t, g, context.Background(), "e5", 100)
	if want := []string{"e6", "e7"}; !slices.Equal(ids, want) || !errors.Is(err, facade.ErrUnavailable) {
		t.Errorf("got %v, %v; want %v", ids, err, want)
	}
}

func TestEventIndexForgetsTheOldest(t *testing.T) {
	var x eventIndex
	for i := range eventIndexSize + 10 {
		x.put("ch", fmt.Sprint(i), uint64(i))
	}
	x.put("ch", "20", 999) // already known: unchanged
	if _, ok := x.get("ch", "5"); ok {
		t.Error("event 5 still remembered after the index wrapped")
	}
	if b, ok := x.get("ch", "20"); !ok || b != 20 {
		t.Errorf("event 20: %d, %v; want 20, true", b, ok)
	}
	if _, ok := x.get("other", "20"); ok {
		t.Error("event found on another channel")
	}
	if len(x.block) != eventIndexSize {
		t.Errorf("index holds %d positions, want %d", len(x.block), eventIndexSize)
	}
}

func TestCheckpointSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	chain := testChain(t)
	cfg := Config{MSPID: "Org1MSP", Chaincode: "orchestrator", StateDir: dir}
	first := &fakeChannel{chain: chain, closeEnd: true}
	g := testGatewayConfig(t, cfg, map[string]*fakeChannel{DefaultChannel: first})
	if _, err := collect(t, g, context.Background(), "", 100); !errors.Is(err, facade.ErrUnavailable) {
		t.Fatal(err)
	}
	g.Close()
	// Append a torn line, as a crash in the middle of a write leaves.
	f, err := os.OpenFile(filepath.Join(dir, checkpointFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(DefaultChannel + "\te9")
	f.Close()

	// The restarted Gateway starts at e5's block at once: no height call,
	// no backwards search.
	again := &fakeChannel{chain: chain, closeEnd: true, heights: []uint64{0}}
	g2 := testGatewayConfig(t, cfg, map[string]*fakeChannel{DefaultChannel: again})
	ids, err := collect(t, g2, context.Background(), "e5", 100)
	if want := []string{"e6", "e7"}; !slices.Equal(ids, want) || !errors.Is(err, facade.ErrUnavailable) {
		t.Errorf("got %v, %v; want %v", ids, err, want)
	}
	if want := []uint64{4}; !slices.Equal(again.starts, want) {
		t.Errorf("block streams started at %v, want %v (e5 is in block 4)", again.starts, want)
	}
	if len(again.heights) != 1 {
		t.Error("the restarted Gateway read the chain's height: it searched instead of using the checkpoint")
	}
}

// TestSubscribeUnknownEventFromIndex: the first unknown start event reads
// the chain once; later ones read only the blocks added since, and an id
// that is no event id reads nothing.
func TestSubscribeUnknownEventFromIndex(t *testing.T) {
	const n = 1000
	ch := &fakeChannel{chain: longChain(t, n), closeEnd: true}
	g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
	sent := ch.sentSettled
	unknown := func(name string) {
		t.Helper()
		if _, err := collect(t, g, context.Background(), name, 1); orcerr.KindOf(err) != orcerr.NotFound {
			t.Fatalf("unknown event %s: %v, want NotFound", name, err)
		}
	}
	unknown("nope1")
	if got := sent(); got < n-1 || got > 2*n {
		t.Fatalf("first unknown event: read %d blocks, want the chain once (%d)", got, n)
	}
	before := sent()
	unknown("nope2")
	if got := sent() - before; got != 0 {
		t.Fatalf("second unknown event: read %d blocks, want 0", got)
	}
	ch.mu.Lock()
	ch.chain = append(ch.chain, makeBlock(t, n, valid(ev("new"))))
	ch.mu.Unlock()
	before = sent()
	unknown("nope3")
	if got := sent() - before; got != 1 {
		t.Fatalf("after one new block: read %d blocks, want 1", got)
	}
	// A known old event is found from the index: one block to check it,
	// then the stream.
	before = sent()
	ids, err := collect(t, g, context.Background(), "b500", 1)
	if err != nil || len(ids) != 1 || ids[0] != "b501" {
		t.Fatalf("after b500: %v, %v", ids, err)
	}
	if got := sent() - before; got > 4 {
		t.Fatalf("old event from the index: read %d blocks, want at most 4", got)
	}
	before = sent()
	for e, err := range g.Subscribe(context.Background(), "", "not-an-event-id") {
		if orcerr.KindOf(err) != orcerr.NotFound || e != nil {
			t.Fatalf("malformed start event: %v, %v", e, err)
		}
	}
	if got := sent() - before; got != 0 {
		t.Fatalf("malformed start event: read %d blocks, want 0", got)
	}
}
