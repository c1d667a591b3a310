package solobench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// recStub records what a transaction writes and publishes, and gives it a
// transaction id that depends only on its rank.
type recStub struct {
	shim.ChaincodeStubInterface
	id  string
	log *strings.Builder
}

func (s *recStub) GetTxID() string { return s.id }
func (s *recStub) PutState(k string, v []byte) error {
	fmt.Fprintf(s.log, "  put %q = %x\n", k, v)
	return s.ChaincodeStubInterface.PutState(k, v)
}
func (s *recStub) DelState(k string) error {
	fmt.Fprintf(s.log, "  del %q\n", k)
	return s.ChaincodeStubInterface.DelState(k)
}
func (s *recStub) SetEvent(n string, p []byte) error {
	evs, err := eventwire.Decode(p)
	if err != nil {
		fmt.Fprintf(s.log, "  event %s undecodable (%v): %x\n", n, err, p)
	}
	for _, ev := range evs {
		fmt.Fprintf(s.log, "  event %s %s\n", n, jsonLine(ev))
	}
	return s.ChaincodeStubInterface.SetEvent(n, p)
}

// recCC runs the chaincode on recStubs and logs every transaction: its
// request, writes, events and answer, messages as JSON.
type recCC struct {
	cc  shim.Chaincode
	n   int
	log strings.Builder
}

func (c *recCC) Init(stub shim.ChaincodeStubInterface) *peer.Response { return c.cc.Init(stub) }
func (c *recCC) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	c.n++
	args := stub.GetArgs()
	tx := string(args[0])
	in, out := rpcTypes(tx)
	fmt.Fprintf(&c.log, "tx %d %s\n  request %s\n", c.n, tx, decoded(in, args[1]))
	r := c.cc.Invoke(&recStub{ChaincodeStubInterface: stub, id: fmt.Sprintf("%064x", c.n), log: &c.log})
	if r.GetStatus() >= 400 {
		fmt.Fprintf(&c.log, "  => %d %s\n", r.GetStatus(), r.GetMessage())
	} else {
		fmt.Fprintf(&c.log, "  => %d %s\n", r.GetStatus(), decoded(out, r.GetPayload()))
	}
	return r
}

// rpcTypes returns the request and response types of transaction tx
// ("contract:Method"), from the orchestrator's proto services.
func rpcTypes(tx string) (in, out protoreflect.MessageDescriptor) {
	_, method, _ := strings.Cut(tx, ":")
	protoregistry.GlobalFiles.RangeFilesByPackage("orchestrator", func(f protoreflect.FileDescriptor) bool {
		for i := range f.Services().Len() {
			if m := f.Services().Get(i).Methods().ByName(protoreflect.Name(method)); m != nil {
				in, out = m.Input(), m.Output()
				return false
			}
		}
		return true
	})
	return in, out
}

