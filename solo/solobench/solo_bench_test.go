package solobench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
	"github.com/fedchain/orchestrator/solo/pebblestore"
	"github.com/fedchain/orchestrator/solo/store"
)

const (
	channel   = "mychannel"
	dataOrg   = "MyOrg1MSP"
	algoOrg   = "MyOrg2MSP"
	functions = 50
	samples   = 1000
	// perTask is the number of samples a task trains on, as in loadtest.
	perTask = 10
	// taskBatch is the size of one RegisterTasks call, as in loadtest.
	taskBatch = 50
)

// stores are the store configurations every benchmark runs on.
var stores = []struct {
	name string
	open func(b *testing.B) store.Opener
}{
	{"mem", func(*testing.B) store.Opener { return memstore.Opener() }},
	{"pebble-nosync", func(b *testing.B) store.Opener { return pebblestore.Opener(b.TempDir(), pebblestore.WithNoSync()) }},
	{"pebble", func(b *testing.B) store.Opener { return pebblestore.Opener(b.TempDir()) }},
}

// net is a solo peer running the orchestrator chaincode, seeded with the
// load tool's static assets.
type net struct {
	b    testing.TB
	peer *solo.Peer
	fns  []string
	dm   string
	smp  []string
	seq  atomic.Int64
}

func key(kind string, i int) string {
	// a UUID-shaped, unique key
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, len(kind), i%4096, (i/4096)%4096, uint64(i)*2654435761%(1<<48))
}

func checksum(s string) string {
	return fmt.Sprintf("%064x", []byte(s))[:64]
}

func addressable(kind, k string) *protos.Addressable {
	return &protos.Addressable{Checksum: checksum(kind + k), StorageAddress: "http://storage.bench.invalid/" + kind + "/" + k}
}

func newNet(b testing.TB, opener store.Opener) *net {
	b.Helper()
	cc, err := chaincode.New()
	if err != nil {
		b.Fatal(err)
	}
	n := &net{b: b, peer: solo.New(cc, opener)}
	b.Cleanup(func() { n.peer.Close() })
	n.seq.Store(1 << 20)
	for _, org := range []string{dataOrg, algoOrg} {
		n.must(org, "orchestrator.organization:RegisterOrganization", &protos.RegisterOrganizationParam{}, nil)
	}
	for i := range functions {
		k := key("fn", 1000+i)
		n.fns = append(n.fns, k)
		n.must(algoOrg, "orchestrator.function:RegisterFunction", &protos.NewFunction{
			Key: k, Name: fmt.Sprint("fn ", i),
			Description: addressable("d", k), Archive: addressable("a", k),
			NewPermissions: &protos.NewPermissions{Public: true},
			Inputs: map[string]*protos.FunctionInput{
				"datasamples": {Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true},
				"opener":      {Kind: protos.AssetKind_ASSET_DATA_MANAGER},
				"models":      {Kind: protos.AssetKind_ASSET_MODEL, Multiple: true, Optional: true},
			},
			Outputs: map[string]*protos.FunctionOutput{"model": {Kind: protos.AssetKind_ASSET_MODEL}},
		}, nil)
		for _, a := range []protos.FunctionAction{protos.FunctionAction_FUNCTION_ACTION_BUILDING, protos.FunctionAction_FUNCTION_ACTION_READY} {
			n.must(algoOrg, "orchestrator.function:ApplyFunctionAction", &protos.ApplyFunctionActionParam{FunctionKey: k, Action: a}, nil)
		}
	}
	n.dm = key("dm", 1)
	n.must(dataOrg, "orchestrator.datamanager:RegisterDataManager", &protos.NewDataManager{
		Key: n.dm, Name: "dm", NewPermissions: &protos.NewPermissions{Public: true},
		Description: addressable("d", n.dm), Opener: addressable("o", n.dm), Type: "bench",
		LogsPermission: &protos.NewPermissions{Public: true},
	}, nil)
	for i := 0; i < samples; i += 100 {
		n.registerSamples(100)
	}
	return n
}

