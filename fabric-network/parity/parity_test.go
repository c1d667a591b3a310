package parity_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/facade/fabricgw"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

const (
	org1 = "Org1MSP"
	org2 = "Org2MSP"
)

// backend runs one orchestrator transaction as an organization.
type backend interface {
	call(ctx context.Context, submit bool, msp, tx string, arg []byte) ([]byte, error)
}

// soloBackend is an in-process solo peer running the same chaincode.
type soloBackend struct {
	peer    *solo.Peer
	channel string
}

func (b soloBackend) call(ctx context.Context, submit bool, msp, tx string, arg []byte) ([]byte, error) {
	prop := solo.Proposal{Channel: b.channel, Creator: solo.Identity{MSPID: msp}, Args: [][]byte{[]byte(tx), arg}}
	run := b.peer.Evaluate
	if submit {
		run = b.peer.Submit
	}
	res, err := run(ctx, prop)
	var ce *solo.ChaincodeError
	if errors.As(err, &ce) {
		// What the solo invoker hands the facade: the contract's message.
		return nil, errors.New(ce.Message)
	}
	if err != nil {
		return nil, err
	}
	return res.Payload, nil
}

// fabricBackend is the Fabric network, one gateway per organization.
type fabricBackend struct {
	gateways map[string]*fabricgw.Gateway
	channel  string
}

func (b fabricBackend) call(ctx context.Context, submit bool, msp, tx string, arg []byte) ([]byte, error) {
	gw := b.gateways[msp]
	ctx = facade.WithCaller(ctx, facade.Caller{MSPID: msp, Channel: b.channel})
	if submit {
		return gw.Submit(ctx, tx, arg)
	}
	return gw.Evaluate(ctx, tx, arg)
}

// outcome is what a caller of the facade would see.
type outcome struct {
	code codes.Code
	msg  string
	res  proto.Message
}

func run(ctx context.Context, t *testing.T, b backend, s step) outcome {
	t.Helper()
	arg, err := proto.Marshal(s.req)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := b.call(ctx, s.submit, s.msp, s.tx, arg)
	if err != nil {
		st := facade.Status(err)
		if st.Code() == codes.Internal || st.Code() == codes.Unavailable {
			t.Logf("%s: %v", s.tx, err)
		}
		return outcome{code: st.Code(), msg: st.Message()}
	}
	res := s.res.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(payload, res); err != nil {
		t.Fatalf("%s: unmarshal result: %v", s.tx, err)
	}
	normalize(res.ProtoReflect())
	return outcome{res: res}
}

// normalize clears what legitimately differs between two runs of the same
// transaction on two ledgers: timestamps (the transaction time) and event
// ids (derived from the transaction id).
func normalize(m protoreflect.Message) {
	if m.Descriptor().FullName() == "google.protobuf.Timestamp" {
		return
	}
	if _, ok := m.Interface().(*protos.Event); ok {
		m.Clear(m.Descriptor().Fields().ByName("id"))
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		if fd.Message().FullName() == "google.protobuf.Timestamp" && !fd.IsList() && !fd.IsMap() {
			m.Set(fd, protoreflect.ValueOfMessage((&timestamppb.Timestamp{}).ProtoReflect()))
			return true
		}
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len(); i++ {
				normalize(v.List().Get(i).Message())
			}
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					normalize(mv.Message())
					return true
				})
			}
		default:
			normalize(v.Message())
		}
		return true
	})
}

// step is one call of the sequence.
type step struct {
	name   string
	submit bool
	msp    string
	tx     string
	req    proto.Message
	res    proto.Message // the response type
}

func sub(name, msp, tx string, req, res proto.Message) step {
	return step{name: name, submit: true, msp: msp, tx: tx, req: req, res: res}
}

func eval(name, msp, tx string, req, res proto.Message) step {
	return step{name: name, msp: msp, tx: tx, req: req, res: res}
}

