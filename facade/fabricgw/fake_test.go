package fabricgw

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/compactwire"
)

// fakeChannel is a channel whose transactions return scripted results.
type fakeChannel struct {
	mu       sync.Mutex
	name     string
	calls    []string // "submit <tx>" / "evaluate <tx>"
	compact  []bool   // per call, whether its request was in compact form
	results  []result // consumed one per call; the last one repeats
	chain    []*cb.Block
	live     chan *cb.Block // blocks appended after the chain, when not nil
	closeEnd bool           // close the block stream after the chain
	starts   []uint64       // start block of each blocks call
	sent     int            // blocks received from all block streams (see sentSettled)
	streams  sync.WaitGroup // block streams still running
	heights  []uint64       // heights returned, one per call, before len(chain)
	codec    *compactwire.Codec
}

type result struct {
	payload []byte
	err     error
}

// next returns the next scripted result; without one, it echoes the
// request ("echo:" and the request), in compact form when the request
// was, as the compact chaincode answers.
func (f *fakeChannel) next(kind, name string, arg []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	compact := compactwire.IsCompact(arg)
	f.calls = append(f.calls, kind+" "+name)
	f.compact = append(f.compact, compact)
	r := f.results[0]
	if len(f.results) > 1 {
		f.results = f.results[1:]
	}
	if r.payload == nil && r.err == nil {
		if !compact {
			return append([]byte("echo:"), arg...), nil
		}
		if f.codec == nil {
			f.codec = mustCodec()
		}
		plain, err := f.codec.Decode(arg)
		if err != nil {
			return nil, err
		}
		return f.codec.Encode(append([]byte("echo:"), plain...)), nil
	}
	return r.payload, r.err
}

// mustCodec returns a new codec.
func mustCodec() *compactwire.Codec {
	c, err := compactwire.NewCodec()
	if err != nil {
		panic(err)
	}
	return c
}

func (f *fakeChannel) submit(_ context.Context, name string, arg []byte) ([]byte, error) {
	return f.next("submit", name, arg)
}

func (f *fakeChannel) evaluate(_ context.Context, name string, arg []byte) ([]byte, error) {
	return f.next("evaluate", name, arg)
}

func (f *fakeChannel) height(context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.heights) > 0 {
		h := f.heights[0]
		f.heights = f.heights[1:]
		return h, nil
	}
	return uint64(len(f.chain)), nil
}

// sentSettled waits until every block stream has ended, then returns how
// many blocks their readers took: a stream's goroutine may still be
// between a send and its end when the reader has returned.
func (f *fakeChannel) sentSettled() int {
	f.streams.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent
}

// blocks streams the chain from start, then, unless closeEnd, the blocks
// sent on live: each one joins the chain (every stream sees it, in order),
// whichever stream received it.
func (f *fakeChannel) blocks(ctx context.Context, start uint64) (<-chan *cb.Block, error) {
	f.mu.Lock()
	f.starts = append(f.starts, start)
	f.mu.Unlock()
	out := make(chan *cb.Block)
	f.streams.Add(1)
	go func() {
		defer f.streams.Done()
		defer close(out)
		for i := int(start); ; i++ {
			f.mu.Lock()
			var b *cb.Block
			if i < len(f.chain) {
				b = f.chain[i]
			}
			f.mu.Unlock()
			if b == nil {
				if f.closeEnd {
					return
				}
				select {
				case nb := <-f.live:
					f.mu.Lock()
					f.chain = append(f.chain, nb)
					b = f.chain[i]
					f.mu.Unlock()
				case <-ctx.Done():
					return
				}
			}
			// Counted before the send, so that a reader that got the
			// block finds it counted; taken back when nobody took it.
			f.mu.Lock()
			f.sent++
			f.mu.Unlock()
			select {
			case out <- b:
			case <-ctx.Done():
				f.mu.Lock()
				f.sent--
				f.mu.Unlock()
				return
			}
		}
	}()
	return out, nil
}

func (f *fakeChannel) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// testGateway returns a Gateway for Org1MSP whose channels are fakes made
// by channels (by name), all of them served.
func testGateway(t *testing.T, retries int, channels map[string]*fakeChannel) *Gateway {
	t.Helper()
	cfg := Config{MSPID: "Org1MSP", Chaincode: "orchestrator", ConflictRetries: retries}
	for name := range channels {
		cfg.Channels = append(cfg.Channels, name)
	}
	slices.Sort(cfg.Channels)
	if slices.Contains(cfg.Channels, DefaultChannel) {
		cfg.Channel = DefaultChannel
	}
	return testGatewayConfig(t, cfg, channels)
}

// testGatewayConfig returns a Gateway for cfg whose channels are fakes
// made by channels (by name).
func testGatewayConfig(t *testing.T, cfg Config, channels map[string]*fakeChannel) *Gateway {
	t.Helper()
	g, err := newGateway(cfg, func(name string) channel {
		c, ok := channels[name]
		if !ok {
			t.Errorf("unexpected channel %q", name)
			return &fakeChannel{name: name, results: []result{{}}}
		}
		return c
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// txSpec describes one transaction of a test block.
type txSpec struct {
	chaincode string
	eventName string
	events    []*protos.Event
	code      peer.TxValidationCode
	config    bool   // a config transaction instead of an endorser one
	compact   bool   // the event payload in compact form
	payload   []byte // the event payload, instead of events'
}

// makeBlock builds block number num holding txs, marshalled as a peer
// delivers them.
func makeBlock(t *testing.T, num uint64, txs ...txSpec) *cb.Block {
	t.Helper()
	b := &cb.Block{Header: &cb.BlockHeader{Number: num}, Data: &cb.BlockData{}, Metadata: &cb.BlockMetadata{Metadata: make([][]byte, 5)}}
	flags := make([]byte, len(txs))
	for i, tx := range txs {
		flags[i] = byte(tx.code)
		b.Data.Data = append(b.Data.Data, envelope(t, tx))
	}
	b.Metadata.Metadata[cb.BlockMetadataIndex_TRANSACTIONS_FILTER] = flags
	return b
}

func envelope(t *testing.T, tx txSpec) []byte {
	t.Helper()
	typ := cb.HeaderType_ENDORSER_TRANSACTION
	if tx.config {
		typ = cb.HeaderType_CONFIG
	}
	var buf bytes.Buffer
	for _, ev := range tx.events {
		if _, err := protodelim.MarshalTo(&buf, ev); err != nil {
			t.Fatal(err)
		}
	}
	payload := buf.Bytes()
	if tx.payload != nil {
		payload = tx.payload
	}
	if tx.compact {
		payload = mustCodec().Encode(payload)
	}
	ce := &peer.ChaincodeEvent{ChaincodeId: tx.chaincode, EventName: tx.eventName, TxId: "tx", Payload: payload}
	ca := &peer.ChaincodeAction{Events: mustMarshal(t, ce)}
	prp := &peer.ProposalResponsePayload{Extension: mustMarshal(t, ca)}
	ap := &peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: mustMarshal(t, prp)}}
	ptx := &peer.Transaction{Actions: []*peer.TransactionAction{{Payload: mustMarshal(t, ap)}}}
	hdr := &cb.ChannelHeader{Type: int32(typ), TxId: "tx"}
	p := &cb.Payload{Header: &cb.Header{ChannelHeader: mustMarshal(t, hdr)}, Data: mustMarshal(t, ptx)}
	return mustMarshal(t, &cb.Envelope{Payload: mustMarshal(t, p)})
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
