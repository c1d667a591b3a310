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
	if got := len(newContractSet().list()); got != 13 {
		t.Errorf("%d contracts, want 13", got)
	}
}

// wrong is a contract whose transactions disagree with its rpcs.
type wrong struct{ contractapi.Contract }

func (w *wrong) Get(contractapi.TransactionContextInterface, []byte) ([]byte, error) { return nil, nil }
func (w *wrong) Put(contractapi.TransactionContextInterface, []byte) ([]byte, error) { return nil, nil }
func (w *wrong) Extra(contractapi.TransactionContextInterface, []byte) ([]byte, error) {
	return nil, nil
}
func (w *wrong) Typed(contractapi.TransactionContextInterface, string) error { return nil }
func (w *wrong) GetEvaluateTransactions() []string                           { return []string{"Put"} }

func TestCheckRPCs(t *testing.T) {
	w := &wrong{}
	w.Name = "test.wrong"
	tests := []struct {
		name string
		want map[string][]rpc
		errs []string // each must appear in the error; none means no error
	}{
		{"mismatch", map[string][]rpc{"test.wrong": {{Name: "Get", Evaluate: true}, {Name: "Put"}, {Name: "Typed"}, {Name: "Gone"}}, "test.other": {{Name: "X"}}},
			[]string{
				"test.wrong:Extra is not an rpc",
				"test.wrong:Typed has signature",
				"rpc Gone has no transaction",
				"evaluate transactions [Put], the protos say [Get]",
				"no contract for test.other",
			}},
		{"unknown contract", map[string][]rpc{}, []string{"contract test.wrong serves no service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRPCs([]contract{w}, tt.want)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, s := range tt.errs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
	if err := checkRPCs(newContractSet().list(), protoRPCs()); err != nil {
		t.Errorf("the orchestrator contracts disagree with the protos: %v", err)
	}
}
