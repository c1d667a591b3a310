// Package tasktest runs the real orchestrator chaincode for the tests of
// the task-side contracts (compute plans, compute tasks, models,
// performances), on the peer the tests hand it (chaincodetest.Peer, e.g.
// solotest.Start): it calls transactions as a given organization through
// chaincodetest.Net, registers the fixtures those contracts need
// (organizations, functions, data managers, data samples) and builds
// their task requests.
package tasktest

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
)

// Net is the orchestrator chaincode on a peer, with the task-side
// fixtures: Submit, Evaluate, NewEvents and the rest are
// chaincodetest.Net's.
type Net struct {
	*chaincodetest.Net
	tb testing.TB
}

// New starts the chaincode on the peer that start returns (see
// chaincodetest.New). Every transaction is endorsed twice and must give
// the same response, writes and event both times, as endorsing peers
// must: nondeterminism fails the call. Benchmarks pass chaincodetest.Once().
func New[P chaincodetest.Peer](tb testing.TB, start func(tb testing.TB, cc shim.Chaincode, clock func() time.Time) P, opts ...chaincodetest.Option) *Net {
	tb.Helper()
	return &Net{Net: chaincodetest.New(tb, start, opts...), tb: tb}
}

// StateDigest hashes the whole state of the channel: equal digests before
// and after a rejected call prove it left nothing behind.
func (n *Net) StateDigest() [32]byte {
	n.tb.Helper()
	h := sha256.New()
	for _, kv := range n.StateKVs() {
		h.Write([]byte(kv.GetKey()))
		h.Write([]byte{0})
		h.Write(kv.GetValue())
		h.Write([]byte{0})
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

// Key returns a UUID made of a kind number and an index, easy to read in
// failures.
func Key(kind, i int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, i)
}

// Addr is a valid Addressable.
func Addr(name string) *protos.Addressable {
	return &protos.Addressable{Checksum: strings.Repeat("ab", 32), StorageAddress: "http://storage.test/" + name}
}

// Org registers organizations.
func (n *Net) Org(ids ...string) {
	n.tb.Helper()
	for _, id := range ids {
		n.MustSubmit(id, "orchestrator.organization:RegisterOrganization", &protos.RegisterOrganizationParam{Address: id + ".test:443"}, nil)
	}
}

// Public is a public NewPermissions.
func Public() *protos.NewPermissions { return &protos.NewPermissions{Public: true} }

// Only restricts NewPermissions to the given organizations.
func Only(ids ...string) *protos.NewPermissions { return &protos.NewPermissions{AuthorizedIds: ids} }

// Function registers a function as owner with the given inputs and outputs;
// it is public and, with ready set, built (READY).
func (n *Net) Function(owner, key string, ready bool, inputs map[string]*protos.FunctionInput, outputs map[string]*protos.FunctionOutput) {
	n.tb.Helper()
	n.MustSubmit(owner, "orchestrator.function:RegisterFunction", &protos.NewFunction{
		Key: key, Name: "function " + key[:8], Description: Addr("desc"), Archive: Addr("archive"),
		NewPermissions: Public(), Inputs: inputs, Outputs: outputs,
	}, nil)
	if ready {
		n.FunctionAction(owner, key, protos.FunctionAction_FUNCTION_ACTION_BUILDING)
		n.FunctionAction(owner, key, protos.FunctionAction_FUNCTION_ACTION_READY)
	}
}

// FunctionAction applies a function action as its owner.
func (n *Net) FunctionAction(owner, key string, a protos.FunctionAction) {
	n.tb.Helper()
	n.MustSubmit(owner, "orchestrator.function:ApplyFunctionAction", &protos.ApplyFunctionActionParam{FunctionKey: key, Action: a}, nil)
}

// DataManager registers a public data manager whose logs only owner reads.
func (n *Net) DataManager(owner, key string) {
	n.tb.Helper()
	n.MustSubmit(owner, "orchestrator.datamanager:RegisterDataManager", &protos.NewDataManager{
		Key: key, Name: "dm " + key[:8], NewPermissions: Public(), Description: Addr("dmdesc"), Opener: Addr("opener"),
		Type: "csv", LogsPermission: Only(owner),
	}, nil)
}

// DataSamples registers samples of a data manager.
func (n *Net) DataSamples(owner, manager string, keys ...string) {
	n.tb.Helper()
	var samples []*protos.NewDataSample
	for _, k := range keys {
		samples = append(samples, &protos.NewDataSample{Key: k, DataManagerKeys: []string{manager}, Checksum: strings.Repeat("cd", 32)})
	}
	n.MustSubmit(owner, "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: samples}, nil)
}

// Input declares a function input.
func Input(kind protos.AssetKind, multiple, optional bool) *protos.FunctionInput {
	return &protos.FunctionInput{Kind: kind, Multiple: multiple, Optional: optional}
}

// Output declares a function output.
func Output(kind protos.AssetKind, multiple bool) *protos.FunctionOutput {
	return &protos.FunctionOutput{Kind: kind, Multiple: multiple}
}

// AssetInput references an asset by key.
func AssetInput(id, key string) *protos.ComputeTaskInput {
	return &protos.ComputeTaskInput{Identifier: id, Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: key}}
}

// ParentInput references the output of a parent task.
func ParentInput(id, parent, output string) *protos.ComputeTaskInput {
	return &protos.ComputeTaskInput{Identifier: id, Ref: &protos.ComputeTaskInput_ParentTaskOutput{
		ParentTaskOutput: &protos.ParentTaskOutputRef{ParentTaskKey: parent, OutputIdentifier: output}}}
}

// Outputs declares task outputs with the given permissions.
func Outputs(perms *protos.NewPermissions, transient bool, ids ...string) map[string]*protos.NewComputeTaskOutput {
	m := make(map[string]*protos.NewComputeTaskOutput, len(ids))
	for _, id := range ids {
		m[id] = &protos.NewComputeTaskOutput{Permissions: perms, Transient: transient}
	}
	return m
}

// Basic is a small federation: organizations org1 and org2, each with a
// data manager and two samples, a plan owned by org1, and functions owned
// by org1:
//   - Train: opener, datasamples, optional multiple "models" -> "model"
//   - Multi: opener, datasamples -> multiple "models", "perf" (performance)
//   - Agg:   multiple "models" -> "model"
type Basic struct {
	Plan              string
	Train, Multi, Agg string
	Manager           map[string]string
	Samples           map[string][]string
}

// NewBasic registers the Basic federation.
func (n *Net) NewBasic() *Basic {
	n.tb.Helper()
	n.Org("org1", "org2")
	model := protos.AssetKind_ASSET_MODEL
	dm := Input(protos.AssetKind_ASSET_DATA_MANAGER, false, false)
	ds := Input(protos.AssetKind_ASSET_DATA_SAMPLE, true, false)
	b := &Basic{Plan: Key(0x10, 1), Train: Key(0x11, 1), Multi: Key(0x11, 2), Agg: Key(0x11, 3),
		Manager: map[string]string{}, Samples: map[string][]string{}}
	n.Function("org1", b.Train, true, map[string]*protos.FunctionInput{"opener": dm, "datasamples": ds, "models": Input(model, true, true)},
		map[string]*protos.FunctionOutput{"model": Output(model, false)})
	n.Function("org1", b.Multi, true, map[string]*protos.FunctionInput{"opener": dm, "datasamples": ds},
		map[string]*protos.FunctionOutput{"models": Output(model, true), "perf": Output(protos.AssetKind_ASSET_PERFORMANCE, false)})
	n.Function("org1", b.Agg, true, map[string]*protos.FunctionInput{"models": Input(model, true, false)},
		map[string]*protos.FunctionOutput{"model": Output(model, false)})
	for i, org := range []string{"org1", "org2"} {
		b.Manager[org] = Key(0x12, i+1)
		n.DataManager(org, b.Manager[org])
		b.Samples[org] = []string{Key(0x13, 10*i+1), Key(0x13, 10*i+2)}
		n.DataSamples(org, b.Manager[org], b.Samples[org]...)
	}
	n.MustSubmit("org1", "orchestrator.computeplan:RegisterPlan", &protos.NewComputePlan{Key: b.Plan, Name: "basic"}, nil)
	return b
}

// Data returns the opener and sample inputs of org's data.
func (b *Basic) Data(org string) []*protos.ComputeTaskInput {
	in := []*protos.ComputeTaskInput{AssetInput("opener", b.Manager[org])}
	for _, s := range b.Samples[org] {
		in = append(in, AssetInput("datasamples", s))
	}
	return in
}

// TrainTask is a Train task on org's data, reading the models of parents.
func (b *Basic) TrainTask(key, org string, parents ...string) *protos.NewComputeTask {
	in := b.Data(org)
	for _, p := range parents {
		in = append(in, ParentInput("models", p, "model"))
	}
	return &protos.NewComputeTask{Key: key, FunctionKey: b.Train, ComputePlanKey: b.Plan, Inputs: in,
		Outputs: Outputs(Only("org1", "org2"), false, "model")}
}

// MultiTask is a Multi task on org's data.
func (b *Basic) MultiTask(key, org string) *protos.NewComputeTask {
	outs := Outputs(Only("org1", "org2"), true, "models")
	outs["perf"] = &protos.NewComputeTaskOutput{Permissions: Public()}
	return &protos.NewComputeTask{Key: key, FunctionKey: b.Multi, ComputePlanKey: b.Plan, Inputs: b.Data(org), Outputs: outs}
}

// AggTask is an Agg task run by worker on the models of parents.
func (b *Basic) AggTask(key, worker string, parents ...string) *protos.NewComputeTask {
	t := &protos.NewComputeTask{Key: key, FunctionKey: b.Agg, ComputePlanKey: b.Plan, Worker: worker,
		Outputs: Outputs(Only("org1", "org2"), false, "model")}
	for _, p := range parents {
		t.Inputs = append(t.Inputs, ParentInput("models", p, "model"))
	}
	return t
}

// Register registers tasks as org1, the plan owner.
func (n *Net) Register(tasks ...*protos.NewComputeTask) []*protos.ComputeTask {
	n.tb.Helper()
	var res protos.RegisterTasksResponse
	n.MustSubmit("org1", "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: tasks}, &res)
	return res.GetTasks()
}

// Act applies a task action as org.
func (n *Net) Act(org, task string, a protos.ComputeTaskAction) error {
	return n.Submit(org, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: task, Action: a}, nil)
}

// Task reads a task.
func (n *Net) Task(key string) *protos.ComputeTask {
	n.tb.Helper()
	t := new(protos.ComputeTask)
	n.MustEvaluate("org1", "orchestrator.computetask:GetTask", &protos.GetTaskParam{Key: key}, t)
	return t
}
