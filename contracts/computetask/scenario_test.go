package computetask_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/fedchain/orchestrator/contracts/computetask"
	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

// Function keys of the scenario.
var (
	fnComposite = tasktest.Key(0xf, 1)
	fnAggregate = tasktest.Key(0xf, 2)
	fnTrain     = tasktest.Key(0xf, 3)
	fnTest      = tasktest.Key(0xf, 4)
)

// federation registers two organizations, the four functions (owned by
// org1) and a data manager with samples at each organization.
func federation(t testing.TB) (*tasktest.Net, map[string]string, map[string][]string) {
	n := tasktest.New(t, solotest.Start)
	n.Org("org1", "org2")
	dm := tasktest.Input(protos.AssetKind_ASSET_DATA_MANAGER, false, false)
	ds := tasktest.Input(protos.AssetKind_ASSET_DATA_SAMPLE, true, false)
	model := protos.AssetKind_ASSET_MODEL
	n.Function("org1", fnComposite, true, map[string]*protos.FunctionInput{
		"opener": dm, "datasamples": ds,
		"local":  tasktest.Input(model, false, true),
		"shared": tasktest.Input(model, false, true),
	}, map[string]*protos.FunctionOutput{"local": tasktest.Output(model, false), "shared": tasktest.Output(model, false)})
	n.Function("org1", fnAggregate, true, map[string]*protos.FunctionInput{
		"models": tasktest.Input(model, true, false),
	}, map[string]*protos.FunctionOutput{"model": tasktest.Output(model, false)})
	n.Function("org1", fnTrain, true, map[string]*protos.FunctionInput{
		"opener": dm, "datasamples": ds, "models": tasktest.Input(model, true, true),
	}, map[string]*protos.FunctionOutput{"model": tasktest.Output(model, false)})
	n.Function("org1", fnTest, true, map[string]*protos.FunctionInput{
		"opener": dm, "datasamples": ds, "model": tasktest.Input(model, false, false),
	}, map[string]*protos.FunctionOutput{"performance": tasktest.Output(protos.AssetKind_ASSET_PERFORMANCE, false)})
	managers := map[string]string{"org1": tasktest.Key(0xd, 1), "org2": tasktest.Key(0xd, 2)}
	samples := map[string][]string{}
	for i, org := range []string{"org1", "org2"} {
		n.DataManager(org, managers[org])
		samples[org] = []string{tasktest.Key(0xe, i*10+1), tasktest.Key(0xe, i*10+2)}
		n.DataSamples(org, managers[org], samples[org]...)
	}
	return n, managers, samples
}

type planBuilder struct {
	plan     string
	managers map[string]string
	samples  map[string][]string
	next     int
}

func (b *planBuilder) key() string {
	b.next++
	return tasktest.Key(0xa, b.next)
}

func (b *planBuilder) data(org string) []*protos.ComputeTaskInput {
	in := []*protos.ComputeTaskInput{tasktest.AssetInput("opener", b.managers[org])}
	for _, s := range b.samples[org] {
		in = append(in, tasktest.AssetInput("datasamples", s))
	}
	return in
}

