package parity_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// TestSubmitThroughput measures submits (RegisterDataManager, endorsed as
// the network's policy says) through Org1's gateway at concurrency 1 and
// 32 (FABRIC_BENCH_CONCURRENCY), or through Org1's facade (gRPC) with
// FABRIC_BENCH_VIA=facade. It runs only with FABRIC_BENCH=1;
// FABRIC_BENCH_SECONDS sets each run's length (default 10).
func TestSubmitThroughput(t *testing.T) {
	if os.Getenv("FABRIC_BENCH") != "1" {
		t.Skip("FABRIC_BENCH=1 runs the throughput measurement")
	}
	env := networkEnv(t)
	secs := benchSeconds()
	ctx := context.Background()
	gw := openGateway(ctx, t, env["FABRIC_ORG1_GATEWAY_FLAGS"])
	ctx = facade.WithCaller(ctx, facade.Caller{MSPID: org1, Channel: env["FABRIC_CHANNEL"]})
	arg, _ := proto.Marshal(&protos.RegisterOrganizationParam{Address: "https://org1.example.org"})
	if _, err := gw.Submit(ctx, "orchestrator.organization:RegisterOrganization", arg); err != nil && orcerr.KindOf(err) != orcerr.Conflict {
		t.Fatal(err)
	}
	submit := func(dm *protos.NewDataManager) error {
		arg, _ := proto.Marshal(dm)
		_, err := gw.Submit(ctx, "orchestrator.datamanager:RegisterDataManager", arg)
		return err
	}
	name := "RegisterDataManager"
	if os.Getenv("FABRIC_BENCH_VIA") == "facade" {
		conn, err := grpc.NewClient(env["FABRIC_ORG1_FACADE"], grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		managers := protos.NewDataManagerServiceClient(conn)
		mctx := metadata.AppendToOutgoingContext(context.Background(), "mspid", org1, "channel", env["FABRIC_CHANNEL"])
		submit = func(dm *protos.NewDataManager) error {
			_, err := managers.RegisterDataManager(mctx, dm)
			return err
		}
		name += " via facade"
		t.Logf("through the facade on %s", env["FABRIC_ORG1_FACADE"])
	}
	for _, workers := range benchConcurrency(t) {
		measure(t, gw, env, name, workers, secs, 1, func(int) error {
			return submit(chaincodetest.NewDataManager(uuid.NewString(), &protos.NewPermissions{Public: true}))
		})
	}
}
