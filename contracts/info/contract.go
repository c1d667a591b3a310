// Package info is the contract that describes the orchestrator itself
// ("orchestrator.info").
package info

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// Version is the orchestrator version that QueryVersion reports. Builds set
// it with -ldflags "-X github.com/fedchain/orchestrator/contracts/info.Version=...".
var Version = "dev"

// QueryVersion reports the orchestrator version (QueryVersionParam ->
// QueryVersionResponse).
func (c *Contract) QueryVersion(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	return rpc.Serve(ctx, req, func(_ *ledger.Tx, _ *protos.QueryVersionParam) (*protos.QueryVersionResponse, error) {
		return &protos.QueryVersionResponse{Orchestrator: Version}, nil
	})
}