// round returns the 10 tasks of one federated round, given the outputs of
// the previous one: two composite tasks, their aggregation, two train
// tasks from the aggregate and their aggregation, and four test tasks.
func (b *planBuilder) round(prevLocal map[string]string, prevAgg string) (tasks []*protos.NewComputeTask, local map[string]string, agg2 string) {
	shared := tasktest.Outputs(tasktest.Only("org1", "org2"), false, "shared")
	local = map[string]string{}
	var composites []string
	for _, org := range []string{"org1", "org2"} {
		k := b.key()
		in := b.data(org)
		if prevLocal != nil {
			in = append(in, tasktest.ParentInput("local", prevLocal[org], "local"), tasktest.ParentInput("shared", prevAgg, "model"))
		}
		outs := tasktest.Outputs(tasktest.Only(org), false, "local")
		maps.Copy(outs, shared)
		tasks = append(tasks, &protos.NewComputeTask{Key: k, FunctionKey: fnComposite, ComputePlanKey: b.plan, Inputs: in, Outputs: outs,
			Metadata: map[string]string{"round": "x"}})
		local[org] = k
		composites = append(composites, k)
	}
	agg := b.key()
	tasks = append(tasks, &protos.NewComputeTask{Key: agg, FunctionKey: fnAggregate, ComputePlanKey: b.plan, Worker: "org1",
		Inputs:  []*protos.ComputeTaskInput{tasktest.ParentInput("models", composites[0], "shared"), tasktest.ParentInput("models", composites[1], "shared")},
		Outputs: tasktest.Outputs(tasktest.Only("org1", "org2"), false, "model")})
	var trains []string
	for _, org := range []string{"org1", "org2"} {
		k := b.key()
		tasks = append(tasks, &protos.NewComputeTask{Key: k, FunctionKey: fnTrain, ComputePlanKey: b.plan,
			Inputs:  append(b.data(org), tasktest.ParentInput("models", agg, "model")),
			Outputs: tasktest.Outputs(tasktest.Only("org1", "org2"), true, "model")})
		trains = append(trains, k)
	}
	agg2 = b.key()
	tasks = append(tasks, &protos.NewComputeTask{Key: agg2, FunctionKey: fnAggregate, ComputePlanKey: b.plan, Worker: "org2",
		Inputs:  []*protos.ComputeTaskInput{tasktest.ParentInput("models", trains[0], "model"), tasktest.ParentInput("models", trains[1], "model")},
		Outputs: tasktest.Outputs(tasktest.Only("org1", "org2"), false, "model")})
	for _, src := range []string{agg, agg2} {
		for _, org := range []string{"org1", "org2"} {
			tasks = append(tasks, &protos.NewComputeTask{Key: b.key(), FunctionKey: fnTest, ComputePlanKey: b.plan,
				Inputs:  append(b.data(org), tasktest.ParentInput("model", src, "model")),
				Outputs: tasktest.Outputs(tasktest.Public(), false, "performance")})
		}
	}
	// Present the batch children first: the contract orders it.
	slices.Reverse(tasks)
	return tasks, local, agg
}

// work plays one organization's worker: it runs every task waiting for it,
// registering a model per model output and a performance per performance
// output, except the task it must fail.
func work(t *testing.T, n *tasktest.Net, org, failKey string) int {
	t.Helper()
	ran := 0
	for {
		var page protos.QueryTasksResponse
		n.MustEvaluate(org, "orchestrator.computetask:QueryTasks", &protos.QueryTasksParam{PageSize: 3,
			Filter: &protos.TaskQueryFilter{Worker: org, Status: protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT}}, &page)
		if len(page.GetTasks()) == 0 {
			return ran
		}
		for _, task := range page.GetTasks() {
			k := task.GetKey()
			n.MustSubmit(org, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING}, nil)
			var inputs protos.GetTaskInputAssetsResponse
			n.MustEvaluate(org, "orchestrator.computetask:GetTaskInputAssets", &protos.GetTaskInputAssetsParam{ComputeTaskKey: k}, &inputs)
			if len(inputs.GetAssets()) < 1 {
				t.Fatalf("task %s has no input assets", k)
			}
			if k == failKey {
				n.MustSubmit(org, "orchestrator.failurereport:RegisterFailureReport", &protos.NewFailureReport{AssetKey: k,
					ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION, LogsAddress: tasktest.Addr("logs"),
					AssetType: protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK}, nil)
				continue
			}
			var models []*protos.NewModel
			for _, id := range slices.Sorted(maps.Keys(task.GetOutputs())) {
				if id == "performance" {
					n.MustSubmit(org, "orchestrator.performance:RegisterPerformance", &protos.NewPerformance{ComputeTaskKey: k,
						ComputeTaskOutputIdentifier: id, PerformanceValue: 0.5}, nil)
					continue
				}
				models = append(models, &protos.NewModel{Key: tasktest.Key(0xb, modelSeq(k)+len(models)), ComputeTaskKey: k,
					ComputeTaskOutputIdentifier: id, Address: tasktest.Addr("model-" + k + "-" + id)})
			}
			if len(models) > 0 {
				n.MustSubmit(org, "orchestrator.model:RegisterModels", &protos.RegisterModelsParam{Models: models}, nil)
			}
			n.MustSubmit(org, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_DONE}, nil)
			ran++
		}
	}
}

