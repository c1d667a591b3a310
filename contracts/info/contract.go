// Package info is the contract that describes the orchestrator itself
// ("orchestrator.info").
package info

import (
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// SetVersion makes c report version, the build version of the binary it
// runs in (see ReadBuild), DevVersion when empty. The binary reads it once
// at start, so every endorsing peer that runs the same chaincode package
// answers the same. It is kept in the contract's metadata (Info.Version),
// which the contract API publishes too. (A method would be a transaction:
// the contract API exports every exported method.)
func SetVersion(c *Contract, version string) {
	if version == "" {
		version = DevVersion
	}
	c.Info.Version = version
}

// version is what queryVersion reports.
func (c *Contract) version() string {
	if c.Info.Version == "" {
		return DevVersion
	}
	return c.Info.Version
}

// queryVersion reports the version of the binary that runs the contracts:
// the orchestrator's in solo mode, the chaincode's on Fabric
// (QueryVersionParam -> QueryVersionResponse).
func (c *Contract) queryVersion(*ledger.Tx, *protos.QueryVersionParam) (rpc.Response[*protos.QueryVersionResponse], error) {
	return rpc.Answer(&protos.QueryVersionResponse{Orchestrator: c.version()}, nil)
}
