package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// fnChaincode runs the function the test set, on a ledger view of the
// stub, and flushes it when the function succeeds.
type fnChaincode struct {
	fn func(l *ledger.Tx) error
}

func (c *fnChaincode) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (c *fnChaincode) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	l := ledger.New(stub, "")
	if err := c.fn(l); err != nil {
		return shim.Error(err.Error())
	}
	if err := l.Flush(); err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success(nil)
}

type harness struct {
	t   *testing.T
	cc  *fnChaincode
	p   *solo.Peer
	now time.Time
	ev  *solo.ChaincodeEvent
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, cc: &fnChaincode{}, now: t0.Add(-time.Second)}
	h.p = solo.New(h.cc, memstore.Opener(), solo.WithClock(func() time.Time {
		h.now = h.now.Add(time.Second)
		return h.now
	}))
	t.Cleanup(func() { h.p.Close() })
	return h
}

func (h *harness) run(submit bool, msp string, fn func(l *ledger.Tx) error) error {
	h.t.Helper()
	h.cc.fn = fn
	prop := solo.Proposal{Channel: "ch", Creator: solo.Identity{MSPID: msp}, Args: [][]byte{[]byte("x")}}
	var res *solo.Result
	var err error
	if submit {
		res, err = h.p.Submit(context.Background(), prop)
	} else {
		res, err = h.p.Evaluate(context.Background(), prop)
	}
	var ce *solo.ChaincodeError
	if errors.As(err, &ce) {
		return errors.New(ce.Message)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	h.ev = res.Event
	return nil
}

// submit commits fn, failing the test on error.
func (h *harness) submit(fn func(l *ledger.Tx) error) {
	h.t.Helper()
	if err := h.run(true, "Org1MSP", fn); err != nil {
		h.t.Fatal(err)
	}
}

// evaluate runs fn read-only, failing the test on error.
func (h *harness) evaluate(fn func(l *ledger.Tx) error) {
	h.t.Helper()
	if err := h.run(false, "Org1MSP", fn); err != nil {
		h.t.Fatal(err)
	}
}
