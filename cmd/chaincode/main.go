package main

import (
	"log"
	"os"
	"runtime/debug"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/contracts/info"
)

// Set at build time like the orchestrator's (see cmd/orchestrator/version.go).
var version, commit, modified string

func main() {
	bi, _ := debug.ReadBuildInfo()
	v := info.ReadBuild(version, commit, modified, bi).String()
	newChaincode := func() (shim.Chaincode, error) { return chaincode.New(chaincode.WithVersion(v)) }
	if err := run(newChaincode, os.Getenv); err != nil {
		log.Fatalf("chaincode: %v", err)
	}
}
