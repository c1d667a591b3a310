package solotest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// Peer runs one chaincode on solo over a memory store, for the tests of
// that chaincode. Its methods take and return only standard and Fabric
// types, so that a test harness that must not depend on solo can declare
// them as its own interface and be handed a Peer by the tests.
type Peer struct {
	p *solo.Peer
}

// Start runs cc on a fresh memory store, closed when the test ends. clock
// gives the timestamp of each transaction (nil: the wall clock).
func Start(tb testing.TB, cc shim.Chaincode, clock func() time.Time) *Peer {
	tb.Helper()
	var opts []solo.Option
	if clock != nil {
		opts = append(opts, solo.WithClock(clock))
	}
	p := solo.New(cc, memstore.Opener(), opts...)
	tb.Cleanup(func() { p.Close() })
	return &Peer{p: p}
}

// Submit runs args (the function name, then its arguments) as a member of
// msp on channel and commits the transaction. A chaincode that refuses
// (status 400 or more) is a response with its status and message, nothing
// committed; the error is for a transaction that could not run (a store
// failure, conflicts beyond the retries).
func (p *Peer) Submit(ctx context.Context, channel, msp string, args [][]byte) (*peer.Response, *peer.ChaincodeEvent, error) {
	res, err := p.p.Submit(ctx, proposal(channel, msp, args))
	r, err := response(res, err)
	if err != nil || r.Status != shim.OK || res.Event == nil {
		return r, nil, err
	}
	return r, &peer.ChaincodeEvent{TxId: res.TxID, EventName: res.Event.Name, Payload: res.Event.Payload}, nil
}

// Evaluate runs args as a member of msp on channel without committing, as
// Submit does otherwise.
func (p *Peer) Evaluate(ctx context.Context, channel, msp string, args [][]byte) (*peer.Response, error) {
	return response(p.p.Evaluate(ctx, proposal(channel, msp, args)))
}

// State returns every key and value of the committed state of channel, in
// key order.
func (p *Peer) State(ctx context.Context, channel string) ([]*queryresult.KV, error) {
	st, err := p.p.Store(ctx, channel)
	if err != nil {
		return nil, err
	}
	r, err := st.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	kvs, err := r.Scan(ctx, "", "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]*queryresult.KV, len(kvs))
	for i, kv := range kvs {
		out[i] = &queryresult.KV{Namespace: channel, Key: kv.Key, Value: kv.Value}
	}
	return out, nil
}

func proposal(channel, msp string, args [][]byte) solo.Proposal {
	return solo.Proposal{Channel: channel, Creator: solo.Identity{MSPID: msp}, Args: args}
}

// response turns solo's answer into the chaincode's response.
func response(res *solo.Result, err error) (*peer.Response, error) {
	var ce *solo.ChaincodeError
	switch {
	case errors.As(err, &ce):
		return &peer.Response{Status: ce.Status, Message: ce.Message}, nil
	case err != nil:
		return nil, err
	}
	return &peer.Response{Status: shim.OK, Payload: res.Payload}, nil
}
