package main

import (
	"log"
	"os"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/contracts/chaincode"
)

func main() {
	newChaincode := func() (shim.Chaincode, error) { return chaincode.New() }
	if err := run(newChaincode, os.Getenv); err != nil {
		log.Fatalf("chaincode: %v", err)
	}
}
