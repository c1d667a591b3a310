package solo_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/pebblestore"
)

// Registry is a tiny contract: names registered once, indexed by owner.
type Registry struct {
	contractapi.Contract
}

// Register records name for the calling organization.
func (r *Registry) Register(ctx contractapi.TransactionContextInterface, name string) error {
	stub := ctx.GetStub()
	if v, err := stub.GetState(name); err != nil {
		return err
	} else if v != nil {
		return fmt.Errorf("%s is already registered", name)
	}
	owner, err := ctx.GetClientIdentity().GetMSPID()
	if err != nil {
		return err
	}
	idx, err := stub.CreateCompositeKey("owner~name", []string{owner, name})
	if err != nil {
		return err
	}
	if err := stub.PutState(idx, []byte{0}); err != nil {
		return err
	}
	if err := stub.PutState(name, []byte(owner)); err != nil {
		return err
	}
	return stub.SetEvent("registered", []byte(name))
}

// Owner returns who registered name.
func (r *Registry) Owner(ctx contractapi.TransactionContextInterface, name string) (string, error) {
	v, err := ctx.GetStub().GetState(name)
	return string(v), err
}

func Example() {
	cc, err := contractapi.NewChaincode(&Registry{Contract: contractapi.Contract{Name: "registry"}})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "solo-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	p := solo.New(cc, pebblestore.Opener(dir))
	defer p.Close()
	ctx := context.Background()
	org1 := solo.Identity{MSPID: "Org1MSP"} // a self-signed certificate is generated
	call := func(fn, name string) solo.Proposal {
		return solo.Proposal{Channel: "mychannel", Creator: org1, Args: [][]byte{[]byte("registry:" + fn), []byte(name)}}
	}

	res, err := p.Submit(ctx, call("Register", "alice"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("event %s %s\n", res.Event.Name, res.Event.Payload)
	registered := res.TxID

	_, err = p.Submit(ctx, call("Register", "alice"))
	var ce *solo.ChaincodeError
	fmt.Println(errors.As(err, &ce), ce.Message)

	res, err = p.Evaluate(ctx, call("Owner", "alice"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("owner", string(res.Payload))

	evs, err := p.ReadEvents(ctx, "mychannel", 0, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(evs), evs[0].Seq, evs[0].TxID == registered)
	// Output:
	// event registered alice
	// true alice is already registered
	// owner Org1MSP
	// 1 1 true
}