// sequence is the request sequence both modes answer. Asset keys are fresh
// for each run so that it can run on a network that already holds data.
func sequence() []step {
	fn, dm, s1, s2 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	public := &protos.NewPermissions{Public: true}
	org1Only := &protos.NewPermissions{Public: false, AuthorizedIds: []string{org1}}
	return []step{
		eval("organizations", org1, "orchestrator.organization:GetAllOrganizations", &protos.GetAllOrganizationsParam{}, &protos.GetAllOrganizationsResponse{}),
		sub("org1 registers again", org1, "orchestrator.organization:RegisterOrganization", &protos.RegisterOrganizationParam{Address: "https://org1.example.org"}, &protos.Organization{}),
		sub("register function", org1, "orchestrator.function:RegisterFunction", chaincodetest.NewFunction(fn, public), &protos.Function{}),
		sub("register function twice", org1, "orchestrator.function:RegisterFunction", chaincodetest.NewFunction(fn, public), &protos.Function{}),
		sub("register invalid function", org1, "orchestrator.function:RegisterFunction", chaincodetest.NewFunction("not-a-uuid", public), &protos.Function{}),
		eval("get function as org2", org2, "orchestrator.function:GetFunction", &protos.GetFunctionParam{Key: fn}, &protos.Function{}),
		eval("get unknown function", org2, "orchestrator.function:GetFunction", &protos.GetFunctionParam{Key: uuid.NewString()}, &protos.Function{}),
		sub("register data manager", org1, "orchestrator.datamanager:RegisterDataManager", chaincodetest.NewDataManager(dm, org1Only), &protos.DataManager{}),
		eval("get data manager as org2", org2, "orchestrator.datamanager:GetDataManager", &protos.GetDataManagerParam{Key: dm}, &protos.DataManager{}),
		sub("org2 registers samples on org1's manager", org2, "orchestrator.datasample:RegisterDataSamples",
			&protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{{Key: s1, DataManagerKeys: []string{dm}, Checksum: chaincodetest.Checksum(s1)}}},
			&protos.RegisterDataSamplesResponse{}),
		sub("org1 registers samples", org1, "orchestrator.datasample:RegisterDataSamples",
			&protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
				{Key: s1, DataManagerKeys: []string{dm}, Checksum: chaincodetest.Checksum(s1)},
				{Key: s2, DataManagerKeys: []string{dm}, Checksum: chaincodetest.Checksum(s2), TestOnly: true},
			}},
			&protos.RegisterDataSamplesResponse{}),
		eval("function events", org1, "orchestrator.event:QueryEvents",
			&protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: fn}, Sort: protos.SortOrder_ASCENDING}, &protos.QueryEventsResponse{}),
		eval("sample events", org2, "orchestrator.event:QueryEvents",
			&protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: s2}}, &protos.QueryEventsResponse{}),
	}
}

