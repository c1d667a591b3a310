package organization_test

import (
	"errors"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/contracts/organization"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// brokenStub fails the calls selected by its flags.
type brokenStub struct {
	shim.ChaincodeStubInterface
	failRead, failTime bool
}

var errStub = errors.New("stub failure")

func (s *brokenStub) GetCreator() ([]byte, error) {
	return proto.Marshal(&msp.SerializedIdentity{Mspid: "Org1MSP"})
}

func (s *brokenStub) GetState(string) ([]byte, error) {
	if s.failRead {
		return nil, errStub
	}
	return nil, nil
}

func (s *brokenStub) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	if s.failTime {
		return nil, errStub
	}
	return timestamppb.Now(), nil
}

func (s *brokenStub) GetStateByPartialCompositeKey(string, []string) (shim.StateQueryIteratorInterface, error) {
	return nil, errStub
}

func TestStubFailures(t *testing.T) {
	c := organization.New()
	req, _ := proto.Marshal(&protos.RegisterOrganizationParam{})
	for _, s := range []*brokenStub{{failRead: true}, {failTime: true}} {
		ctx := new(ledger.Context)
		ctx.SetStub(s)
		if _, err := c.RegisterOrganization(ctx, req); !errors.Is(err, orcerr.Internal) || !errors.Is(err, errStub) {
			t.Errorf("register with %+v: %v", *s, err)
		}
	}
	ctx := new(ledger.Context)
	ctx.SetStub(&brokenStub{})
	if _, err := c.GetAllOrganizations(ctx, nil); !errors.Is(err, orcerr.Internal) {
		t.Errorf("list: %v", err)
	}
}
