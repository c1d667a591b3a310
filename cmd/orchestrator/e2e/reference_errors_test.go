package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// TestReferenceErrors sets up, through the gRPC API, each condition that
// the reference orchestrator (Substra orchestrator 1.0.0, lib/service and
// lib/errors) reports, and checks that our answer has the expected gRPC
// code, starts with an "OExxxx: " code and contains the reference's own
// wording for it.
//
// Why the strings below match the reference's: backends written for the
// reference, and their tests, look for words in its error messages (for
// example "inputs may not be defined"), so that wording is part of the API
// those clients use. Only the wording of the messages is taken from it,
// rendered with this test's values; the code is ours.
//
// It runs on a fresh solo server, or on the servers of E2E_ADDR/E2E_ADDR2
// (the Fabric facades in fabric-network/scripts/test-fabric.sh): every key
// is drawn from this run's id, and nothing assumes an empty ledger.
func TestReferenceErrors(t *testing.T) {
	addr1, addr2, stop := serverUnderTest(t)
	o1 := newOrg(t, addr1, "Org1MSP", "mychannel")
	o2 := newOrg(t, addr2, "Org2MSP", "mychannel")
	f := setUpFederation(t, o1, o2)
	ctx1, ctx2 := o1.ctx, o2.ctx
	unknown := key(0x99, 7)
	dm1, dm2 := f.managers[o1.id], f.managers[o2.id]
	extraDM := key(0xd, 99) // Org1's data manager that only Org1 may process
	both := only(o1.id, o2.id)

	// Functions of this test: fnPriv only Org1 may process; fnPerf
	// (READY) evaluates data into a performance; fnMulti has a multiple
	// model output.
	fnPriv, fnPerf, fnMulti, fnOdd := key(0x5b, 1), key(0x5b, 2), key(0x5b, 3), key(0x5b, 4)
	dmIn := &protos.FunctionInput{Kind: protos.AssetKind_ASSET_DATA_MANAGER}
	dsIn := &protos.FunctionInput{Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true}
	for _, fn := range []*protos.NewFunction{
		{Key: fnPriv, Name: "private", NewPermissions: only(o1.id),
			Outputs: map[string]*protos.FunctionOutput{"model": {Kind: protos.AssetKind_ASSET_MODEL}}},
		{Key: fnPerf, Name: "evaluate", NewPermissions: public(),
			Inputs:  map[string]*protos.FunctionInput{"opener": dmIn, "datasamples": dsIn},
			Outputs: map[string]*protos.FunctionOutput{"performance": {Kind: protos.AssetKind_ASSET_PERFORMANCE}}},
		{Key: fnMulti, Name: "multi", NewPermissions: public(),
			Outputs: map[string]*protos.FunctionOutput{"models": {Kind: protos.AssetKind_ASSET_MODEL, Multiple: true}}},
		// An input of no kind, which no asset key can fill.
		{Key: fnOdd, Name: "odd", NewPermissions: public(),
			Inputs:  map[string]*protos.FunctionInput{"x": {Kind: protos.AssetKind_ASSET_UNKNOWN}},
			Outputs: map[string]*protos.FunctionOutput{"model": {Kind: protos.AssetKind_ASSET_MODEL}}},
	} {
		fn.Description, fn.Archive = addr("desc"), addr("archive")
		must(o1.functions().RegisterFunction(ctx1(), fn))(t)
	}
	for _, a := range []protos.FunctionAction{protos.FunctionAction_FUNCTION_ACTION_BUILDING, protos.FunctionAction_FUNCTION_ACTION_READY} {
		must(o1.functions().ApplyFunctionAction(ctx1(), &protos.ApplyFunctionActionParam{FunctionKey: fnPerf, Action: a}))(t)
	}

	// Plan 1 (Org1): one round of the federation's plan; its train tasks
	// wait for an executor, its aggregate for its parents.
	plan1 := key(0xc, 0x51)
	tasks := f.plan(t, o1, plan1, 0x500, 1)
	train1, agg := tasks[0], tasks[2]
	// Plan 2 (Org1): an evaluation task on Org1 that runs, registers its
	// performance and is done; a train task on Org1 that is executing.
	plan2 := key(0xc, 0x52)
	must(o1.plans().RegisterPlan(ctx1(), &protos.NewComputePlan{Key: plan2, Name: "errors 2"}))(t)
	evalTask, execTask, privParent, execTask2 := key(0xa, 0x601), key(0xa, 0x602), key(0xa, 0x603), key(0xa, 0x605)
	perfOut := map[string]*protos.NewComputeTaskOutput{"performance": {Permissions: public()}}
	modelOut := map[string]*protos.NewComputeTaskOutput{"model": {Permissions: both}}
	must(o1.tasks().RegisterTasks(ctx1(), &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{
		{Key: evalTask, FunctionKey: fnPerf, ComputePlanKey: plan2, Inputs: f.data(o1.id), Outputs: perfOut},
		{Key: execTask, FunctionKey: fnTrain, ComputePlanKey: plan2, Inputs: f.data(o1.id), Outputs: modelOut},
		{Key: execTask2, FunctionKey: fnTrain, ComputePlanKey: plan2, Inputs: f.data(o1.id), Outputs: modelOut},
		// A parent whose model only Org1 may process.
		{Key: privParent, FunctionKey: fnTrain, ComputePlanKey: plan2, Inputs: f.data(o1.id),
			Outputs: map[string]*protos.NewComputeTaskOutput{"model": {Permissions: only(o1.id)}}},
	}}))(t)
	for _, k := range []string{evalTask, execTask, execTask2} {
		must(o1.tasks().ApplyTaskAction(ctx1(), &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING}))(t)
	}
	must(o1.perfs().RegisterPerformance(ctx1(), &protos.NewPerformance{ComputeTaskKey: evalTask, ComputeTaskOutputIdentifier: "performance", PerformanceValue: 0.5}))(t)
	must(o1.tasks().ApplyTaskAction(ctx1(), &protos.ApplyTaskActionParam{ComputeTaskKey: evalTask, Action: protos.ComputeTaskAction_TASK_ACTION_DONE}))(t)
	// A second evaluation task stays executing, for performance errors.
	evalRun := key(0xa, 0x604)
	must(o1.tasks().RegisterTasks(ctx1(), &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{
		{Key: evalRun, FunctionKey: fnPerf, ComputePlanKey: plan2, Inputs: f.data(o1.id), Outputs: perfOut}}}))(t)
	must(o1.tasks().ApplyTaskAction(ctx1(), &protos.ApplyTaskActionParam{ComputeTaskKey: evalRun, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING}))(t)
	must(o1.perfs().RegisterPerformance(ctx1(), &protos.NewPerformance{ComputeTaskKey: evalRun, ComputeTaskOutputIdentifier: "performance", PerformanceValue: 0.5}))(t)
	// The executing train task's model is registered once.
	model1 := key(0xb, 0x601)
	must(o1.models().RegisterModels(ctx1(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
		{Key: model1, ComputeTaskKey: execTask, ComputeTaskOutputIdentifier: "model", Address: addr("model")}}}))(t)
	// Transient outputs: lone has no children; parentT's child is running;
	// doneT's child is done, so its model could be and is disabled. noModel
	// is done without having registered its model.
	lone, parentT, childT, doneT, doneChild, noModel := key(0xa, 0x611), key(0xa, 0x612), key(0xa, 0x613), key(0xa, 0x614), key(0xa, 0x615), key(0xa, 0x616)
	transient := map[string]*protos.NewComputeTaskOutput{"model": {Permissions: both, Transient: true}}
	child := func(k, p string) *protos.NewComputeTask {
		return &protos.NewComputeTask{Key: k, FunctionKey: fnAgg, ComputePlanKey: plan2, Worker: o1.id,
			Inputs: []*protos.ComputeTaskInput{parent("models", p, "model")}, Outputs: modelOut}
	}
	must(o1.tasks().RegisterTasks(ctx1(), &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{
		{Key: lone, FunctionKey: fnTrain, ComputePlanKey: plan2, Inputs: f.data(o1.id), Outputs: transient},
		{Key: parentT, FunctionKey: fnTrain, ComputePlanKey: plan2, Inputs: f.data(o1.id), Outputs: transient},
		child(childT, parentT),
		{Key: doneT, FunctionKey: fnTrain, ComputePlanKey: plan2, Inputs: f.data(o1.id), Outputs: transient},
		child(doneChild, doneT),
		{Key: noModel, FunctionKey: fnTrain, ComputePlanKey: plan2, Inputs: f.data(o1.id), Outputs: transient},
	}}))(t)
	act := func(k string, a protos.ComputeTaskAction) {
		t.Helper()
		must(o1.tasks().ApplyTaskAction(ctx1(), &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: a}))(t)
	}
	runTask := func(k string, model string) {
		t.Helper()
		act(k, protos.ComputeTaskAction_TASK_ACTION_EXECUTING)
		if model != "" {
			must(o1.models().RegisterModels(ctx1(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
				{Key: model, ComputeTaskKey: k, ComputeTaskOutputIdentifier: "model", Address: addr("model")}}}))(t)
		}
		act(k, protos.ComputeTaskAction_TASK_ACTION_DONE)
	}
	disabledModel := key(0xb, 0x614)
	runTask(lone, key(0xb, 0x611))
	runTask(parentT, key(0xb, 0x612))
	runTask(doneT, disabledModel)
	runTask(doneChild, key(0xb, 0x615))
	runTask(noModel, "")
	must(o1.tasks().DisableOutput(ctx1(), &protos.DisableOutputParam{ComputeTaskKey: doneT, Identifier: "model"}))(t)
	// privParent's model is one only Org1 may process.
	privModel := key(0xb, 0x603)
	runTask(privParent, privModel)

	// Plan 3 (Org1) is canceled: it is terminated.
	plan3 := key(0xc, 0x53)
	must(o1.plans().RegisterPlan(ctx1(), &protos.NewComputePlan{Key: plan3, Name: "errors 3"}))(t)
	canceled := key(0xa, 0x701)
	must(o1.tasks().RegisterTasks(ctx1(), &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{
		{Key: canceled, FunctionKey: fnTrain, ComputePlanKey: plan3, Inputs: f.data(o1.id), Outputs: modelOut}}}))(t)
	must(o1.plans().ApplyPlanAction(ctx1(), &protos.ApplyPlanActionParam{Key: plan3, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED}))(t)
	// Plan 4 belongs to Org2.
	plan4 := key(0xc, 0x54)
	must(o2.plans().RegisterPlan(ctx2(), &protos.NewComputePlan{Key: plan4, Name: "errors 4"}))(t)

	// newTask returns a task of plan2 (Org1's) with a fresh key.
	n := 0x800
	newTask := func(fn string, inputs []*protos.ComputeTaskInput, outputs map[string]*protos.NewComputeTaskOutput) *protos.NewComputeTask {
		n++
		return &protos.NewComputeTask{Key: key(0xa, n), FunctionKey: fn, ComputePlanKey: plan2, Inputs: inputs, Outputs: outputs}
	}
	register := func(o *org, ts ...*protos.NewComputeTask) error {
		_, err := o.tasks().RegisterTasks(o.ctx(), &protos.RegisterTasksParam{Tasks: ts})
		return err
	}
	assetIn := func(id, k string) *protos.ComputeTaskInput {
		return &protos.ComputeTaskInput{Identifier: id, Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: k}}
	}
	withWorker := func(nt *protos.NewComputeTask, w string) *protos.NewComputeTask { nt.Worker = w; return nt }
	inPlan := func(nt *protos.NewComputeTask, p string) *protos.NewComputeTask { nt.ComputePlanKey = p; return nt }
	cycleA, cycleB := newTask(fnAgg, nil, modelOut), newTask(fnAgg, nil, modelOut)
	cycleA.Worker, cycleB.Worker = o1.id, o1.id
	cycleA.Inputs = []*protos.ComputeTaskInput{parent("models", cycleB.Key, "model")}
	cycleB.Inputs = []*protos.ComputeTaskInput{parent("models", cycleA.Key, "model")}
	multiParent := newTask(fnMulti, nil, map[string]*protos.NewComputeTaskOutput{"models": {Permissions: both}})
	multiParent.Worker = o1.id
	must(o1.tasks().RegisterTasks(ctx1(), &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{multiParent}}))(t)
	// On Fabric, Org2's facade reads its own peer, which may commit a block
	// a moment after Org1's: wait until it sees the last write of the setup.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, err := o2.tasks().GetTask(ctx2(), &protos.GetTaskParam{Key: multiParent.Key})
		if err == nil {
			break
		}
		if status.Code(err) != codes.NotFound || time.Now().After(deadline) {
			t.Fatalf("Org2 does not see the setup: %v", err)
		}
	}
	badPerf := newTask(fnPerf, f.data(o1.id), map[string]*protos.NewComputeTaskOutput{"performance": {Permissions: only(o1.id)}})
	transientPerf := newTask(fnPerf, f.data(o1.id), map[string]*protos.NewComputeTaskOutput{"performance": {Permissions: public(), Transient: true}})
	noOutput := newTask(fnTrain, f.data(o1.id), nil)
	extraOutput := newTask(fnTrain, f.data(o1.id), map[string]*protos.NewComputeTaskOutput{"model": {Permissions: both}, "nope": {Permissions: both}})
	existing := newTask(fnTrain, f.data(o1.id), modelOut)
	existing.Key = train1

	rows := []struct {
		name string     // the condition
		ref  string     // the reference's wording, rendered with our values
		code codes.Code // reference's code, or a better one where it says Unknown
		call func() error
	}{
		// Not found (lib/errors NewNotFound, with the reference's kind names).
		{"GetTask unknown", fmt.Sprintf("computetask with key %q not found", unknown), codes.NotFound, func() error {
			_, err := o1.tasks().GetTask(ctx1(), &protos.GetTaskParam{Key: unknown})
			return err
		}},
		{"GetPlan unknown", fmt.Sprintf("computeplan with key %q not found", unknown), codes.NotFound, func() error {
			_, err := o1.plans().GetPlan(ctx1(), &protos.GetComputePlanParam{Key: unknown})
			return err
		}},
		{"GetDataManager unknown", fmt.Sprintf("datamanager with key %q not found", unknown), codes.NotFound, func() error {
			_, err := o1.managers().GetDataManager(ctx1(), &protos.GetDataManagerParam{Key: unknown})
			return err
		}},
		{"GetDataSample unknown", fmt.Sprintf("datasample with key %q not found", unknown), codes.NotFound, func() error {
			_, err := o1.samples().GetDataSample(ctx1(), &protos.GetDataSampleParam{Key: unknown})
			return err
		}},
		{"GetFunction unknown", fmt.Sprintf("function with key %q not found", unknown), codes.NotFound, func() error {
			_, err := o1.functions().GetFunction(ctx1(), &protos.GetFunctionParam{Key: unknown})
			return err
		}},
		{"GetModel unknown", fmt.Sprintf("model with key %q not found", unknown), codes.NotFound, func() error {
			_, err := o1.models().GetModel(ctx1(), &protos.GetModelParam{Key: unknown})
			return err
		}},
		{"GetFailureReport unknown", fmt.Sprintf("failure report with key %q not found", unknown), codes.NotFound, func() error {
			_, err := o1.failures().GetFailureReport(ctx1(), &protos.GetFailureReportParam{AssetKey: unknown})
			return err
		}},
		{"RegisterDataSamples unknown manager", fmt.Sprintf("datamanager with key %q not found", unknown), codes.NotFound, func() error {
			_, err := o1.samples().RegisterDataSamples(ctx1(), &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
				{Key: key(0xe, 0x901), DataManagerKeys: []string{unknown}, Checksum: strings.Repeat("ab", 32)}}})
			return err
		}},

		// Already exists (lib/errors NewConflict).
		{"RegisterOrganization twice", fmt.Sprintf("organization with key %q already exists", o1.id), codes.AlreadyExists, func() error {
			_, err := o1.organizations().RegisterOrganization(ctx1(), &protos.RegisterOrganizationParam{Address: "again.test:443"})
			return err
		}},
		{"RegisterFunction existing", fmt.Sprintf("function with key %q already exists", fnTrain), codes.AlreadyExists, func() error {
			_, err := o1.functions().RegisterFunction(ctx1(), &protos.NewFunction{Key: fnTrain, Name: "f", Description: addr("d"), Archive: addr("a"), NewPermissions: public()})
			return err
		}},
		{"RegisterDataManager existing", fmt.Sprintf("datamanager with key %q already exists", dm1), codes.AlreadyExists, func() error {
			_, err := o1.managers().RegisterDataManager(ctx1(), &protos.NewDataManager{Key: dm1, Name: "dm", NewPermissions: public(),
				Description: addr("dm"), Opener: addr("opener"), Type: "csv", LogsPermission: only(o1.id)})
			return err
		}},
		{"RegisterDataSamples existing", fmt.Sprintf("datasample with key %q already exists", f.samples[o1.id][0]), codes.AlreadyExists, func() error {
			_, err := o1.samples().RegisterDataSamples(ctx1(), &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
				{Key: f.samples[o1.id][0], DataManagerKeys: []string{dm1}, Checksum: strings.Repeat("ab", 32)}}})
			return err
		}},
		{"RegisterPlan existing", fmt.Sprintf("computeplan with key %q already exists", plan1), codes.AlreadyExists, func() error {
			_, err := o1.plans().RegisterPlan(ctx1(), &protos.NewComputePlan{Key: plan1, Name: "again"})
			return err
		}},
		{"RegisterTasks existing", fmt.Sprintf("computetask with key %q already exists", train1), codes.AlreadyExists, func() error {
			return register(o1, existing)
		}},
		{"RegisterPerformance twice", "performance with key ", codes.AlreadyExists, func() error {
			_, err := o1.perfs().RegisterPerformance(ctx1(), &protos.NewPerformance{ComputeTaskKey: evalRun, ComputeTaskOutputIdentifier: "performance", PerformanceValue: 0.7})
			return err
		}},
		{"RegisterModels second model for a unique output", fmt.Sprintf("compute task %q already has its unique output %q registered", execTask, "model"), codes.AlreadyExists, func() error {
			_, err := o1.models().RegisterModels(ctx1(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
				{Key: key(0xb, 0x602), ComputeTaskKey: execTask, ComputeTaskOutputIdentifier: "model", Address: addr("model")}}})
			return err
		}},

		// Invalid assets (lib/errors FromValidationError).
		{"RegisterFunction bad key", "function is not valid", codes.InvalidArgument, func() error {
			_, err := o1.functions().RegisterFunction(ctx1(), &protos.NewFunction{Key: "not-a-uuid", Name: "f", Description: addr("d"), Archive: addr("a"), NewPermissions: public()})
			return err
		}},
		{"UpdateFunction bad key", "function is not valid", codes.InvalidArgument, func() error {
			_, err := o1.functions().UpdateFunction(ctx1(), &protos.UpdateFunctionParam{Key: "nope", Name: "x"})
			return err
		}},
		{"UpdateFunction READY without image", "function is not valid: Image checksum should not be empty when function status is ready", codes.InvalidArgument, func() error {
			_, err := o1.functions().UpdateFunction(ctx1(), &protos.UpdateFunctionParam{Key: fnTrain, Name: "train"})
			return err
		}},
		{"RegisterDataManager no opener", "datamanager is not valid", codes.InvalidArgument, func() error {
			_, err := o1.managers().RegisterDataManager(ctx1(), &protos.NewDataManager{Key: key(0xd, 0x901), Name: "dm", NewPermissions: public(), Description: addr("d"), Type: "csv"})
			return err
		}},
		{"UpdateDataManager bad key", "datamanager is not valid", codes.InvalidArgument, func() error {
			_, err := o1.managers().UpdateDataManager(ctx1(), &protos.UpdateDataManagerParam{Key: "nope", Name: "x"})
			return err
		}},
		{"RegisterDataSamples bad checksum", "datasample is not valid", codes.InvalidArgument, func() error {
			_, err := o1.samples().RegisterDataSamples(ctx1(), &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
				{Key: key(0xe, 0x902), DataManagerKeys: []string{dm1}, Checksum: "x"}}})
			return err
		}},
		{"RegisterPlan bad key", "computeplan is not valid", codes.InvalidArgument, func() error {
			_, err := o1.plans().RegisterPlan(ctx1(), &protos.NewComputePlan{Key: "plan"})
			return err
		}},
		{"RegisterTasks bad key", "computetask is not valid", codes.InvalidArgument, func() error {
			nt := newTask(fnTrain, f.data(o1.id), modelOut)
			nt.Key = "task"
			return register(o1, nt)
		}},
		{"RegisterModels bad key", "model is not valid", codes.InvalidArgument, func() error {
			_, err := o1.models().RegisterModels(ctx1(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
				{Key: "model", ComputeTaskKey: execTask, ComputeTaskOutputIdentifier: "model", Address: addr("model")}}})
			return err
		}},
		{"RegisterPerformance bad task key", "performance is not valid", codes.InvalidArgument, func() error {
			_, err := o1.perfs().RegisterPerformance(ctx1(), &protos.NewPerformance{ComputeTaskKey: "task", ComputeTaskOutputIdentifier: "performance"})
			return err
		}},
		{"RegisterFailureReport bad key", "failurereport is not valid", codes.InvalidArgument, func() error {
			_, err := o1.failures().RegisterFailureReport(ctx1(), &protos.NewFailureReport{AssetKey: "task", AssetType: protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK})
			return err
		}},
		{"RegisterProfilingStep bad key", "profiling_step is not valid", codes.InvalidArgument, func() error {
			_, err := o1.profiling().RegisterProfilingStep(ctx1(), &protos.ProfilingStep{AssetKey: "task", Step: "s", Duration: 1})
			return err
		}},

		// Compute plans (lib/service/computeplan.go).
		{"ApplyPlanAction by another organization", "only plan owner can act on it", codes.PermissionDenied, func() error {
			_, err := o2.plans().ApplyPlanAction(ctx2(), &protos.ApplyPlanActionParam{Key: plan1, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED})
			return err
		}},
		{"ApplyPlanAction unknown action", "plan action unimplemented", codes.Unimplemented, func() error {
			_, err := o1.plans().ApplyPlanAction(ctx1(), &protos.ApplyPlanActionParam{Key: plan1, Action: protos.ComputePlanAction(0)})
			return err
		}},
		{"UpdatePlan by another organization", "requester does not own the compute plan", codes.PermissionDenied, func() error {
			_, err := o2.plans().UpdatePlan(ctx2(), &protos.UpdateComputePlanParam{Key: plan1, Name: "x"})
			return err
		}},
		{"ApplyPlanAction cancel a canceled plan", fmt.Sprintf("compute plan %s is already terminated", plan3), codes.FailedPrecondition, func() error {
			_, err := o1.plans().ApplyPlanAction(ctx1(), &protos.ApplyPlanActionParam{Key: plan3, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED})
			return err
		}},

		// Compute task registration (lib/service/computetask.go).
		{"RegisterTasks in an unknown plan", fmt.Sprintf("computeplan with key %q not found", unknown), codes.NotFound, func() error {
			return register(o1, inPlan(newTask(fnTrain, f.data(o1.id), modelOut), unknown))
		}},
		{"RegisterTasks with an unknown function", fmt.Sprintf("function with key %q not found", unknown), codes.NotFound, func() error {
			return register(o1, newTask(unknown, f.data(o1.id), modelOut))
		}},
		{"RegisterTasks empty", "no task to register", codes.FailedPrecondition, func() error {
			return register(o1)
		}},
		{"RegisterTasks into another's plan", "Cannot register tasks to a compute plan you don't own", codes.PermissionDenied, func() error {
			return register(o2, inPlan(newTask(fnTrain, f.data(o2.id), modelOut), plan1))
		}},
		{"RegisterTasks with a function one may not process", fmt.Sprintf("not authorized to process function %q", fnPriv), codes.PermissionDenied, func() error {
			return register(o2, withWorker(inPlan(newTask(fnPriv, nil, modelOut), plan4), o2.id))
		}},
		{"RegisterTasks cycle", "cyclic dependency in compute plan graph or unknown task parent, unsorted_tasks_count: 2", codes.InvalidArgument, func() error {
			return register(o1, cycleA, cycleB)
		}},
		{"RegisterTasks unknown input", fmt.Sprintf("unknown task input: this identifier was not declared in the Function: %q", "nope"), codes.InvalidArgument, func() error {
			return register(o1, newTask(fnTrain, append(f.data(o1.id), assetIn("nope", model1)), modelOut))
		}},
		{"RegisterTasks duplicate single input", fmt.Sprintf("duplicate task input: this identifier is present multiple times in the task inputs, but it was not declared as \"Multiple\" in the Function: %q", "model"), codes.InvalidArgument, func() error {
			return register(o1, newTask(fnTest, append(f.data(o1.id), parent("model", execTask, "model"), parent("model", execTask, "model")), perfOut))
		}},
		{"RegisterTasks missing input", fmt.Sprintf("missing task input: this identifier is required by the Function: %q", "models"), codes.InvalidArgument, func() error {
			return register(o1, withWorker(newTask(fnAgg, nil, modelOut), o1.id))
		}},
		{"RegisterTasks opener from a parent", fmt.Sprintf("invalid task input %q: openers must be referenced using an asset key", "opener"), codes.InvalidArgument, func() error {
			return register(o1, withWorker(newTask(fnTrain, []*protos.ComputeTaskInput{parent("opener", execTask, "model"), assetIn("datasamples", f.samples[o1.id][0])}, modelOut), o1.id))
		}},
		{"RegisterTasks data sample from a parent", fmt.Sprintf("invalid task input %q: data samples must be referenced using an asset key", "datasamples"), codes.InvalidArgument, func() error {
			return register(o1, newTask(fnTrain, []*protos.ComputeTaskInput{assetIn("opener", dm1), parent("datasamples", execTask, "model")}, modelOut))
		}},
		{"RegisterTasks parent without that function output", fmt.Sprintf("invalid task input %q: parent task %s: function output not found: %q", "models", execTask, "nope"), codes.InvalidArgument, func() error {
			return register(o1, withWorker(newTask(fnAgg, []*protos.ComputeTaskInput{parent("models", execTask, "nope")}, modelOut), o1.id))
		}},
		{"RegisterTasks parent output of another kind", "mismatching task input asset kinds: expecting ASSET_MODEL but parent task output has kind ASSET_PERFORMANCE", codes.InvalidArgument, func() error {
			return register(o1, withWorker(newTask(fnAgg, []*protos.ComputeTaskInput{parent("models", evalTask, "performance")}, modelOut), o1.id))
		}},
		{"RegisterTasks multiple output as single input", fmt.Sprintf("invalid task input %q: multiple task output used as single task input", "model"), codes.InvalidArgument, func() error {
			return register(o1, newTask(fnTest, append(f.data(o1.id), parent("model", multiParent.Key, "models")), perfOut))
		}},
		{"RegisterTasks parent output the worker may not process", fmt.Sprintf("invalid task input %q: worker %q doesn't have permission to process output", "models", o2.id), codes.PermissionDenied, func() error {
			return register(o1, withWorker(newTask(fnAgg, []*protos.ComputeTaskInput{parent("models", privParent, "model")}, modelOut), o2.id))
		}},
		{"RegisterTasks unknown output", "unknown task output: this identifier was not declared in the Function: \"nope\"", codes.InvalidArgument, func() error {
			return register(o1, extraOutput)
		}},
		{"RegisterTasks missing output", fmt.Sprintf("invalid task %s, missing task output: this identifier is required by the Function: %q", noOutput.Key, "model"), codes.InvalidArgument, func() error {
			return register(o1, noOutput)
		}},
		{"RegisterTasks private performance", fmt.Sprintf("invalid task %s, invalid task output %q: a PERFORMANCE output should be public", badPerf.Key, "performance"), codes.InvalidArgument, func() error {
			return register(o1, badPerf)
		}},
		{"RegisterTasks transient performance", fmt.Sprintf("invalid task %s, invalid task output %q: a PERFORMANCE output cannot be transient", transientPerf.Key, "performance"), codes.InvalidArgument, func() error {
			return register(o1, transientPerf)
		}},
		{"RegisterTasks worker other than the data manager's owner", fmt.Sprintf("Specified worker %q does not match data manager owner: %q", o2.id, o1.id), codes.FailedPrecondition, func() error {
			return register(o1, withWorker(newTask(fnTrain, f.data(o1.id), modelOut), o2.id))
		}},
		{"RegisterTasks no worker and no data manager", "Worker cannot be inferred and must be explicitly set", codes.FailedPrecondition, func() error {
			return register(o1, newTask(fnAgg, []*protos.ComputeTaskInput{parent("models", execTask, "model")}, modelOut))
		}},
		{"RegisterTasks data manager one may not process", fmt.Sprintf("not authorized to process datamanager %q", extraDM), codes.PermissionDenied, func() error {
			return register(o2, inPlan(newTask(fnTrain, []*protos.ComputeTaskInput{assetIn("opener", extraDM), assetIn("datasamples", f.samples[o1.id][0])}, modelOut), plan4))
		}},
		{"RegisterTasks samples of another manager", "datasamples do not share a common manager", codes.InvalidArgument, func() error {
			return register(o1, newTask(fnTrain, []*protos.ComputeTaskInput{assetIn("opener", dm1), assetIn("datasamples", f.samples[o2.id][0])}, modelOut))
		}},

		// Compute task life cycle (computetask.go, computetaskstate.go).
		{"GetTaskInputAssets of a waiting task", fmt.Sprintf("Task inputs may not be defined in current task status (%q)", "STATUS_WAITING_FOR_PARENT_TASKS"), codes.FailedPrecondition, func() error {
			_, err := o1.tasks().GetTaskInputAssets(ctx1(), &protos.GetTaskInputAssetsParam{ComputeTaskKey: agg})
			return err
		}},
		{"ApplyTaskAction by another organization", "only task owner can update it", codes.PermissionDenied, func() error {
			_, err := o2.tasks().ApplyTaskAction(ctx2(), &protos.ApplyTaskActionParam{ComputeTaskKey: train1, Action: protos.ComputeTaskAction_TASK_ACTION_CANCELED})
			return err
		}},
		// The reference lets no one apply an action it does not know.
		{"ApplyTaskAction unknown action", "only task owner can update it", codes.PermissionDenied, func() error {
			_, err := o1.tasks().ApplyTaskAction(ctx1(), &protos.ApplyTaskActionParam{ComputeTaskKey: train1, Action: protos.ComputeTaskAction(0)})
			return err
		}},
		{"ApplyTaskAction on a canceled task", fmt.Sprintf("compute task %s is already terminated", canceled), codes.FailedPrecondition, func() error {
			_, err := o1.tasks().ApplyTaskAction(ctx1(), &protos.ApplyTaskActionParam{ComputeTaskKey: canceled, Action: protos.ComputeTaskAction_TASK_ACTION_CANCELED})
			return err
		}},
		// The reference's state machine (looplab/fsm) answers Unknown with
		// "event <transition> inappropriate in current state <status>".
		{"ApplyTaskAction DONE on a waiting task", "inappropriate in current state STATUS_WAITING_FOR_PARENT_TASKS", codes.InvalidArgument, func() error {
			_, err := o1.tasks().ApplyTaskAction(ctx1(), &protos.ApplyTaskActionParam{ComputeTaskKey: agg, Action: protos.ComputeTaskAction_TASK_ACTION_DONE})
			return err
		}},
		{"ApplyFunctionAction READY on a waiting function", "inappropriate in current state FUNCTION_STATUS_WAITING", codes.FailedPrecondition, func() error {
			_, err := o1.functions().ApplyFunctionAction(ctx1(), &protos.ApplyFunctionActionParam{FunctionKey: fnPriv, Action: protos.FunctionAction_FUNCTION_ACTION_READY})
			return err
		}},
		{"ApplyTaskAction on a canceled task, in the state machine's words", "inappropriate in current state STATUS_CANCELED", codes.FailedPrecondition, func() error {
			_, err := o1.tasks().ApplyTaskAction(ctx1(), &protos.ApplyTaskActionParam{ComputeTaskKey: canceled, Action: protos.ComputeTaskAction_TASK_ACTION_CANCELED})
			return err
		}},
		{"DisableOutput by another organization", "only the worker can disable a task output", codes.PermissionDenied, func() error {
			_, err := o2.tasks().DisableOutput(ctx2(), &protos.DisableOutputParam{ComputeTaskKey: execTask, Identifier: "model"})
			return err
		}},
		{"DisableOutput of a running task", "cannot disable asset: task not in final state", codes.InvalidArgument, func() error {
			_, err := o1.tasks().DisableOutput(ctx1(), &protos.DisableOutputParam{ComputeTaskKey: execTask, Identifier: "model"})
			return err
		}},
		{"DisableOutput unknown output", fmt.Sprintf("there is no output identifier %s for task %s", "nope", evalTask), codes.InvalidArgument, func() error {
			_, err := o1.tasks().DisableOutput(ctx1(), &protos.DisableOutputParam{ComputeTaskKey: evalTask, Identifier: "nope"})
			return err
		}},
		{"DisableOutput without an asset", fmt.Sprintf("there is no output asset with identifier %s for task %s", "model", noModel), codes.InvalidArgument, func() error {
			_, err := o1.tasks().DisableOutput(ctx1(), &protos.DisableOutputParam{ComputeTaskKey: noModel, Identifier: "model"})
			return err
		}},
		{"DisableOutput of a task with no children", "cannot disable output of a task with no children", codes.InvalidArgument, func() error {
			_, err := o1.tasks().DisableOutput(ctx1(), &protos.DisableOutputParam{ComputeTaskKey: lone, Identifier: "model"})
			return err
		}},
		{"DisableOutput while a child runs", "cannot disable asset: child not in final state", codes.InvalidArgument, func() error {
			_, err := o1.tasks().DisableOutput(ctx1(), &protos.DisableOutputParam{ComputeTaskKey: parentT, Identifier: "model"})
			return err
		}},
		{"RegisterTasks from a disabled model", fmt.Sprintf("Model %q has been disabled", disabledModel), codes.InvalidArgument, func() error {
			return register(o1, child(key(0xa, 0x617), doneT))
		}},
		{"RegisterTasks with a model one may not process", fmt.Sprintf("not authorized to process model %q", privModel), codes.PermissionDenied, func() error {
			return register(o2, inPlan(newTask(fnTrain, append(f.data(o2.id), assetIn("models", privModel)), modelOut), plan4))
		}},
		{"RegisterTasks asset key for an input of no kind", fmt.Sprintf("invalid task input %q: invalid asset kind", "x"), codes.Unimplemented, func() error {
			return register(o1, withWorker(newTask(fnOdd, []*protos.ComputeTaskInput{assetIn("x", model1)}, modelOut), o1.id))
		}},
		{"RegisterTasks unknown parent", "cyclic dependency in compute plan graph or unknown task parent, unsorted_tasks_count: 1", codes.InvalidArgument, func() error {
			return register(o1, withWorker(newTask(fnAgg, []*protos.ComputeTaskInput{parent("models", unknown, "model")}, modelOut), o1.id))
		}},
		{"RegisterTasks input without a reference", "computetask is not valid", codes.InvalidArgument, func() error {
			return register(o1, newTask(fnTrain, append(f.data(o1.id), &protos.ComputeTaskInput{Identifier: "models"}), modelOut))
		}},
		{"DisableOutput not transient", "output is not transient", codes.InvalidArgument, func() error {
			_, err := o1.tasks().DisableOutput(ctx1(), &protos.DisableOutputParam{ComputeTaskKey: evalTask, Identifier: "performance"})
			return err
		}},

		// Models and performances (model.go, performance.go, lib/errors).
		{"RegisterModels for another's task", fmt.Sprintf("only %q worker can register model", o1.id), codes.PermissionDenied, func() error {
			_, err := o2.models().RegisterModels(ctx2(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
				{Key: key(0xb, 0x603), ComputeTaskKey: train1, ComputeTaskOutputIdentifier: "model", Address: addr("model")}}})
			return err
		}},
		{"RegisterModels for a waiting task", fmt.Sprintf("cannot register model for task with status %q", "STATUS_WAITING_FOR_EXECUTOR_SLOT"), codes.FailedPrecondition, func() error {
			_, err := o1.models().RegisterModels(ctx1(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
				{Key: key(0xb, 0x604), ComputeTaskKey: train1, ComputeTaskOutputIdentifier: "model", Address: addr("model")}}})
			return err
		}},
		{"RegisterModels unknown output", fmt.Sprintf("Task %q has no output named %q", execTask, "nope"), codes.InvalidArgument, func() error {
			_, err := o1.models().RegisterModels(ctx1(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
				{Key: key(0xb, 0x605), ComputeTaskKey: execTask, ComputeTaskOutputIdentifier: "nope", Address: addr("model")}}})
			return err
		}},
		{"RegisterModels on a performance output", fmt.Sprintf("Incompatible kind for task %q: output %q expects %q, received %q", evalRun, "performance", "ASSET_PERFORMANCE", "ASSET_MODEL"), codes.InvalidArgument, func() error {
			_, err := o1.models().RegisterModels(ctx1(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
				{Key: key(0xb, 0x606), ComputeTaskKey: evalRun, ComputeTaskOutputIdentifier: "performance", Address: addr("model")}}})
			return err
		}},
		{"RegisterModels of several tasks", "All models should be part of the same task", codes.FailedPrecondition, func() error {
			_, err := o1.models().RegisterModels(ctx1(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
				{Key: key(0xb, 0x607), ComputeTaskKey: execTask2, ComputeTaskOutputIdentifier: "model", Address: addr("model")},
				{Key: key(0xb, 0x608), ComputeTaskKey: train1, ComputeTaskOutputIdentifier: "model", Address: addr("model")}}})
			return err
		}},
		{"RegisterPerformance for another's task", fmt.Sprintf("only %q worker can register performance", o1.id), codes.PermissionDenied, func() error {
			_, err := o2.perfs().RegisterPerformance(ctx2(), &protos.NewPerformance{ComputeTaskKey: evalRun, ComputeTaskOutputIdentifier: "performance"})
			return err
		}},
		{"RegisterPerformance for a done task", fmt.Sprintf("cannot register performance for task with status %q", "STATUS_DONE"), codes.FailedPrecondition, func() error {
			_, err := o1.perfs().RegisterPerformance(ctx1(), &protos.NewPerformance{ComputeTaskKey: evalTask, ComputeTaskOutputIdentifier: "performance"})
			return err
		}},
		{"RegisterPerformance unknown output", fmt.Sprintf("Task %q has no output named %q", evalRun, "nope"), codes.InvalidArgument, func() error {
			_, err := o1.perfs().RegisterPerformance(ctx1(), &protos.NewPerformance{ComputeTaskKey: evalRun, ComputeTaskOutputIdentifier: "nope"})
			return err
		}},

		// Failure reports (failure_report.go).
		{"RegisterFailureReport unknown asset type", "can only register failure for asset_kind values function and compute task", codes.FailedPrecondition, func() error {
			_, err := o1.failures().RegisterFailureReport(ctx1(), &protos.NewFailureReport{AssetKey: train1, ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION, LogsAddress: addr("logs")})
			return err
		}},
		{"RegisterFailureReport for another's task", fmt.Sprintf("only %q worker can register failure report for compute task", o1.id), codes.PermissionDenied, func() error {
			_, err := o2.failures().RegisterFailureReport(ctx2(), &protos.NewFailureReport{AssetKey: train1, ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION,
				LogsAddress: addr("logs"), AssetType: protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK})
			return err
		}},
		{"RegisterFailureReport for a waiting task", fmt.Sprintf("cannot register failure report for task with status %q", "STATUS_WAITING_FOR_PARENT_TASKS"), codes.FailedPrecondition, func() error {
			_, err := o1.failures().RegisterFailureReport(ctx1(), &protos.NewFailureReport{AssetKey: agg, ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION,
				LogsAddress: addr("logs"), AssetType: protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK})
			return err
		}},
		{"RegisterFailureReport for another's function", fmt.Sprintf("only %q owner can register failure report for function", o1.id), codes.PermissionDenied, func() error {
			_, err := o2.failures().RegisterFailureReport(ctx2(), &protos.NewFailureReport{AssetKey: fnTest, ErrorType: protos.ErrorType_ERROR_TYPE_BUILD,
				LogsAddress: addr("logs"), AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION})
			return err
		}},

		// Data managers, data samples, functions, permissions.
		{"UpdateDataManager by another organization", "requester does not own the data manager", codes.PermissionDenied, func() error {
			_, err := o2.managers().UpdateDataManager(ctx2(), &protos.UpdateDataManagerParam{Key: dm1, Name: "x"})
			return err
		}},
		{"RegisterDataSamples into another's manager", fmt.Sprintf("requester does not own the datamanager %q", dm1), codes.PermissionDenied, func() error {
			_, err := o2.samples().RegisterDataSamples(ctx2(), &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
				{Key: key(0xe, 0x903), DataManagerKeys: []string{dm1}, Checksum: strings.Repeat("ab", 32)}}})
			return err
		}},
		{"UpdateDataSamples of another organization", "requester does not own the datasample", codes.PermissionDenied, func() error {
			_, err := o2.samples().UpdateDataSamples(ctx2(), &protos.UpdateDataSamplesParam{Keys: f.samples[o1.id][:1], DataManagerKeys: []string{dm2}})
			return err
		}},
		{"UpdateDataSamples onto another's manager", fmt.Sprintf("requester does not own the datamanager %q", dm2), codes.PermissionDenied, func() error {
			_, err := o1.samples().UpdateDataSamples(ctx1(), &protos.UpdateDataSamplesParam{Keys: f.samples[o1.id][:1], DataManagerKeys: []string{dm2}})
			return err
		}},
		{"UpdateFunction by another organization", "requester does not own the function", codes.PermissionDenied, func() error {
			_, err := o2.functions().UpdateFunction(ctx2(), &protos.UpdateFunctionParam{Key: fnTrain, Name: "x"})
			return err
		}},
		{"ApplyFunctionAction by another organization", "only function owner can update it", codes.PermissionDenied, func() error {
			_, err := o2.functions().ApplyFunctionAction(ctx2(), &protos.ApplyFunctionActionParam{FunctionKey: fnPriv, Action: protos.FunctionAction_FUNCTION_ACTION_BUILDING})
			return err
		}},
		{"ApplyFunctionAction unknown action", "unsupported action", codes.FailedPrecondition, func() error {
			_, err := o1.functions().ApplyFunctionAction(ctx1(), &protos.ApplyFunctionActionParam{FunctionKey: fnPriv, Action: protos.FunctionAction(0)})
			return err
		}},
		{"RegisterDataManager for an unknown organization", "invalid permission input values", codes.FailedPrecondition, func() error {
			_, err := o1.managers().RegisterDataManager(ctx1(), &protos.NewDataManager{Key: key(0xd, 0x902), Name: "dm", NewPermissions: only("NoSuchMSP-" + runID),
				Description: addr("dm"), Opener: addr("opener"), Type: "csv", LogsPermission: only(o1.id)})
			return err
		}},
	}

	var table strings.Builder
	table.WriteString("| condition | code | reference's wording | our message |\n|---|---|---|---|\n")
	for _, r := range rows {
		t.Run(strings.ReplaceAll(r.name, " ", "_"), func(t *testing.T) {
			err := r.call()
			st, _ := status.FromError(err)
			msg := st.Message()
			fmt.Fprintf(&table, "| %s | %s | `%s` | `%s` |\n", r.name, r.code, r.ref, msg)
			switch {
			case err == nil:
				t.Fatalf("no error; want %s containing %q", r.code, r.ref)
			case st.Code() != r.code:
				t.Errorf("code %s, want %s (%s)", st.Code(), r.code, msg)
			}
			if !hasOECode(msg) {
				t.Errorf("message %q does not start with an OExxxx: code", msg)
			}
			if !strings.Contains(msg, r.ref) {
				t.Errorf("message %q does not contain the reference's %q", msg, r.ref)
			}
		})
	}
	t.Logf("reference errors:\n%s", table.String())
	stop()
}

// hasOECode reports whether msg starts with "OE" and four digits and ": ".
func hasOECode(msg string) bool {
	if len(msg) < 8 || msg[:2] != "OE" || msg[6:8] != ": " {
		return false
	}
	for _, c := range msg[2:6] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