// lifecycle is a compute plan's sequence: Org1 owns a training function and
// the plan, Org2 the data and runs the tasks.
func lifecycle() []step {
	fn, dm, s1, s2 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	plan, t1, t2, m1 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	model := protos.AssetKind_ASSET_MODEL
	both := &protos.NewPermissions{AuthorizedIds: []string{org1, org2}}
	addr := chaincodetest.Addressable
	data := []*protos.ComputeTaskInput{
		{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: dm}},
		{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: s1}},
		{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: s2}},
	}
	task := func(key string, parents ...string) *protos.NewComputeTask {
		in := append([]*protos.ComputeTaskInput(nil), data...)
		for _, p := range parents {
			in = append(in, &protos.ComputeTaskInput{Identifier: "models", Ref: &protos.ComputeTaskInput_ParentTaskOutput{
				ParentTaskOutput: &protos.ParentTaskOutputRef{ParentTaskKey: p, OutputIdentifier: "model"}}})
		}
		return &protos.NewComputeTask{Key: key, FunctionKey: fn, ComputePlanKey: plan, Inputs: in,
			Outputs:  map[string]*protos.NewComputeTaskOutput{"model": {Permissions: both}},
			Metadata: map[string]string{"round": "1", "seed": "42", "lr": "0.1"}}
	}
	action := func(key string, a protos.ComputeTaskAction) *protos.ApplyTaskActionParam {
		return &protos.ApplyTaskActionParam{ComputeTaskKey: key, Action: a, Log: "log"}
	}
	const (
		taskAction = "orchestrator.computetask:ApplyTaskAction"
		getTask    = "orchestrator.computetask:GetTask"
	)
	return append([]step{
		sub("register train function", org1, "orchestrator.function:RegisterFunction", &protos.NewFunction{
			Key: fn, Name: "train", Description: addr("d-" + fn), Archive: addr("a-" + fn), NewPermissions: &protos.NewPermissions{Public: true},
			Inputs: map[string]*protos.FunctionInput{
				"opener":      {Kind: protos.AssetKind_ASSET_DATA_MANAGER},
				"datasamples": {Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true},
				"models":      {Kind: model, Multiple: true, Optional: true},
			},
			Outputs: map[string]*protos.FunctionOutput{"model": {Kind: model}},
		}, &protos.Function{}),
		sub("function building", org1, "orchestrator.function:ApplyFunctionAction",
			&protos.ApplyFunctionActionParam{FunctionKey: fn, Action: protos.FunctionAction_FUNCTION_ACTION_BUILDING}, &protos.ApplyFunctionActionResponse{}),
		sub("function ready", org1, "orchestrator.function:ApplyFunctionAction",
			&protos.ApplyFunctionActionParam{FunctionKey: fn, Action: protos.FunctionAction_FUNCTION_ACTION_READY}, &protos.ApplyFunctionActionResponse{}),
		sub("org2 data manager", org2, "orchestrator.datamanager:RegisterDataManager", chaincodetest.NewDataManager(dm, &protos.NewPermissions{Public: true}), &protos.DataManager{}),
		sub("org2 samples", org2, "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
			{Key: s1, DataManagerKeys: []string{dm}, Checksum: chaincodetest.Checksum(s1)},
			{Key: s2, DataManagerKeys: []string{dm}, Checksum: chaincodetest.Checksum(s2)},
		}}, &protos.RegisterDataSamplesResponse{}),
		sub("register plan", org1, "orchestrator.computeplan:RegisterPlan",
			&protos.NewComputePlan{Key: plan, Name: "parity", Metadata: map[string]string{"a": "1", "b": "2", "c": "3"}}, &protos.ComputePlan{}),
		sub("register tasks", org1, "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{task(t1), task(t2, t1)}}, &protos.RegisterTasksResponse{}),
		sub("register tasks again", org1, "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{task(t1)}}, &protos.RegisterTasksResponse{}),
		sub("org1 may not start org2's task", org1, taskAction, action(t1, protos.ComputeTaskAction_TASK_ACTION_EXECUTING), &protos.ApplyTaskActionResponse{}),
		sub("child cannot be done yet", org2, taskAction, action(t2, protos.ComputeTaskAction_TASK_ACTION_DONE), &protos.ApplyTaskActionResponse{}),
		sub("org2 starts task 1", org2, taskAction, action(t1, protos.ComputeTaskAction_TASK_ACTION_EXECUTING), &protos.ApplyTaskActionResponse{}),
		sub("org2 registers its model", org2, "orchestrator.model:RegisterModels", &protos.RegisterModelsParam{Models: []*protos.NewModel{
			{Key: m1, ComputeTaskKey: t1, ComputeTaskOutputIdentifier: "model", Address: addr("model-" + m1)},
		}}, &protos.RegisterModelsResponse{}),
		sub("org2 finishes task 1", org2, taskAction, action(t1, protos.ComputeTaskAction_TASK_ACTION_DONE), &protos.ApplyTaskActionResponse{}),
		eval("task 2 is released", org1, getTask, &protos.GetTaskParam{Key: t2}, &protos.ComputeTask{}),
		eval("plan tasks", org2, "orchestrator.computetask:QueryTasks",
			&protos.QueryTasksParam{Filter: &protos.TaskQueryFilter{ComputePlanKey: plan}}, &protos.QueryTasksResponse{}),
		eval("plan", org2, "orchestrator.computeplan:GetPlan", &protos.GetComputePlanParam{Key: plan}, &protos.ComputePlan{}),
		eval("task 1 events", org1, "orchestrator.event:QueryEvents",
			&protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: t1}}, &protos.QueryEventsResponse{}),
	}, everyService(fn, dm, s1, s2, plan, t1, t2, m1)...)
}

// TestSoloAndFabricAnswerAlike runs the sequence on solo and on the
// network and compares every answer, twice: through gateways that send
// their requests in compact form (the default, so the chaincode answers
// and sets its events compact), and through gateways with plain payloads
// (as an older facade sends them).
func TestSoloAndFabricAnswerAlike(t *testing.T) {
	env := networkEnv(t)
	for _, form := range []struct{ name, flags string }{{"compact", ""}, {"plain", " --plain-payloads"}} {
		t.Run(form.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			fab := fabricBackend{gateways: map[string]*fabricgw.Gateway{}, channel: env["FABRIC_CHANNEL"]}
			for n, msp := range []string{org1, org2} {
				fab.gateways[msp] = openGateway(ctx, t, env[fmt.Sprintf("FABRIC_ORG%d_GATEWAY_FLAGS", n+1)]+form.flags)
			}
			compareWithSolo(ctx, t, env, fab)
		})
	}
}