// modelSeq derives a distinct number from a task key for model keys.
func modelSeq(taskKey string) int {
	var n int
	fmt.Sscanf(taskKey[24:], "%x", &n)
	return n * 10
}

func TestScenarioFederatedPlan(t *testing.T) {
	n, managers, samples := federation(t)
	n.NewEvents()
	plan := tasktest.Key(0xc, 1)
	n.MustSubmit("org1", "orchestrator.computeplan:RegisterPlan", &protos.NewComputePlan{Key: plan, Name: "federated"}, nil)
	b := &planBuilder{plan: plan, managers: managers, samples: samples}
	var local map[string]string
	var agg string
	var all []string
	for range 5 {
		var tasks []*protos.NewComputeTask
		tasks, local, agg = b.round(local, agg)
		var res protos.RegisterTasksResponse
		n.MustSubmit("org1", "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: tasks}, &res)
		if len(res.GetTasks()) != 10 {
			t.Fatalf("registered %d tasks", len(res.GetTasks()))
		}
		for _, task := range res.GetTasks() {
			all = append(all, task.GetKey())
		}
	}
	// The last test task of the last round fails.
	failKey := tasktest.Key(0xa, 50)
	for {
		ran := work(t, n, "org1", failKey) + work(t, n, "org2", failKey)
		if ran == 0 {
			break
		}
	}
	counts := map[protos.ComputeTaskStatus]int{}
	for _, k := range all {
		var task protos.ComputeTask
		n.MustEvaluate("org2", "orchestrator.computetask:GetTask", &protos.GetTaskParam{Key: k}, &task)
		counts[task.GetStatus()]++
	}
	if counts[protos.ComputeTaskStatus_STATUS_DONE] != 49 || counts[protos.ComputeTaskStatus_STATUS_FAILED] != 1 {
		t.Fatalf("final statuses %v", counts)
	}
	var p protos.ComputePlan
	n.MustEvaluate("org2", "orchestrator.computeplan:GetPlan", &protos.GetComputePlanParam{Key: plan}, &p)
	if p.GetFailureDate() == nil || p.GetCancelationDate() != nil {
		t.Fatalf("plan dates: %v", &p)
	}
	var running protos.IsPlanRunningResponse
	n.MustEvaluate("org1", "orchestrator.computeplan:IsPlanRunning", &protos.IsPlanRunningParam{Key: plan}, &running)
	if running.GetIsRunning() {
		t.Fatal("failed plan running")
	}
	var perfs protos.QueryPerformancesResponse
	n.MustEvaluate("org2", "orchestrator.performance:QueryPerformances", &protos.QueryPerformancesParam{PageSize: 100}, &perfs)
	if len(perfs.GetPerformances()) != 19 {
		t.Fatalf("%d performances, want 19", len(perfs.GetPerformances()))
	}

	// Events: every task created once, then its status moves along a path
	// of the state machine.
	evs := n.NewEvents()
	kinds := map[string]int{}
	statuses := map[string][]protos.ComputeTaskStatus{}
	for _, ev := range evs {
		kinds[ev.GetEventKind().String()+" "+ev.GetAssetKind().String()]++
		if ct := ev.GetComputeTask(); ct != nil {
			statuses[ct.GetKey()] = append(statuses[ct.GetKey()], ct.GetStatus())
		}
	}
	want := map[string]int{
		"EVENT_ASSET_CREATED ASSET_COMPUTE_PLAN":              1,
		"EVENT_ASSET_CREATED ASSET_COMPUTE_TASK":              50,
		"EVENT_ASSET_CREATED ASSET_MODEL":                     5 * (2*2 + 2 + 2), // per round: 2 composites x 2, 2 aggregates, 2 trains
		"EVENT_ASSET_CREATED ASSET_PERFORMANCE":               19,
		"EVENT_ASSET_CREATED ASSET_COMPUTE_TASK_OUTPUT_ASSET": 40 + 19,
		"EVENT_ASSET_CREATED ASSET_FAILURE_REPORT":            1,
	}
	for k, w := range want {
		if kinds[k] != w {
			t.Errorf("%d %s events, want %d", kinds[k], k, w)
		}
	}
	// Causality: a task is created before it changes, and starts (waits for
	// an executor) only after all its parents are done.
	doneAt := map[string]int{}
	createdAt := map[string]int{}
	for i, ev := range evs {
		ct := ev.GetComputeTask()
		if ct == nil {
			continue
		}
		switch {
		case ev.GetEventKind() == protos.EventKind_EVENT_ASSET_CREATED:
			createdAt[ct.GetKey()] = i
		case ct.GetStatus() == protos.ComputeTaskStatus_STATUS_DONE:
			doneAt[ct.GetKey()] = i
		case ct.GetStatus() == protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT:
			for _, p := range computetask.ParentKeys(ct.GetInputs()) {
				if d, ok := doneAt[p]; !ok || d > i {
					t.Errorf("task %s started (event %d) before its parent %s was done", ct.GetKey(), i, p)
				}
			}
		}
		if c, ok := createdAt[ct.GetKey()]; !ok || c > i {
			t.Errorf("event %d about task %s precedes its creation", i, ct.GetKey())
		}
	}
	for k, path := range statuses {
		last := path[len(path)-1]
		if k == failKey && last != protos.ComputeTaskStatus_STATUS_FAILED || k != failKey && last != protos.ComputeTaskStatus_STATUS_DONE {
			t.Errorf("task %s ends its events in %v", k, last)
		}
		if path[len(path)-2] != protos.ComputeTaskStatus_STATUS_EXECUTING {
			t.Errorf("task %s path %v", k, path)
		}
	}

	// A second plan is canceled by its owner while one task executes.
	plan2 := tasktest.Key(0xc, 2)
	n.MustSubmit("org1", "orchestrator.computeplan:RegisterPlan", &protos.NewComputePlan{Key: plan2, Name: "canceled"}, nil)
	b2 := &planBuilder{plan: plan2, managers: managers, samples: samples, next: 100}
	tasks, _, _ := b2.round(nil, "")
	n.MustSubmit("org1", "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: tasks}, nil)
	first := tasktest.Key(0xa, 101)
	n.MustSubmit("org1", "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: first, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING}, nil)
	if err := n.Submit("org2", "orchestrator.computeplan:ApplyPlanAction", &protos.ApplyPlanActionParam{Key: plan2, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED}, nil); orcerr.KindOf(err) != orcerr.PermissionDenied {
		t.Fatalf("cancel by org2: %v", err)
	}
	n.NewEvents()
	n.MustSubmit("org1", "orchestrator.computeplan:ApplyPlanAction", &protos.ApplyPlanActionParam{Key: plan2, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED}, nil)
	cancelEvents := n.NewEvents()
	if len(cancelEvents) != 10 || cancelEvents[0].GetComputePlan().GetCancelationDate() == nil {
		t.Fatalf("%d cancel events, first %v", len(cancelEvents), cancelEvents[0])
	}
	var page protos.QueryTasksResponse
	n.MustEvaluate("org1", "orchestrator.computetask:QueryTasks", &protos.QueryTasksParam{PageSize: 20,
		Filter: &protos.TaskQueryFilter{ComputePlanKey: plan2, Status: protos.ComputeTaskStatus_STATUS_CANCELED}}, &page)
	if len(page.GetTasks()) != 9 {
		t.Fatalf("%d canceled tasks, want 9", len(page.GetTasks()))
	}
	// The worker cancels its executing task itself.
	n.MustSubmit("org1", "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: first, Action: protos.ComputeTaskAction_TASK_ACTION_CANCELED}, nil)
	n.MustEvaluate("org1", "orchestrator.computeplan:IsPlanRunning", &protos.IsPlanRunningParam{Key: plan2}, &running)
	if running.GetIsRunning() {
		t.Fatal("canceled plan running")
	}
}
