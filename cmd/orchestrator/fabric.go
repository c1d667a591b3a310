package main

import (
	"context"
	"io"

	"google.golang.org/grpc"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/facade/fabricgw"
)

const fabricSynopsis = `Serve the orchestrator API in front of a Hyperledger Fabric network: every
call becomes a transaction evaluated or submitted through the Fabric gateway
of one organization's peer, with that organization's identity; events come
from the channel's blocks. The caller's mspid header must be that
organization (--mspid), and its channel one of the channels served
(--channel, repeatable); any other channel gets PermissionDenied naming it.
With --state-dir the facade keeps a checkpoint of its event streams there,
so that after a restart a subscriber resuming from its last event id is
served from that event's block without a search of the chain.`

// runFabric is the fabric mode: the same gRPC front as solo, over the
// Fabric gateway invoker (facade/fabricgw).
func runFabric(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f serveFlags
	fs := newFlagSet("fabric", fabricSynopsis, stderr)
	f.register(fs)
	cfg := fabricgw.RegisterFlags(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	opts, err := f.options(log)
	if err != nil {
		return err
	}
	gw, err := fabricgw.Open(ctx, *cfg)
	if err != nil {
		return err
	}
	return serve(ctx, log, opts, backend{
		register: func(s *grpc.Server) { facade.RegisterAll(s, gw, facade.NewEventStreams(gw)) },
		bind:     bindCaller,
		close:    gw.Close,
		describe: []any{"mode", "fabric", "peer", cfg.PeerEndpoint, "mspid", cfg.MSPID, "channels", cfg.Channels, "chaincode", cfg.Chaincode},
	})
}