// compareWithSolo runs the sequence and the lifecycle on a new solo peer
// and on fab, and fails on any difference of answer or error.
func compareWithSolo(ctx context.Context, t *testing.T, env map[string]string, fab fabricBackend) {
	channel := fab.channel
	cc, err := chaincode.New()
	if err != nil {
		t.Fatal(err)
	}
	peer := solo.New(cc, memstore.Opener(), solo.WithChaincodeName(env["FABRIC_CHAINCODE"]))
	t.Cleanup(func() { peer.Close() })
	sol := soloBackend{peer: peer, channel: channel}

	// Both ledgers start with both organizations registered, with the same
	// addresses (the network may hold them from an earlier run already).
	known := map[string]string{}
	list := run(ctx, t, fab, eval("organizations", org1, "orchestrator.organization:GetAllOrganizations",
		&protos.GetAllOrganizationsParam{}, &protos.GetAllOrganizationsResponse{}))
	if list.code != codes.OK {
		t.Fatalf("fabric: GetAllOrganizations: %v %s", list.code, list.msg)
	}
	for _, o := range list.res.(*protos.GetAllOrganizationsResponse).GetOrganizations() {
		known[o.GetId()] = o.GetAddress()
	}
	for _, msp := range []string{org1, org2} {
		addr, ok := known[msp]
		if !ok {
			addr = "https://" + strings.ToLower(msp[:4]) + ".example.org"
		}
		reg := sub("register "+msp, msp, "orchestrator.organization:RegisterOrganization",
			&protos.RegisterOrganizationParam{Address: addr}, &protos.Organization{})
		if o := run(ctx, t, sol, reg); o.code != codes.OK {
			t.Fatalf("solo: %s: %v %s", reg.name, o.code, o.msg)
		}
		if ok {
			continue
		}
		if o := run(ctx, t, fab, reg); o.code != codes.OK {
			t.Fatalf("fabric: %s: %v %s", reg.name, o.code, o.msg)
		}
	}

	for i, s := range append(sequence(), lifecycle()...) {
		want := run(ctx, t, sol, s)
		got := run(ctx, t, fab, s)
		if want.code == codes.Internal || want.code == codes.Unknown || want.code == codes.Unavailable {
			t.Errorf("step %d %q: solo fails (%v, %q): the sequence is broken", i, s.name, want.code, want.msg)
			continue
		}
		if want.code != got.code || want.msg != got.msg {
			t.Errorf("step %d %q: fabric (%v, %q), solo (%v, %q)", i, s.name, got.code, got.msg, want.code, want.msg)
			continue
		}
		if !proto.Equal(want.res, got.res) {
			t.Errorf("step %d %q: responses differ\nfabric: %s\nsolo:   %s", i, s.name, text(got.res), text(want.res))
			continue
		}
		t.Logf("step %d %q: same answer (%v)", i, s.name, got.code)
	}
}

func text(m proto.Message) string {
	if m == nil {
		return "<nil>"
	}
	return prototext.Format(m)
}

