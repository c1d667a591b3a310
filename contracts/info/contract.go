// Package info is the contract that describes the orchestrator itself
// ("orchestrator.info").
package info

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// NewVersioned returns the contract (New) reporting version, the build
// version of the binary it runs in (see ReadBuild), DevVersion when empty.
// The binary reads it once at start, so every endorsing peer that runs the
// same chaincode package answers the same. It is kept in the contract's
// metadata (Info.Version), which the contract API publishes too. (A method
// would be a transaction: the contract API exports every exported method.)
func NewVersioned(version string) *Contract {
	c := New()
	if version == "" {
		version = DevVersion
	}
	c.Info.Version = version
	return c
}

// version is what QueryVersion reports.
func (c *Contract) version() string {
	if c.Info.Version == "" {
		return DevVersion
	}
	return c.Info.Version
}

// QueryVersion reports the version of the binary that runs the contracts:
// the orchestrator's in solo mode, the chaincode's on Fabric
// (QueryVersionParam -> QueryVersionResponse).
func (c *Contract) QueryVersion(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	return rpc.Serve(ctx, req, func(_ *ledger.Tx, _ *protos.QueryVersionParam) (*protos.QueryVersionResponse, error) {
		return &protos.QueryVersionResponse{Orchestrator: c.version()}, nil
	})
}
