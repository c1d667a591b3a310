package parity_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

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

// TestSubmitThroughput measures submits (RegisterDataManager, endorsed by
// both organizations) through Org1's gateway at concurrency 1 and 32, or
// through Org1's facade (gRPC) with FABRIC_BENCH_VIA=facade. It runs only
// with FABRIC_BENCH=1; FABRIC_BENCH_SECONDS sets each run's length
// (default 10).
func TestSubmitThroughput(t *testing.T) {
	if os.Getenv("FABRIC_BENCH") != "1" {
		t.Skip("FABRIC_BENCH=1 runs the throughput measurement")
	}
	env := networkEnv(t)
	secs := 10
	if s, err := strconv.Atoi(os.Getenv("FABRIC_BENCH_SECONDS")); err == nil && s > 0 {
		secs = s
	}
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
		t.Logf("through the facade on %s", env["FABRIC_ORG1_FACADE"])
	}
	for _, workers := range []int{1, 32} {
		var (
			mu        sync.Mutex
			latencies []time.Duration
			failures  int
			firstErr  error
		)
		deadline := time.Now().Add(time.Duration(secs) * time.Second)
		start := time.Now()
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					dm := chaincodetest.NewDataManager(uuid.NewString(), &protos.NewPermissions{Public: true})
					t0 := time.Now()
					err := submit(dm)
					d := time.Since(t0)
					mu.Lock()
					if err != nil {
						failures++
						if firstErr == nil {
							firstErr = err
						}
					} else {
						latencies = append(latencies, d)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		slices.Sort(latencies)
		if len(latencies) == 0 {
			t.Fatalf("concurrency %d: no successful submit (%d failures: %v)", workers, failures, firstErr)
		}
		pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
		t.Logf("concurrency %2d: %d submits in %.1fs = %.1f submits/s, p50 %v, p99 %v, %d failures",
			workers, len(latencies), elapsed.Seconds(), float64(len(latencies))/elapsed.Seconds(),
			pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), failures)
		if failures > 0 {
			t.Errorf("concurrency %d: %d failures, first: %v", workers, failures, firstErr)
		}
	}
}
