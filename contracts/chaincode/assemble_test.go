package chaincode

import (
	"strings"
	"testing"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/ledger"
)

type bare struct{ contractapi.Contract }

func (b *bare) Hello(contractapi.TransactionContextInterface) error { return nil }

type empty struct{ contractapi.Contract }

func TestAssembleRejects(t *testing.T) {
	unconfigured := &bare{}
	unconfigured.Name = "bare"
	if _, err := assemble([]contractapi.ContractInterface{unconfigured}); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("unconfigured contract: %v", err)
	}
	noFunction := &empty{}
	noFunction.Name = "empty"
	ledger.Configure(&noFunction.Contract)
	if _, err := assemble([]contractapi.ContractInterface{noFunction}); err == nil {
		t.Error("a contract without functions was accepted")
	}
	if got := len(Contracts()); got != 13 {
		t.Errorf("%d contracts, want 13", got)
	}
}
