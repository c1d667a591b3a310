package main

import (
	"fmt"
	"log"
	"os"
	"runtime/debug"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/contracts/compact"
	"github.com/fedchain/orchestrator/contracts/info"
	"github.com/fedchain/orchestrator/protos/compactwire"
)

// Set at build time like the orchestrator's (see cmd/orchestrator/version.go).
var version, commit, modified string

func main() {
	bi, _ := debug.ReadBuildInfo()
	v := info.ReadBuild(version, commit, modified, bi).String()
	if err := run(func() (shim.Chaincode, error) { return newChaincode(v) }, os.Getenv); err != nil {
		log.Fatalf("chaincode: %v", err)
	}
}

// newChaincode returns the orchestrator chaincode reporting version v,
// served in compact form to the callers that ask for it (the Fabric
// facade does): the requests, answers and events that the peers store in
// their blocks are then a fraction of their plain size.
func newChaincode(v string) (shim.Chaincode, error) {
	cc, err := chaincode.New(chaincode.WithVersion(v))
	if err != nil {
		return nil, err
	}
	codec, err := compactwire.NewCodec()
	if err != nil {
		return nil, fmt.Errorf("compact payloads: %w", err)
	}
	return compact.New(cc, codec), nil
}