func (n *net) registerSamples(count int) {
	p := &protos.RegisterDataSamplesParam{}
	for range count {
		k := key("smp", int(n.seq.Add(1)))
		n.smp = append(n.smp, k)
		p.Samples = append(p.Samples, &protos.NewDataSample{Key: k, DataManagerKeys: []string{n.dm}, Checksum: checksum(k)})
	}
	n.must(dataOrg, "orchestrator.datasample:RegisterDataSamples", p, nil)
}

func (n *net) call(submit bool, msp, tx string, req, res proto.Message) error {
	arg, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	prop := solo.Proposal{Channel: channel, Creator: solo.Identity{MSPID: msp}, Args: [][]byte{[]byte(tx), arg}}
	run := n.peer.Evaluate
	if submit {
		run = n.peer.Submit
	}
	r, err := run(context.Background(), prop)
	if err != nil {
		return fmt.Errorf("%s: %w", tx, err)
	}
	if res != nil {
		return proto.Unmarshal(r.Payload, res)
	}
	return nil
}

func (n *net) must(msp, tx string, req, res proto.Message) {
	if err := n.call(true, msp, tx, req, res); err != nil {
		n.b.Fatal(err)
	}
}

// plan registers a compute plan and its chain of taskBatch tasks in one
// RegisterTasks call; it returns the task keys in chain order.
func (n *net) plan() ([]string, error) {
	id := int(n.seq.Add(1))
	pk := key("plan", id)
	if err := n.call(true, algoOrg, "orchestrator.computeplan:RegisterPlan", &protos.NewComputePlan{Key: pk, Name: "p", Tag: "bench"}, nil); err != nil {
		return nil, err
	}
	keys := make([]string, taskBatch)
	req := &protos.RegisterTasksParam{}
	for i := range keys {
		keys[i] = key("task", int(n.seq.Add(1)))
		inputs := []*protos.ComputeTaskInput{{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: n.dm}}}
		for j := range perTask {
			inputs = append(inputs, &protos.ComputeTaskInput{Identifier: "datasamples",
				Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: n.smp[(id*taskBatch*perTask+i*perTask+j)%len(n.smp)]}})
		}
		if i > 0 {
			inputs = append(inputs, &protos.ComputeTaskInput{Identifier: "models", Ref: &protos.ComputeTaskInput_ParentTaskOutput{
				ParentTaskOutput: &protos.ParentTaskOutputRef{ParentTaskKey: keys[i-1], OutputIdentifier: "model"}}})
		}
		req.Tasks = append(req.Tasks, &protos.NewComputeTask{
			Key: keys[i], FunctionKey: n.fns[(id+i)%len(n.fns)], ComputePlanKey: pk, Worker: dataOrg,
			Metadata: map[string]string{"rank": fmt.Sprint(i)}, Inputs: inputs,
			Outputs: map[string]*protos.NewComputeTaskOutput{"model": {Permissions: &protos.NewPermissions{Public: true}}},
		})
	}
	return keys, n.call(true, algoOrg, "orchestrator.computetask:RegisterTasks", req, nil)
}

// cpuTime is the CPU time (user + system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the process CPU time of a benchmark's timed part: on a
// shared machine the wall-clock ns/op depends on the other processes, the
// CPU time per operation much less.
type cpuMeter struct{ start time.Duration }

// startCPU resets the benchmark timer and starts a cpuMeter.
func startCPU(b *testing.B) *cpuMeter {
	b.ResetTimer()
	return &cpuMeter{start: cpuTime()}
}

// report reports the CPU milliseconds per operation ("cpu-ms/op") and the
// rate per CPU second of unit ("<unit>/cpu-s") for items per operation.
func (m *cpuMeter) report(b *testing.B, items int, unit string) {
	cpu := cpuTime() - m.start
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(b.N*items)/b.Elapsed().Seconds(), unit+"/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N*items)/cpu.Seconds(), unit+"/cpu-s")
	}
}

