// Package chaincode assembles the orchestrator chaincode: the thirteen
// contracts, one per service of the orchestrator API, with the raw []byte
// transaction serializer.
package chaincode

import (
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/contracts/computeplan"
	"github.com/fedchain/orchestrator/contracts/computetask"
	"github.com/fedchain/orchestrator/contracts/datamanager"
	"github.com/fedchain/orchestrator/contracts/datasample"
	"github.com/fedchain/orchestrator/contracts/dataset"
	"github.com/fedchain/orchestrator/contracts/event"
	"github.com/fedchain/orchestrator/contracts/failurereport"
	"github.com/fedchain/orchestrator/contracts/function"
	"github.com/fedchain/orchestrator/contracts/info"
	"github.com/fedchain/orchestrator/contracts/model"
	"github.com/fedchain/orchestrator/contracts/organization"
	"github.com/fedchain/orchestrator/contracts/performance"
	"github.com/fedchain/orchestrator/contracts/profiling"
	"github.com/fedchain/orchestrator/contracts/txserializer"
	"github.com/fedchain/orchestrator/ledger"
)

// Contracts returns a new instance of every orchestrator contract.
func Contracts() []contractapi.ContractInterface {
	return []contractapi.ContractInterface{
		organization.New(),
		function.New(),
		datamanager.New(),
		datasample.New(),
		dataset.New(),
		computeplan.New(),
		computetask.New(),
		model.New(),
		performance.New(),
		failurereport.New(),
		profiling.New(),
		info.New(),
		event.New(),
	}
}

// New returns the orchestrator chaincode. It fails if a contract is not set
// up for the ledger (see ledger.Configure) or if the contract API rejects
// one of them.
func New() (*contractapi.ContractChaincode, error) {
	return assemble(Contracts())
}

func assemble(cs []contractapi.ContractInterface) (*contractapi.ContractChaincode, error) {
	for _, c := range cs {
		if !ledger.IsConfigured(c) {
			return nil, fmt.Errorf("chaincode: contract %s is not configured for the ledger (call ledger.Configure in its constructor)", c.GetName())
		}
	}
	cc, err := contractapi.NewChaincode(cs...)
	if err != nil {
		return nil, fmt.Errorf("chaincode: %w", err)
	}
	cc.TransactionSerializer = new(txserializer.Raw)
	cc.Info.Title = "fedchain orchestrator"
	cc.Info.Version = info.Version
	return cc, nil
}