// networkEnv reads the settings file of the running network, or skips.
func networkEnv(t *testing.T) map[string]string {
	t.Helper()
	path := os.Getenv("FABRIC_ENV")
	if path == "" {
		t.Skip("FABRIC_ENV is not set: no Fabric network to compare with (run make test-fabric)")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("FABRIC_ENV: %v", err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			env[k] = strings.Trim(v, `"`)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// openGateway opens a gateway configured by the `orchestrator fabric` flags
// in flags.
func openGateway(ctx context.Context, t *testing.T, flags string) *fabricgw.Gateway {
	t.Helper()
	fs := flag.NewFlagSet("fabric", flag.ContinueOnError)
	cfg := fabricgw.RegisterFlags(fs)
	if err := fs.Parse(strings.Fields(flags)); err != nil {
		t.Fatal(err)
	}
	gw, err := fabricgw.Open(ctx, *cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return gw
}

// everyService covers the calls that sequence and lifecycle leave out, so
// that every service of the API is compared, with its errors: on the
// assets of lifecycle's compute plan once its first task is done. The
// queries that list a whole ledger without a filter (QueryPlans,
// QueryDataManagers) are left out: the network's ledger holds other runs'
// assets, the solo peer's does not.
func everyService(fn, dm, s1, s2, plan, t1, t2, m1 string) []step {
	addr := chaincodetest.Addressable
	return []step{
		eval("plan is running", org1, "orchestrator.computeplan:IsPlanRunning", &protos.IsPlanRunningParam{Key: plan}, &protos.IsPlanRunningResponse{}),
		sub("org1 renames its plan", org1, "orchestrator.computeplan:UpdatePlan", &protos.UpdateComputePlanParam{Key: plan, Name: "renamed"}, &protos.UpdateComputePlanResponse{}),
		sub("org2 may not rename org1's plan", org2, "orchestrator.computeplan:UpdatePlan", &protos.UpdateComputePlanParam{Key: plan, Name: "mine"}, &protos.UpdateComputePlanResponse{}),
		eval("renamed plan", org2, "orchestrator.computeplan:GetPlan", &protos.GetComputePlanParam{Key: plan}, &protos.ComputePlan{}),
		eval("task 2 inputs", org2, "orchestrator.computetask:GetTaskInputAssets", &protos.GetTaskInputAssetsParam{ComputeTaskKey: t2}, &protos.GetTaskInputAssetsResponse{}),
		eval("inputs of an unknown task", org2, "orchestrator.computetask:GetTaskInputAssets", &protos.GetTaskInputAssetsParam{ComputeTaskKey: uuid.NewString()}, &protos.GetTaskInputAssetsResponse{}),
		sub("org2 renames its data manager", org2, "orchestrator.datamanager:UpdateDataManager", &protos.UpdateDataManagerParam{Key: dm, Name: "renamed"}, &protos.UpdateDataManagerResponse{}),
		sub("org1 may not rename org2's data manager", org1, "orchestrator.datamanager:UpdateDataManager", &protos.UpdateDataManagerParam{Key: dm, Name: "mine"}, &protos.UpdateDataManagerResponse{}),
		eval("dataset", org1, "orchestrator.dataset:GetDataset", &protos.GetDatasetParam{Key: dm}, &protos.Dataset{}),
		eval("unknown dataset", org1, "orchestrator.dataset:GetDataset", &protos.GetDatasetParam{Key: uuid.NewString()}, &protos.Dataset{}),
		eval("data sample", org2, "orchestrator.datasample:GetDataSample", &protos.GetDataSampleParam{Key: s1}, &protos.DataSample{}),
		eval("data samples by key", org1, "orchestrator.datasample:QueryDataSamples",
			&protos.QueryDataSamplesParam{PageSize: 10, Filter: &protos.DataSampleQueryFilter{Keys: []string{s1, s2}}}, &protos.QueryDataSamplesResponse{}),
		sub("org2 updates its samples", org2, "orchestrator.datasample:UpdateDataSamples", &protos.UpdateDataSamplesParam{Keys: []string{s1}, DataManagerKeys: []string{dm}}, &protos.UpdateDataSamplesResponse{}),
		sub("org1 may not update org2's samples", org1, "orchestrator.datasample:UpdateDataSamples", &protos.UpdateDataSamplesParam{Keys: []string{s1}, DataManagerKeys: []string{dm}}, &protos.UpdateDataSamplesResponse{}),
		eval("functions of the plan", org2, "orchestrator.function:QueryFunctions",
			&protos.QueryFunctionsParam{PageSize: 10, Filter: &protos.FunctionQueryFilter{ComputePlanKey: plan}}, &protos.QueryFunctionsResponse{}),
		sub("org1 renames its function", org1, "orchestrator.function:UpdateFunction", &protos.UpdateFunctionParam{Key: fn, Name: "train v2", Image: addr("image-" + fn)}, &protos.UpdateFunctionResponse{}),
		sub("org1 renames it again, image unchanged", org1, "orchestrator.function:UpdateFunction", &protos.UpdateFunctionParam{Key: fn, Name: "train v3"}, &protos.UpdateFunctionResponse{}),
		sub("org2 may not rename org1's function", org2, "orchestrator.function:UpdateFunction", &protos.UpdateFunctionParam{Key: fn, Name: "mine"}, &protos.UpdateFunctionResponse{}),
		eval("version", org1, "orchestrator.info:QueryVersion", &protos.QueryVersionParam{}, &protos.QueryVersionResponse{}),
		eval("model", org1, "orchestrator.model:GetModel", &protos.GetModelParam{Key: m1}, &protos.Model{}),
		eval("unknown model", org1, "orchestrator.model:GetModel", &protos.GetModelParam{Key: uuid.NewString()}, &protos.Model{}),
		eval("task 1 output models", org1, "orchestrator.model:GetComputeTaskOutputModels", &protos.GetComputeTaskModelsParam{ComputeTaskKey: t1}, &protos.GetComputeTaskModelsResponse{}),
		sub("model of a task that is done", org2, "orchestrator.model:RegisterModel",
			&protos.NewModel{Key: uuid.NewString(), ComputeTaskKey: t1, ComputeTaskOutputIdentifier: "model", Address: addr("late")}, &protos.Model{}),
		sub("performance of an output that is no metric", org2, "orchestrator.performance:RegisterPerformance",
			&protos.NewPerformance{ComputeTaskKey: t1, ComputeTaskOutputIdentifier: "model", PerformanceValue: 0.5}, &protos.Performance{}),
		eval("task 1 performances", org1, "orchestrator.performance:QueryPerformances",
			&protos.QueryPerformancesParam{PageSize: 10, Filter: &protos.PerformanceQueryFilter{ComputeTaskKey: t1}}, &protos.QueryPerformancesResponse{}),
		sub("profiling step", org2, "orchestrator.profiling:RegisterProfilingStep", &protos.ProfilingStep{AssetKey: t1, Duration: 10, Step: "build"}, &emptypb.Empty{}),
		sub("org1 disables task 1's model", org1, "orchestrator.computetask:DisableOutput", &protos.DisableOutputParam{ComputeTaskKey: t1, Identifier: "model"}, &protos.DisableOutputResponse{}),
		sub("org2 starts task 2", org2, "orchestrator.computetask:ApplyTaskAction",
			&protos.ApplyTaskActionParam{ComputeTaskKey: t2, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING, Log: "log"}, &protos.ApplyTaskActionResponse{}),
		sub("task 2 fails", org2, "orchestrator.failurereport:RegisterFailureReport", &protos.NewFailureReport{
			AssetKey: t2, ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION, LogsAddress: addr("logs-" + t2), AssetType: protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK}, &protos.FailureReport{}),
		eval("task 2 failure report", org1, "orchestrator.failurereport:GetFailureReport", &protos.GetFailureReportParam{AssetKey: t2}, &protos.FailureReport{}),
		eval("no failure report", org1, "orchestrator.failurereport:GetFailureReport", &protos.GetFailureReportParam{AssetKey: t1}, &protos.FailureReport{}),
		sub("org1 cannot cancel a plan that failed", org1, "orchestrator.computeplan:ApplyPlanAction", &protos.ApplyPlanActionParam{Key: plan, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED}, &protos.ApplyPlanActionResponse{}),
		eval("plan after", org2, "orchestrator.computeplan:GetPlan", &protos.GetComputePlanParam{Key: plan}, &protos.ComputePlan{}),
		eval("plan events", org1, "orchestrator.event:QueryEvents",
			&protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: plan}, Sort: protos.SortOrder_ASCENDING}, &protos.QueryEventsResponse{}),
		eval("task 2 events", org1, "orchestrator.event:QueryEvents",
			&protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: t2}, Sort: protos.SortOrder_ASCENDING}, &protos.QueryEventsResponse{}),
	}
}

