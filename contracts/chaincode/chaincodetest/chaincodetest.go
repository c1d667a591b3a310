// Package chaincodetest runs the orchestrator chaincode in-process, on solo
// over a memory store, for the contract tests. It is test support: no
// production code imports it.
package chaincodetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// Channel is the channel the transactions run on.
const Channel = "mychannel"

// Start is the time of the first transaction; each transaction is one
// second later than the previous one.
var Start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Net is the chaincode running on a solo peer.
type Net struct {
	t    testing.TB
	Peer *solo.Peer

	mu  sync.Mutex
	now time.Time
	// LastEvents are the events of the last successful Submit.
	LastEvents []*protos.Event
}

// Option configures New.
type Option func(*options)

type options struct {
	once    bool
	version string
}

// Once runs each invocation once instead of twice (see EndorseTwice), for
// benchmarks.
func Once() Option { return func(o *options) { o.once = true } }

// Version builds the chaincode with chaincode.WithVersion(v).
func Version(v string) Option { return func(o *options) { o.version = v } }

// New starts the chaincode on a fresh memory store; it is closed when the
// test ends. Every invocation runs twice and must give the same result
// (EndorseTwice) unless Once is given.
func New(t testing.TB, opts ...Option) *Net {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cc, err := chaincode.New(chaincode.WithVersion(o.version))
	if err != nil {
		t.Fatalf("chaincode.New: %v", err)
	}
	n := &Net{t: t, now: Start.Add(-time.Second)}
	var run shim.Chaincode = cc
	if !o.once {
		run = EndorseTwice(cc)
	}
	n.Peer = solo.New(run, memstore.Opener(), solo.WithClock(n.tick))
	t.Cleanup(func() { n.Peer.Close() })
	return n
}

func (n *Net) tick() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.now = n.now.Add(time.Second)
	return n.now
}

// Now is the time of the last transaction.
func (n *Net) Now() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.now
}

func (n *Net) call(submit bool, msp, tx string, req, res proto.Message) error {
	n.t.Helper()
	b, err := proto.Marshal(req)
	if err != nil {
		n.t.Fatalf("marshal %s request: %v", tx, err)
	}
	prop := solo.Proposal{Channel: Channel, Creator: solo.Identity{MSPID: msp}, Args: [][]byte{[]byte(tx), b}}
	run := n.Peer.Evaluate
	if submit {
		run = n.Peer.Submit
	}
	r, err := run(context.Background(), prop)
	if err != nil {
		var ce *solo.ChaincodeError
		if errors.As(err, &ce) {
			return &Error{Message: ce.Message}
		}
		n.t.Fatalf("%s: %v", tx, err)
	}
	if submit {
		n.LastEvents = nil
		if r.Event != nil {
			n.LastEvents = DecodeEvents(n.t, r.Event.Payload)
			if r.Event.Name != "orchestrator" {
				n.t.Errorf("%s: chaincode event name %q, want orchestrator", tx, r.Event.Name)
			}
		}
	}
	if res != nil {
		if err := proto.Unmarshal(r.Payload, res); err != nil {
			n.t.Fatalf("%s: decode response: %v", tx, err)
		}
	}
	return nil
}

// Submit runs tx as msp and commits it; res (if not nil) receives the
// response. A chaincode error is returned as *Error.
func (n *Net) Submit(msp, tx string, req, res proto.Message) error {
	n.t.Helper()
	return n.call(true, msp, tx, req, res)
}

// Evaluate runs tx as msp without committing.
func (n *Net) Evaluate(msp, tx string, req, res proto.Message) error {
	n.t.Helper()
	return n.call(false, msp, tx, req, res)
}

// MustSubmit is Submit failing the test on error.
func (n *Net) MustSubmit(msp, tx string, req, res proto.Message) {
	n.t.Helper()
	if err := n.Submit(msp, tx, req, res); err != nil {
		n.t.Fatalf("%s as %s: %v", tx, msp, err)
	}
}

// MustEvaluate is Evaluate failing the test on error.
func (n *Net) MustEvaluate(msp, tx string, req, res proto.Message) {
	n.t.Helper()
	if err := n.Evaluate(msp, tx, req, res); err != nil {
		n.t.Fatalf("%s as %s: %v", tx, msp, err)
	}
}

// Error is a chaincode error response.
type Error struct{ Message string }

// Error returns the chaincode error message.
func (e *Error) Error() string { return e.Message }

// Kind is the orchestration error kind of the message.
func (e *Error) Kind() orcerr.Kind { return orcerr.KindOf(errors.New(e.Message)) }

// KindOf returns the orchestration error kind of an error returned by
// Submit or Evaluate ("" for nil).
func KindOf(err error) orcerr.Kind {
	if err == nil {
		return ""
	}
	return orcerr.KindOf(err)
}

// DecodeEvents splits a chaincode event payload into events.
func DecodeEvents(t testing.TB, payload []byte) []*protos.Event {
	t.Helper()
	out, err := eventwire.Decode(payload)
	if err != nil {
		t.Fatalf("decode chaincode event: %v", err)
	}
	return out
}

// State returns every key and value of the channel's committed state.
func (n *Net) State() map[string]string {
	n.t.Helper()
	ctx := context.Background()
	st, err := n.Peer.Store(ctx, Channel)
	if err != nil {
		n.t.Fatalf("store: %v", err)
	}
	r, err := st.Begin(ctx)
	if err != nil {
		n.t.Fatalf("begin: %v", err)
	}
	defer r.Close()
	kvs, err := r.Scan(ctx, "", "", 0)
	if err != nil {
		n.t.Fatalf("scan: %v", err)
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[kv.Key] = string(kv.Value)
	}
	return out
}

// Unchanged runs fn and fails the test if the committed state differs
// afterwards.
func (n *Net) Unchanged(fn func()) {
	n.t.Helper()
	before := n.State()
	fn()
	after := n.State()
	if len(before) != len(after) {
		n.t.Errorf("state changed: %d keys before, %d after", len(before), len(after))
		return
	}
	for k, v := range before {
		if after[k] != v {
			n.t.Errorf("state changed at key %q", k)
			return
		}
	}
}

// EvaluateRaw evaluates tx with raw arguments and returns the raw payload.
func (n *Net) EvaluateRaw(msp, tx string, args ...[]byte) ([]byte, error) {
	n.t.Helper()
	prop := solo.Proposal{Channel: Channel, Creator: solo.Identity{MSPID: msp}, Args: append([][]byte{[]byte(tx)}, args...)}
	r, err := n.Peer.Evaluate(context.Background(), prop)
	if err != nil {
		var ce *solo.ChaincodeError
		if errors.As(err, &ce) {
			return nil, &Error{Message: ce.Message}
		}
		return nil, err
	}
	return r.Payload, nil
}

// Expect runs fn (typically a Submit) and fails the test unless its error
// has kind want ("" meaning success). A failing call must leave the state
// unchanged, which Expect checks too.
func (n *Net) Expect(want orcerr.Kind, fn func() error) {
	n.t.Helper()
	var before map[string]string
	if want != "" {
		before = n.State()
	}
	err := fn()
	if k := KindOf(err); k != want {
		n.t.Fatalf("error %v, want kind %q", err, want)
	}
	if want == "" {
		return
	}
	after := n.State()
	if len(before) != len(after) {
		n.t.Fatalf("rejected call changed the state: %d keys before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			n.t.Fatalf("rejected call changed key %q", k)
		}
	}
}