// parallel runs do from 8 goroutines (the load tool's default concurrency)
// until b.N operations are done.
func parallel(b *testing.B, do func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := do(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

// BenchmarkRegisterTasks registers one plan of 50 chained tasks per
// operation (RegisterPlan + one RegisterTasks of 50), 8 at a time.
func BenchmarkRegisterTasks(b *testing.B) {
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			n := newNet(b, st.open(b))
			m := startCPU(b)
			parallel(b, func(int) error { _, err := n.plan(); return err })
			m.report(b, taskBatch, "tasks")
		})
	}
}

// BenchmarkRegisterDataSamples registers 100 samples per operation, 8 at a
// time.
func BenchmarkRegisterDataSamples(b *testing.B) {
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			n := newNet(b, st.open(b))
			reqs := make([]*protos.RegisterDataSamplesParam, b.N)
			for i := range reqs {
				reqs[i] = &protos.RegisterDataSamplesParam{}
				for range 100 {
					k := key("smp", int(n.seq.Add(1)))
					reqs[i].Samples = append(reqs[i].Samples, &protos.NewDataSample{Key: k, DataManagerKeys: []string{n.dm}, Checksum: checksum(k)})
				}
			}
			m := startCPU(b)
			parallel(b, func(i int) error {
				return n.call(true, dataOrg, "orchestrator.datasample:RegisterDataSamples", reqs[i], nil)
			})
			m.report(b, 100, "samples")
		})
	}
}

// BenchmarkGetTask evaluates GetTask of random tasks among 1,000, 8 at a
// time.
func BenchmarkGetTask(b *testing.B) {
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			n := newNet(b, st.open(b))
			var tasks []string
			for range 1000 / taskBatch {
				keys, err := n.plan()
				if err != nil {
					b.Fatal(err)
				}
				tasks = append(tasks, keys...)
			}
			m := startCPU(b)
			parallel(b, func(i int) error {
				k := tasks[rand.IntN(len(tasks))]
				var t protos.ComputeTask
				if err := n.call(false, algoOrg, "orchestrator.computetask:GetTask", &protos.GetTaskParam{Key: k}, &t); err != nil {
					return err
				}
				if t.GetKey() != k {
					return fmt.Errorf("GetTask %s returned %s", k, t.GetKey())
				}
				return nil
			})
			m.report(b, 1, "calls")
		})
	}
}

// BenchmarkLifecycle runs tasks as the worker: EXECUTING, RegisterModels,
// DONE (three submits per operation), 8 plans at a time, each plan's tasks
// in chain order.
func BenchmarkLifecycle(b *testing.B) {
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			n := newNet(b, st.open(b))
			// Enough plans for b.N tasks; the plans are run in parallel,
			// each by one goroutine at a time.
			var chains [][]string
			for left := b.N; left > 0; left -= taskBatch {
				keys, err := n.plan()
				if err != nil {
					b.Fatal(err)
				}
				chains = append(chains, keys)
			}
			m := startCPU(b)
			var next atomic.Int64
			var wg sync.WaitGroup
			var failed atomic.Pointer[error]
			for range 8 {
				wg.Go(func() {
					for {
						c := int(next.Add(1)) - 1
						if c >= len(chains) {
							return
						}
						for i, k := range chains[c] {
							if c*taskBatch+i >= b.N {
								break
							}
							if err := n.runTask(k, c*taskBatch+i); err != nil {
								failed.Store(&err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			if e := failed.Load(); e != nil {
				b.Fatal(*e)
			}
			m.report(b, 3, "calls")
		})
	}
}

func (n *net) runTask(k string, i int) error {
	if err := n.call(true, dataOrg, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING}, nil); err != nil {
		return err
	}
	mk := key("model", i+1<<24)
	if err := n.call(true, dataOrg, "orchestrator.model:RegisterModels", &protos.RegisterModelsParam{Models: []*protos.NewModel{{
		Key: mk, ComputeTaskKey: k, ComputeTaskOutputIdentifier: "model", Address: addressable("m", mk)}}}, nil); err != nil {
		return err
	}
	return n.call(true, dataOrg, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_DONE}, nil)
}
