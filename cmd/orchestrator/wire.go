package main

// This file joins the parts that other packages provide: the chaincode
// (contracts/chaincode) and the generated API servers (facade).

import (
	"context"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/grpc"

	"github.com/fedchain/orchestrator/cmd/orchestrator/internal/soloinvoker"
	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/facade"
)

// newChaincode builds the orchestrator chaincode, which reports this
// binary's version.
func newChaincode() (shim.Chaincode, error) {
	return chaincode.New(chaincode.WithVersion(buildVersion()))
}

// registerAPI registers every API service, running transactions and event
// subscriptions on inv.
func registerAPI(s *grpc.Server, inv *soloinvoker.Invoker) {
	facade.RegisterAll(s, inv, facade.NewEventStreams(inv))
}

// bindCaller stores the verified caller in a request context.
func bindCaller(ctx context.Context, mspID, channel string) context.Context {
	return facade.WithCaller(ctx, facade.Caller{MSPID: mspID, Channel: channel})
}

// callerOf returns the caller that bindCaller stored.
func callerOf(ctx context.Context) (string, string, bool) {
	c, ok := facade.CallerFrom(ctx)
	return c.MSPID, c.Channel, ok
}
