package parity_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/facade/fabricgw"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// tasksPerBatch is the number of tasks each RegisterTasks submit registers.
const tasksPerBatch = 50

// benchSeconds is each throughput run's length: FABRIC_BENCH_SECONDS, or 10.
func benchSeconds() int {
	if s, err := strconv.Atoi(os.Getenv("FABRIC_BENCH_SECONDS")); err == nil && s > 0 {
		return s
	}
	return 10
}

// benchConcurrency is the list of concurrency levels to measure:
// FABRIC_BENCH_CONCURRENCY (comma-separated), or 1 and 32.
func benchConcurrency(t *testing.T) []int {
	t.Helper()
	v := os.Getenv("FABRIC_BENCH_CONCURRENCY")
	if v == "" {
		return []int{1, 32}
	}
	var levels []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("FABRIC_BENCH_CONCURRENCY=%q: %q is no positive number", v, f)
		}
		levels = append(levels, n)
	}
	return levels
}

// benchForms are the payload forms to measure, in turn:
// FABRIC_BENCH_PAYLOADS (comma-separated "compact" and "plain"), or
// compact. "plain" submits through a gateway with --plain-payloads, as a
// facade did before compact payloads, on the same network: alternating
// the two ("compact,plain,compact,plain") compares them on a busy
// machine.
func benchForms(t *testing.T) []string {
	t.Helper()
	v := os.Getenv("FABRIC_BENCH_PAYLOADS")
	if v == "" {
		return []string{"compact"}
	}
	var forms []string
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if f != "compact" && f != "plain" {
			t.Fatalf("FABRIC_BENCH_PAYLOADS=%q: %q is neither compact nor plain", v, f)
		}
		forms = append(forms, f)
	}
	return forms
}

// measure runs submit from workers goroutines (worker is each one's index)
// for secs seconds and logs one result line, "BENCH fabric NAME c=N: ..."
// with submits/s (and tasks/s when perSubmit > 1), p50, p99, the blocks
// the channel grew by during the run, the orderer's batch settings and the
// endorsement policy (env's FABRIC_ORDERER_BATCH, FABRIC_ENDORSEMENT_POLICY),
// then a line with the CPU time each process of the network (and this
// client) used per submit. It fails the test on any error.
func measure(t *testing.T, gw *fabricgw.Gateway, env map[string]string, name string, workers, secs, perSubmit int, submit func(worker int) error) {
	t.Helper()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		firstErr  error
	)
	ctx := context.Background()
	h0, err := gw.Height(ctx, env["FABRIC_CHANNEL"])
	if err != nil {
		t.Fatal(err)
	}
	cpu0 := cpuTimes()
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := submit(w)
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
	cpu1 := cpuTimes()
	h1, err := gw.Height(ctx, env["FABRIC_CHANNEL"])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(latencies)
	if len(latencies) == 0 {
		t.Fatalf("concurrency %d: no successful submit (%d failures: %v)", workers, failures, firstErr)
	}
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	rate := float64(len(latencies)) / elapsed.Seconds()
	items := ""
	if perSubmit > 1 {
		items = fmt.Sprintf(", %.0f tasks/s", rate*float64(perSubmit))
	}
	blocks := h1 - h0
	perBlock := 0.0
	if blocks > 0 {
		perBlock = float64(len(latencies)+failures) / float64(blocks)
	}
	t.Logf("BENCH fabric %s c=%d: %.1f submits/s%s, p50 %v, p99 %v (%d submits in %.1fs, %d failures, %d blocks, %.1f tx/block; orderer %s; policy %s)",
		name, workers, rate, items, pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond),
		len(latencies), elapsed.Seconds(), failures, blocks, perBlock, env["FABRIC_ORDERER_BATCH"], env["FABRIC_ENDORSEMENT_POLICY"])
	if lb, err := measureLedger(ctx, gw, env["FABRIC_CHANNEL"], env["FABRIC_CHAINCODE"], h0, h1); err != nil {
		t.Errorf("measure the blocks: %v", err)
	} else {
		t.Logf("BENCH fabric %s c=%d: %s", name, workers, lb.perItem(perSubmit))
	}
	if cpu := cpuPerSubmit(cpu0, cpu1, len(latencies)+failures); cpu != "" {
		t.Logf("BENCH fabric %s c=%d: CPU per submit: %s", name, workers, cpu)
	}
	if failures > 0 {
		t.Errorf("concurrency %d: %d failures, first: %v", workers, failures, firstErr)
	}
}

