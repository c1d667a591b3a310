package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

type testContract struct {
	contractapi.Contract
}

func (c *testContract) Put(ctx contractapi.TransactionContextInterface, k, v string) error {
	l := ledger.From(ctx)
	if l != ledger.From(ctx) {
		return errors.New("From returned two ledger views")
	}
	if err := l.PutState(k, []byte(v)); err != nil {
		return err
	}
	if v == "fail" {
		return errors.New("failing after a write")
	}
	return l.Emit(&protos.Event{AssetKey: k})
}

func (c *testContract) Get(ctx contractapi.TransactionContextInterface, k string) (string, error) {
	v, err := ledger.From(ctx).GetState(k)
	return string(v), err
}

func TestConfiguredContract(t *testing.T) {
	c := &testContract{}
	if ledger.IsConfigured(c) {
		t.Fatal("configured before Configure")
	}
	ledger.Configure(&c.Contract)
	if !ledger.IsConfigured(c) {
		t.Fatal("not configured after Configure")
	}
	cc, err := contractapi.NewChaincode(c)
	if err != nil {
		t.Fatal(err)
	}
	p := solo.New(cc, memstore.Opener())
	defer p.Close()
	call := func(submit bool, args ...string) (*solo.Result, error) {
		prop := solo.Proposal{Channel: "ch", Creator: solo.Identity{MSPID: "Org1MSP"}}
		for _, a := range args {
			prop.Args = append(prop.Args, []byte(a))
		}
		if submit {
			return p.Submit(context.Background(), prop)
		}
		return p.Evaluate(context.Background(), prop)
	}
	res, err := call(true, "Put", "k", "v")
	if err != nil {
		t.Fatal(err)
	}
	if res.Event == nil || res.Event.Name != eventwire.ChaincodeEventName {
		t.Errorf("event %v", res.Event)
	}
	if _, err := call(true, "Put", "k", "fail"); err == nil {
		t.Fatal("failing call succeeded")
	}
	res, err = call(false, "Get", "k")
	if err != nil || string(res.Payload) != "v" {
		t.Fatalf("Get = %q, %v; want the first write only", res.Payload, err)
	}
}

func TestFromPlainContext(t *testing.T) {
	ctx := new(contractapi.TransactionContext)
	a, b := ledger.From(ctx), ledger.From(ctx)
	if a == b {
		t.Error("From on a plain context should give a fresh view each time")
	}
	if err := ledger.AfterTransaction(ctx); err != nil {
		t.Error(err)
	}
}

func TestContextClientIdentity(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		ctx := new(ledger.Context)
		ctx.SetStub(l.Stub())
		ci := ctx.GetClientIdentity()
		if ci == nil {
			t.Fatal("no client identity derived from the creator")
		}
		if id, err := ci.GetMSPID(); err != nil || id != "Org1MSP" {
			t.Errorf("MSP id = %q, %v", id, err)
		}
		if ctx.GetClientIdentity() != ci {
			t.Error("client identity not kept")
		}
		set := new(ledger.Context)
		set.SetClientIdentity(ci)
		if set.GetClientIdentity() != ci {
			t.Error("a set client identity is not returned")
		}
		return nil
	})
}
