package ledger_test

import (
	"context"
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// orgContract is a minimal contract on the ledger: it registers the
// caller's organization, indexes it, and emits an event.
type orgContract struct {
	contractapi.Contract
}

func (c *orgContract) Register(ctx contractapi.TransactionContextInterface, address string) error {
	l := ledger.From(ctx)
	caller, err := l.Caller()
	if err != nil {
		return err
	}
	now, err := l.Now()
	if err != nil {
		return err
	}
	o := &protos.Organization{Id: caller, Address: address, CreationDate: now}
	if err := ledger.AddOrganization(l, o); err != nil {
		return err
	}
	// The transaction reads its own write (a peer's stub would not).
	if ok, _ := ledger.OrganizationExists(l, caller); !ok {
		return fmt.Errorf("own write not visible")
	}
	return l.Emit(&protos.Event{
		EventKind: protos.EventKind_EVENT_ASSET_CREATED,
		AssetKind: protos.AssetKind_ASSET_ORGANIZATION,
		AssetKey:  caller,
		Asset:     &protos.Event_Organization{Organization: o},
	})
}

func (c *orgContract) Count(ctx contractapi.TransactionContextInterface) (int, error) {
	orgs, err := ledger.AllOrganizations(ledger.From(ctx))
	return len(orgs), err
}

func Example() {
	c := &orgContract{}
	ledger.Configure(&c.Contract) // ledger context + flush after each transaction
	cc, err := contractapi.NewChaincode(c)
	if err != nil {
		panic(err)
	}
	p := solo.New(cc, memstore.Opener())
	defer p.Close()
	ctx := context.Background()
	for _, msp := range []string{"Org1MSP", "Org2MSP"} {
		res, err := p.Submit(ctx, solo.Proposal{Channel: "ch", Creator: solo.Identity{MSPID: msp},
			Args: [][]byte{[]byte("Register"), []byte("https://" + msp + ".example.org")}})
		if err != nil {
			panic(err)
		}
		fmt.Println(msp, "event:", res.Event.Name)
	}
	res, err := p.Evaluate(ctx, solo.Proposal{Channel: "ch", Creator: solo.Identity{MSPID: "Org1MSP"}, Args: [][]byte{[]byte("Count")}})
	if err != nil {
		panic(err)
	}
	fmt.Println("organizations:", string(res.Payload))
	// Output:
	// Org1MSP event: orchestrator
	// Org2MSP event: orchestrator
	// organizations: 2
}