// TestRegisterTasksThroughput measures RegisterTasks submits of
// tasksPerBatch independent train tasks through Org1's gateway at
// concurrency 1 and 32 (FABRIC_BENCH_CONCURRENCY), each worker registering
// into its own compute plan, with the payload forms of benchForms. It runs
// only with FABRIC_BENCH=1; FABRIC_BENCH_SECONDS sets each run's length
// (default 10).
func TestRegisterTasksThroughput(t *testing.T) {
	if os.Getenv("FABRIC_BENCH") != "1" {
		t.Skip("FABRIC_BENCH=1 runs the throughput measurement")
	}
	env := networkEnv(t)
	secs := benchSeconds()
	ctx := context.Background()
	gw := openGateway(ctx, t, env["FABRIC_ORG1_GATEWAY_FLAGS"])
	plain := openGateway(ctx, t, env["FABRIC_ORG1_GATEWAY_FLAGS"]+" --plain-payloads")
	ctx = facade.WithCaller(ctx, facade.Caller{MSPID: org1, Channel: env["FABRIC_CHANNEL"]})
	submitVia := func(gw *fabricgw.Gateway, tx string, req proto.Message) error {
		arg, err := proto.Marshal(req)
		if err != nil {
			return err
		}
		_, err = gw.Submit(ctx, tx, arg)
		return err
	}
	submit := func(tx string, req proto.Message) error { return submitVia(gw, tx, req) }
	must := func(tx string, req proto.Message) {
		t.Helper()
		if err := submit(tx, req); err != nil {
			t.Fatalf("%s: %v", tx, err)
		}
	}

	if err := submit("orchestrator.organization:RegisterOrganization",
		&protos.RegisterOrganizationParam{Address: "https://org1.example.org"}); err != nil && orcerr.KindOf(err) != orcerr.Conflict {
		t.Fatal(err)
	}
	fn, dm := uuid.NewString(), uuid.NewString()
	addr := chaincodetest.Addressable
	public := &protos.NewPermissions{Public: true}
	must("orchestrator.function:RegisterFunction", &protos.NewFunction{
		Key: fn, Name: "train", Description: addr("d-" + fn), Archive: addr("a-" + fn), NewPermissions: public,
		Inputs: map[string]*protos.FunctionInput{
			"opener":      {Kind: protos.AssetKind_ASSET_DATA_MANAGER},
			"datasamples": {Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true},
		},
		Outputs: map[string]*protos.FunctionOutput{"model": {Kind: protos.AssetKind_ASSET_MODEL}},
	})
	for _, a := range []protos.FunctionAction{protos.FunctionAction_FUNCTION_ACTION_BUILDING, protos.FunctionAction_FUNCTION_ACTION_READY} {
		must("orchestrator.function:ApplyFunctionAction", &protos.ApplyFunctionActionParam{FunctionKey: fn, Action: a})
	}
	must("orchestrator.datamanager:RegisterDataManager", chaincodetest.NewDataManager(dm, public))
	inputs := []*protos.ComputeTaskInput{{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: dm}}}
	var samples []*protos.NewDataSample
	for range 3 {
		s := uuid.NewString()
		samples = append(samples, &protos.NewDataSample{Key: s, DataManagerKeys: []string{dm}, Checksum: chaincodetest.Checksum(s)})
		inputs = append(inputs, &protos.ComputeTaskInput{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: s}})
	}
	must("orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: samples})
	org1Only := &protos.NewPermissions{AuthorizedIds: []string{org1}}

	forms := benchForms(t)
	for _, workers := range benchConcurrency(t) {
		plans := make([]string, workers)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			firstErr error
		)
		for w := range plans {
			plans[w] = uuid.NewString()
			wg.Go(func() {
				err := submit("orchestrator.computeplan:RegisterPlan",
					&protos.NewComputePlan{Key: plans[w], Name: "bench-" + strconv.Itoa(w)})
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			t.Fatalf("register plan: %v", firstErr)
		}
		for _, form := range forms {
			via, name := gw, fmt.Sprintf("RegisterTasks x%d", tasksPerBatch)
			if form == "plain" {
				via, name = plain, name+" plain"
			}
			measure(t, gw, env, name, workers, secs, tasksPerBatch, func(w int) error {
				tasks := make([]*protos.NewComputeTask, tasksPerBatch)
				for i := range tasks {
					tasks[i] = &protos.NewComputeTask{
						Key: uuid.NewString(), FunctionKey: fn, ComputePlanKey: plans[w],
						Inputs:   inputs,
						Outputs:  map[string]*protos.NewComputeTaskOutput{"model": {Permissions: org1Only}},
						Metadata: map[string]string{"round": strconv.Itoa(i)},
					}
				}
				return submitVia(via, "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: tasks})
			})
		}
	}

	// The latency of a single-task submit, one caller at a time.
	plan := uuid.NewString()
	must("orchestrator.computeplan:RegisterPlan", &protos.NewComputePlan{Key: plan, Name: "bench-single"})
	measure(t, gw, env, "RegisterTasks x1", 1, secs, 1, func(int) error {
		return submit("orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{{
			Key: uuid.NewString(), FunctionKey: fn, ComputePlanKey: plan, Inputs: inputs,
			Outputs:  map[string]*protos.NewComputeTaskOutput{"model": {Permissions: org1Only}},
			Metadata: map[string]string{"round": "0"},
		}}})
	})
}
