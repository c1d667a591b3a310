// Package chaincodetest runs the orchestrator chaincode for the contract
// tests, on a peer that the tests hand it (Peer): solo over a memory store
// (solotest.Start), or any runtime with the same three methods. It is test
// support: no production code imports it, and it imports no runtime.
//
//	n := chaincodetest.New(t, solotest.Start)
//	n.RegisterOrgs("Org1MSP")
package chaincodetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Channel is the channel the transactions run on.
const Channel = "mychannel"

// Start is the time of the first transaction; each transaction is one
// second later than the previous one.
var Start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Peer is what the harness runs the chaincode on: a peer that endorses and
// commits its transactions, called as a member of an organization (msp)
// on a channel with the transaction's arguments (the function name, then
// the request). A chaincode that refuses a transaction answers a response
// with status 400 or more, and nothing is committed; an error means the
// peer could not run it.
type Peer interface {
	// Submit runs a transaction and commits it; the event is the one the
	// transaction set, nil if none.
	Submit(ctx context.Context, channel, msp string, args [][]byte) (*peer.Response, *peer.ChaincodeEvent, error)
	// Evaluate runs a transaction without committing it.
	Evaluate(ctx context.Context, channel, msp string, args [][]byte) (*peer.Response, error)
	// State returns every key and value of the channel's committed state,
	// in key order.
	State(ctx context.Context, channel string) ([]*queryresult.KV, error)
}

// Net is the chaincode running on a Peer.
type Net struct {
	t    testing.TB
	peer Peer

	mu  sync.Mutex
	now time.Time
	// payloads are the chaincode event payloads of every successful
	// Submit, in the order their calls returned, decoded only when asked
	// for (benchmarks never ask); read counts those NewEvents returned,
	// last is the last Submit's (nil if it set no event).
	payloads [][]byte
	read     int
	last     []byte
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

// New builds the orchestrator chaincode and runs it on the peer that start
// returns (for instance solotest.Start), which timestamps transactions
// with the harness's clock (Start, then one second per transaction).
// Every invocation runs twice and must give the same result
// (EndorseTwice) unless Once is given.
func New[P Peer](t testing.TB, start func(tb testing.TB, cc shim.Chaincode, clock func() time.Time) P, opts ...Option) *Net {
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
	n.peer = start(t, run, n.tick)
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

// invoke runs args on the peer; a refusal is returned as *Error.
func (n *Net) invoke(submit bool, msp string, args [][]byte) ([]byte, error) {
	ctx := context.Background()
	var r *peer.Response
	var ev *peer.ChaincodeEvent
	var err error
	if submit {
		r, ev, err = n.peer.Submit(ctx, Channel, msp, args)
	} else {
		r, err = n.peer.Evaluate(ctx, Channel, msp, args)
	}
	if err != nil {
		return nil, err
	}
	if r.GetStatus() >= shim.ERRORTHRESHOLD {
		return nil, &Error{Message: r.GetMessage()}
	}
	if submit {
		if ev != nil && ev.GetEventName() != eventwire.ChaincodeEventName {
			n.t.Errorf("%s: chaincode event name %q, want %s", args[0], ev.GetEventName(), eventwire.ChaincodeEventName)
		}
		n.mu.Lock()
		n.last = ev.GetPayload()
		if n.last != nil {
			n.payloads = append(n.payloads, n.last)
		}
		n.mu.Unlock()
	}
	return r.GetPayload(), nil
}

func (n *Net) call(submit bool, msp, tx string, req, res proto.Message) error {
	n.t.Helper()
	b, err := proto.Marshal(req)
	if err != nil {
		n.t.Fatalf("marshal %s request: %v", tx, err)
	}
	payload, err := n.invoke(submit, msp, [][]byte{[]byte(tx), b})
	var ce *Error
	switch {
	case errors.As(err, &ce):
		return err
	case err != nil:
		n.t.Fatalf("%s: %v", tx, err)
	}
	if res != nil {
		if err := proto.Unmarshal(payload, res); err != nil {
			n.t.Fatalf("%s: decode response: %v", tx, err)
		}
	}
	return nil
}

// NewEvents returns the events of the transactions committed through
// Submit since the previous call, in the order the calls returned.
func (n *Net) NewEvents() []*protos.Event {
	n.t.Helper()
	n.mu.Lock()
	payloads := n.payloads[n.read:]
	n.read = len(n.payloads)
	n.mu.Unlock()
	var out []*protos.Event
	for _, p := range payloads {
		out = append(out, DecodeEvents(n.t, p)...)
	}
	return out
}

// LastEvents returns the events of the last successful Submit.
func (n *Net) LastEvents() []*protos.Event {
	n.t.Helper()
	n.mu.Lock()
	last := n.last
	n.mu.Unlock()
	if last == nil {
		return nil
	}
	return DecodeEvents(n.t, last)
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
	kvs := n.StateKVs()
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[kv.GetKey()] = string(kv.GetValue())
	}
	return out
}

// StateKVs returns every key and value of the channel's committed state,
// in key order.
func (n *Net) StateKVs() []*queryresult.KV {
	n.t.Helper()
	kvs, err := n.peer.State(context.Background(), Channel)
	if err != nil {
		n.t.Fatalf("state: %v", err)
	}
	return kvs
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

// EvaluateRaw evaluates tx with raw arguments and returns the raw payload;
// a refusal is returned as *Error.
func (n *Net) EvaluateRaw(msp, tx string, args ...[]byte) ([]byte, error) {
	n.t.Helper()
	return n.invoke(false, msp, append([][]byte{[]byte(tx)}, args...))
}

// SubmitRaw submits tx with raw arguments (for malformed requests); a
// refusal is returned as *Error.
func (n *Net) SubmitRaw(msp, tx string, args ...[]byte) error {
	n.t.Helper()
	_, err := n.invoke(true, msp, append([][]byte{[]byte(tx)}, args...))
	return err
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