// notCompared are the calls the parity sequence does not make, and why.
var notCompared = map[string]string{
	"orchestrator.computeplan:QueryPlans":        "lists the whole ledger, which holds other runs' plans on the network",
	"orchestrator.datamanager:QueryDataManagers": "lists the whole ledger, which holds other runs' data managers on the network",
	"orchestrator.event:SubscribeToEvents":       "a stream, not a transaction: TestFabricEventStream and TestFacadeOnFabric compare it with QueryEvents",
}

// TestParityCoversEveryService fails when a call of the API (a method of a
// service of the orchestrator's protos) is missing from the sequence that
// TestSoloAndFabricAnswerAlike compares, and not listed in notCompared.
func TestParityCoversEveryService(t *testing.T) {
	made := map[string]bool{}
	for _, s := range append(sequence(), lifecycle()...) {
		made[s.tx] = true
	}
	n := 0
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if fd.Package() != "orchestrator" {
			return true
		}
		for i := 0; i < fd.Services().Len(); i++ {
			svc := fd.Services().Get(i)
			contract := strings.ToLower(strings.TrimSuffix(string(svc.Name()), "Service"))
			for j := 0; j < svc.Methods().Len(); j++ {
				tx := "orchestrator." + contract + ":" + string(svc.Methods().Get(j).Name())
				n++
				if !made[tx] && notCompared[tx] == "" {
					t.Errorf("%s is not compared between solo and Fabric", tx)
				}
			}
		}
		return true
	})
	if n < 30 {
		t.Fatalf("found %d calls in the protos registry, want the whole API", n)
	}
}