// decoded renders b, a message of type d, as one line of JSON.
func decoded(d protoreflect.MessageDescriptor, b []byte) string {
	if d == nil {
		return fmt.Sprintf("%x", b)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(d.FullName())
	if err != nil {
		return fmt.Sprintf("%x", b)
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Sprintf("undecodable %s (%v): %x", d.FullName(), err, b)
	}
	return jsonLine(m)
}

// jsonLine renders m as compact JSON. protojson adds random whitespace on
// purpose; compacting removes it, so the log is stable.
func jsonLine(m proto.Message) string {
	b, err := protojson.Marshal(m)
	if err != nil {
		return fmt.Sprintf("unrenderable (%v)", err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return string(b)
	}
	return out.String()
}

// goldenFile holds the log of TestTransactionsGolden: every request,
// write, event and answer, readable, so that a diff shows what changed.
const goldenFile = "testdata/transactions.log"

// TestTransactionsGolden runs a fixed scenario (registrations, task
// batches with every kind of rejection, lifecycles, a function becoming
// ready, queries) with a fixed clock and fixed transaction ids, and checks
// that every request, write, event and answer of the chaincode is what
// testdata/transactions.log says: performance work on the contracts must
// change none of it. A change of the stored formats or answers that is
// meant is accepted with UPDATE_GOLDEN=1, and shows in the file's diff.
func TestTransactionsGolden(t *testing.T) {
	cc, err := chaincode.New()
	if err != nil {
		t.Fatal(err)
	}
	rc := &recCC{cc: cc}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := solo.New(rc, memstore.Opener(), solo.WithClock(func() time.Time { now = now.Add(time.Millisecond); return now }))
	defer p.Close()
	call := func(submit bool, msp, tx string, req proto.Message) {
		arg, _ := proto.Marshal(req)
		prop := solo.Proposal{Channel: channel, Creator: solo.Identity{MSPID: msp}, Args: [][]byte{[]byte(tx), arg}}
		run := p.Evaluate
		if submit {
			run = p.Submit
		}
		_, _ = run(context.Background(), prop)
	}
	for _, org := range []string{dataOrg, algoOrg} {
		call(true, org, "orchestrator.organization:RegisterOrganization", &protos.RegisterOrganizationParam{})
	}
	var fns []string
	for i := range 4 {
		k := key("fn", 1000+i)
		fns = append(fns, k)
		call(true, algoOrg, "orchestrator.function:RegisterFunction", &protos.NewFunction{
			Key: k, Name: fmt.Sprint("fn ", i),
			Description: addressable("d", k), Archive: addressable("a", k),
			NewPermissions: &protos.NewPermissions{Public: i != 2, AuthorizedIds: []string{dataOrg}},
			Inputs: map[string]*protos.FunctionInput{
				"datasamples": {Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true},
				"opener":      {Kind: protos.AssetKind_ASSET_DATA_MANAGER},
				"models":      {Kind: protos.AssetKind_ASSET_MODEL, Multiple: true, Optional: true},
			},
			Outputs: map[string]*protos.FunctionOutput{"model": {Kind: protos.AssetKind_ASSET_MODEL}},
		})
		if i < 3 {
			for _, a := range []protos.FunctionAction{protos.FunctionAction_FUNCTION_ACTION_BUILDING, protos.FunctionAction_FUNCTION_ACTION_READY} {
				call(true, algoOrg, "orchestrator.function:ApplyFunctionAction", &protos.ApplyFunctionActionParam{FunctionKey: k, Action: a})
			}
		} else {
			call(true, algoOrg, "orchestrator.function:ApplyFunctionAction", &protos.ApplyFunctionActionParam{FunctionKey: k, Action: protos.FunctionAction_FUNCTION_ACTION_BUILDING})
		}
	}
	dms := []string{key("dm", 1), key("dm", 2)}
	for _, dm := range dms {
		call(true, dataOrg, "orchestrator.datamanager:RegisterDataManager", &protos.NewDataManager{
			Key: dm, Name: "dm", NewPermissions: &protos.NewPermissions{Public: true},
			Description: addressable("d", dm), Opener: addressable("o", dm), Type: "bench",
			LogsPermission: &protos.NewPermissions{Public: false, AuthorizedIds: []string{algoOrg}},
		})
	}
	var smp []string
	for b := range 3 {
		req := &protos.RegisterDataSamplesParam{}
		for i := range 20 {
			k := key("smp", 100+b*20+i)
			smp = append(smp, k)
			req.Samples = append(req.Samples, &protos.NewDataSample{Key: k, DataManagerKeys: dms[:1+(i%2)], Checksum: checksum(k)})
		}
		call(true, dataOrg, "orchestrator.datasample:RegisterDataSamples", req)
	}
	// bad sample batches
	call(true, dataOrg, "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{{Key: smp[0], DataManagerKeys: dms[:1], Checksum: checksum("x")}}})
	call(true, dataOrg, "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{{Key: key("smp", 999), DataManagerKeys: []string{key("dm", 9)}, Checksum: checksum("x")}}})
	var all []string
	for pl := range 3 {
		pk := key("plan", pl)
		call(true, algoOrg, "orchestrator.computeplan:RegisterPlan", &protos.NewComputePlan{Key: pk, Name: "p", Tag: "bench"})
		keys := make([]string, 8)
		req := &protos.RegisterTasksParam{}
		for i := range keys {
			keys[i] = key("task", pl*100+i)
			inputs := []*protos.ComputeTaskInput{{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: dms[0]}}}
			for j := range 5 {
				inputs = append(inputs, &protos.ComputeTaskInput{Identifier: "datasamples",
					Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: smp[(pl*7+i*3+j)%len(smp)]}})
			}
			if i > 0 {
				inputs = append(inputs, &protos.ComputeTaskInput{Identifier: "models", Ref: &protos.ComputeTaskInput_ParentTaskOutput{
					ParentTaskOutput: &protos.ParentTaskOutputRef{ParentTaskKey: keys[i-1], OutputIdentifier: "model"}}})
			}
			if i > 2 {
				inputs = append(inputs, &protos.ComputeTaskInput{Identifier: "models", Ref: &protos.ComputeTaskInput_ParentTaskOutput{
					ParentTaskOutput: &protos.ParentTaskOutputRef{ParentTaskKey: keys[i-3], OutputIdentifier: "model"}}})
			}
			req.Tasks = append(req.Tasks, &protos.NewComputeTask{
				Key: keys[i], FunctionKey: fns[(pl+i)%len(fns)], ComputePlanKey: pk, Worker: dataOrg,
				Metadata: map[string]string{"rank": fmt.Sprint(i), "z": "a"}, Inputs: inputs,
				Outputs: map[string]*protos.NewComputeTaskOutput{"model": {Permissions: &protos.NewPermissions{Public: i%2 == 0, AuthorizedIds: []string{dataOrg}}, Transient: i == 3}},
			})
		}
		// reverse order in plan 1
		if pl == 1 {
			for i, j := 0, len(req.Tasks)-1; i < j; i, j = i+1, j-1 {
				req.Tasks[i], req.Tasks[j] = req.Tasks[j], req.Tasks[i]
			}
		}
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", req)
		all = append(all, keys...)
		// error variants
		bad := proto.Clone(req).(*protos.RegisterTasksParam)
		for i := range bad.Tasks {
			bad.Tasks[i].Key = key("badtask", pl*100+i)
		}
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", req) // exists
		b1 := proto.Clone(bad).(*protos.RegisterTasksParam)
		b1.Tasks[2].Inputs[1] = &protos.ComputeTaskInput{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: key("smp", 5555)}}
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", b1)
		b2 := proto.Clone(bad).(*protos.RegisterTasksParam)
		b2.Tasks[0].Inputs[0] = &protos.ComputeTaskInput{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: dms[1]}}
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", b2)
		b3 := proto.Clone(bad).(*protos.RegisterTasksParam)
		b3.Tasks[0].Inputs = b3.Tasks[0].Inputs[1:]
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", b3)
		b4 := proto.Clone(bad).(*protos.RegisterTasksParam)
		b4.Tasks[1].Outputs["extra"] = &protos.NewComputeTaskOutput{Permissions: &protos.NewPermissions{Public: true}}
		b4.Tasks[1].Outputs["aaa"] = &protos.NewComputeTaskOutput{Permissions: &protos.NewPermissions{Public: true}}
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", b4)
		b5 := proto.Clone(bad).(*protos.RegisterTasksParam)
		b5.Tasks[1].Outputs = nil
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", b5)
		b6 := proto.Clone(bad).(*protos.RegisterTasksParam)
		b6.Tasks[4].Inputs[2] = &protos.ComputeTaskInput{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: "nope"}}
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", b6)
		b7 := proto.Clone(bad).(*protos.RegisterTasksParam)
		b7.Tasks[4].Inputs = append(b7.Tasks[4].Inputs, &protos.ComputeTaskInput{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: dms[0]}})
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", b7)
		b8 := proto.Clone(bad).(*protos.RegisterTasksParam)
		b8.Tasks[4].Outputs = map[string]*protos.NewComputeTaskOutput{"model": {}}
		call(true, algoOrg, "orchestrator.computetask:RegisterTasks", b8)
	}
	call(true, algoOrg, "orchestrator.function:ApplyFunctionAction", &protos.ApplyFunctionActionParam{FunctionKey: fns[3], Action: protos.FunctionAction_FUNCTION_ACTION_READY})
	for i, k := range all[:12] {
		call(true, dataOrg, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING})
		mk := key("model", i+1<<24)
		call(true, dataOrg, "orchestrator.model:RegisterModels", &protos.RegisterModelsParam{Models: []*protos.NewModel{{
			Key: mk, ComputeTaskKey: k, ComputeTaskOutputIdentifier: "model", Address: addressable("m", mk)}}})
		call(true, dataOrg, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_DONE})
	}
	call(true, algoOrg, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: all[20], Action: protos.ComputeTaskAction_TASK_ACTION_CANCELED})
	for _, f := range []*protos.TaskQueryFilter{{}, {ComputePlanKey: key("plan", 1)}, {Worker: dataOrg, Status: protos.ComputeTaskStatus_STATUS_DONE}, {FunctionKey: fns[3]}} {
		call(false, algoOrg, "orchestrator.computetask:QueryTasks", &protos.QueryTasksParam{Filter: f, PageSize: 7})
	}
	call(false, algoOrg, "orchestrator.computetask:GetTask", &protos.GetTaskParam{Key: all[5]})
	call(false, algoOrg, "orchestrator.computetask:GetTaskInputAssets", &protos.GetTaskInputAssetsParam{ComputeTaskKey: all[13]})
	call(false, algoOrg, "orchestrator.event:QueryEvents", &protos.QueryEventsParam{PageSize: 500})
	call(false, algoOrg, "orchestrator.event:QueryEvents", &protos.QueryEventsParam{PageSize: 30, Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK}})
	call(false, algoOrg, "orchestrator.event:QueryEvents", &protos.QueryEventsParam{PageSize: 30, Filter: &protos.EventQueryFilter{AssetKey: all[3]}})
	call(false, algoOrg, "orchestrator.datasample:QueryDataSamples", &protos.QueryDataSamplesParam{PageSize: 100})
	call(false, algoOrg, "orchestrator.function:QueryFunctions", &protos.QueryFunctionsParam{PageSize: 100, Filter: &protos.FunctionQueryFilter{ComputePlanKey: key("plan", 2)}})
	log := rc.log.String()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(goldenFile, []byte(log), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	if log != string(want) {
		got := filepath.Join(t.TempDir(), "transactions.log")
		if err := os.WriteFile(got, []byte(log), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Errorf("the transactions' requests, writes, events or answers changed; first difference:\n%s\n(diff %s %s; UPDATE_GOLDEN=1 accepts the change)", firstDiff(string(want), log), goldenFile, got)
	}
}

// firstDiff shows the first line where got differs from want, with the
// transaction it belongs to.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	tx := ""
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if strings.HasPrefix(gl, "tx ") {
			tx = gl
		}
		if wl != gl {
			return fmt.Sprintf("in %s, line %d:\n- %s\n+ %s", tx, i+1, wl, gl)
		}
	}
	return "(none)"
}
