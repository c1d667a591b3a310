// Package info is the contract that describes the orchestrator itself
// ("orchestrator.info").
package info

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// Name is the contract name.
const Name = "orchestrator.info"

// Contract is the info contract.
type Contract struct {
	contractapi.Contract
	version string
}

// New returns the info contract, which reports version: the build version
// of the binary it runs in (see ReadBuild), "dev" when empty. The binary
// reads it once at start, so every endorsing peer that runs the same
// chaincode package answers the same.
func New(version string) *Contract {
	if version == "" {
		version = DevVersion
	}
	c := &Contract{version: version}
	c.Name = Name
	ledger.Configure(&c.Contract)
	return c
}

// GetEvaluateTransactions lists the read-only functions.
func (c *Contract) GetEvaluateTransactions() []string { return []string{"QueryVersion"} }

// QueryVersion reports the version of the binary that runs the contracts:
// the orchestrator's in solo mode, the chaincode's on Fabric
// (QueryVersionParam -> QueryVersionResponse).
func (c *Contract) QueryVersion(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	return rpc.Serve(ctx, req, func(_ *ledger.Tx, _ *protos.QueryVersionParam) (*protos.QueryVersionResponse, error) {
		return &protos.QueryVersionResponse{Orchestrator: c.version}, nil
	})
}
