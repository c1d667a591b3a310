package e2e

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// runID makes this run's keys differ from those of earlier runs against
// the same (external) server.
var runID = fmt.Sprintf("%04x", rand.Uint32()&0xffff)

// key returns a readable UUID made of a kind number, the run id and an
// index.
func key(kind, i int) string {
	return fmt.Sprintf("%08x-%s-4000-8000-%012x", kind, runID, i)
}

func addr(name string) *protos.Addressable {
	return &protos.Addressable{Checksum: strings.Repeat("ab", 32), StorageAddress: "http://storage.test/" + name}
}

func only(ids ...string) *protos.NewPermissions { return &protos.NewPermissions{AuthorizedIds: ids} }

func public() *protos.NewPermissions { return &protos.NewPermissions{Public: true} }

// Function keys of the federation.
var (
	fnTrain = key(0xf, 1)
	fnAgg   = key(0xf, 2)
	fnTest  = key(0xf, 3)
)

// federation is what two organizations register before they run plans.
type federation struct {
	orgs     []*org
	managers map[string]string
	samples  map[string][]string
}

// setUpFederation registers the organizations, three functions (built,
// owned by the first organization), and a data manager with two samples
// per organization, checking what the API returns on the way.
func setUpFederation(t *testing.T, orgs ...*org) *federation {
	t.Helper()
	f := &federation{orgs: orgs, managers: map[string]string{}, samples: map[string][]string{}}
	for _, o := range orgs {
		got, err := o.organizations().RegisterOrganization(o.ctx(), &protos.RegisterOrganizationParam{Address: o.id + ".test:443"})
		switch {
		case status.Code(err) == codes.AlreadyExists && external():
		case err != nil:
			t.Fatal(err)
		case got.GetId() != o.id || got.GetCreationDate() == nil:
			t.Fatalf("registered organization %v", got)
		}
	}
	all := must(orgs[0].organizations().GetAllOrganizations(orgs[0].ctx(), &protos.GetAllOrganizationsParam{}))(t)
	registered := map[string]bool{}
	for _, o := range all.GetOrganizations() {
		registered[o.GetId()] = true
	}
	for _, o := range orgs {
		if !registered[o.id] {
			t.Fatalf("GetAllOrganizations misses %s: %v", o.id, all)
		}
	}
	owner := orgs[0]
	model := protos.AssetKind_ASSET_MODEL
	dm := &protos.FunctionInput{Kind: protos.AssetKind_ASSET_DATA_MANAGER}
	ds := &protos.FunctionInput{Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true}
	functions := []*protos.NewFunction{
		{Key: fnTrain, Name: "train", Inputs: map[string]*protos.FunctionInput{"opener": dm, "datasamples": ds, "models": {Kind: model, Multiple: true, Optional: true}},
			Outputs: map[string]*protos.FunctionOutput{"model": {Kind: model}}},
		{Key: fnAgg, Name: "aggregate", Inputs: map[string]*protos.FunctionInput{"models": {Kind: model, Multiple: true}},
			Outputs: map[string]*protos.FunctionOutput{"model": {Kind: model}}},
		{Key: fnTest, Name: "test", Inputs: map[string]*protos.FunctionInput{"opener": dm, "datasamples": ds, "model": {Kind: model}},
			Outputs: map[string]*protos.FunctionOutput{"performance": {Kind: protos.AssetKind_ASSET_PERFORMANCE}}},
	}
	for _, fn := range functions {
		fn.Description, fn.Archive, fn.NewPermissions = addr("desc"), addr("archive"), public()
		got := must(owner.functions().RegisterFunction(owner.ctx(), fn))(t)
		if got.GetKey() != fn.Key || got.GetOwner() != owner.id || got.GetStatus() != protos.FunctionStatus_FUNCTION_STATUS_WAITING {
			t.Fatalf("registered function %v", got)
		}
		for _, a := range []protos.FunctionAction{protos.FunctionAction_FUNCTION_ACTION_BUILDING, protos.FunctionAction_FUNCTION_ACTION_READY} {
			must(owner.functions().ApplyFunctionAction(owner.ctx(), &protos.ApplyFunctionActionParam{FunctionKey: fn.Key, Action: a}))(t)
		}
	}
	got := must(orgs[len(orgs)-1].functions().GetFunction(orgs[len(orgs)-1].ctx(), &protos.GetFunctionParam{Key: fnTrain}))(t)
	if got.GetStatus() != protos.FunctionStatus_FUNCTION_STATUS_READY || got.GetName() != "train" {
		t.Fatalf("GetFunction: %v", got)
	}
	must(owner.functions().UpdateFunction(owner.ctx(), &protos.UpdateFunctionParam{Key: fnTest, Name: "evaluate", Image: addr("image")}))(t)
	if n := countFunctions(t, owner); n != 3 {
		t.Fatalf("QueryFunctions: %d functions of this run", n)
	}
	for i, o := range orgs {
		mk := key(0xd, i+1)
		f.managers[o.id] = mk
		must(o.managers().RegisterDataManager(o.ctx(), &protos.NewDataManager{Key: mk, Name: "dm-" + o.id, NewPermissions: public(),
			Description: addr("dm"), Opener: addr("opener"), Type: "csv", LogsPermission: only(o.id)}))(t)
		var ns []*protos.NewDataSample
		for j := range 2 {
			k := key(0xe, 10*i+j+1)
			f.samples[o.id] = append(f.samples[o.id], k)
			ns = append(ns, &protos.NewDataSample{Key: k, DataManagerKeys: []string{mk}, Checksum: strings.Repeat("cd", 32)})
		}
		res := must(o.samples().RegisterDataSamples(o.ctx(), &protos.RegisterDataSamplesParam{Samples: ns}))(t)
		if len(res.GetDataSamples()) != 2 {
			t.Fatalf("RegisterDataSamples: %v", res)
		}
		ds := must(o.datasets().GetDataset(o.ctx(), &protos.GetDatasetParam{Key: mk}))(t)
		if ds.GetDataManager().GetKey() != mk || len(ds.GetDataSampleKeys()) != 2 {
			t.Fatalf("GetDataset: %v", ds)
		}
	}
	// A second data manager of the first organization takes its samples too.
	extra := key(0xd, 99)
	must(owner.managers().RegisterDataManager(owner.ctx(), &protos.NewDataManager{Key: extra, Name: "extra", NewPermissions: only(owner.id),
		Description: addr("dm"), Opener: addr("opener"), Type: "csv", LogsPermission: only(owner.id)}))(t)
	must(owner.managers().UpdateDataManager(owner.ctx(), &protos.UpdateDataManagerParam{Key: extra, Name: "renamed"}))(t)
	if dm := must(owner.managers().GetDataManager(owner.ctx(), &protos.GetDataManagerParam{Key: extra}))(t); dm.GetName() != "renamed" {
		t.Fatalf("UpdateDataManager: %v", dm)
	}
	must(owner.samples().UpdateDataSamples(owner.ctx(), &protos.UpdateDataSamplesParam{Keys: f.samples[owner.id], DataManagerKeys: []string{extra}}))(t)
	s := must(owner.samples().GetDataSample(owner.ctx(), &protos.GetDataSampleParam{Key: f.samples[owner.id][0]}))(t)
	if len(s.GetDataManagerKeys()) != 2 {
		t.Fatalf("UpdateDataSamples: %v", s)
	}
	dms := must(owner.managers().QueryDataManagers(owner.ctx(), &protos.QueryDataManagersParam{PageSize: 1000}))(t)
	if n := ours(dms.GetDataManagers(), (*protos.DataManager).GetKey); n != len(orgs)+1 {
		t.Fatalf("QueryDataManagers: %d of this run", n)
	}
	sam := must(owner.samples().QueryDataSamples(owner.ctx(), &protos.QueryDataSamplesParam{PageSize: 1000}))(t)
	if n := ours(sam.GetDataSamples(), (*protos.DataSample).GetKey); n != 2*len(orgs) {
		t.Fatalf("QueryDataSamples: %d samples of this run", n)
	}
	return f
}

// ours counts the assets of this run.
func ours[T any](assets []T, key func(T) string) int {
	n := 0
	for _, a := range assets {
		if strings.Contains(key(a), "-"+runID+"-") {
			n++
		}
	}
	return n
}

// countFunctions walks QueryFunctions, two per page, and counts the
// functions of this run.
func countFunctions(t *testing.T, o *org) int {
	t.Helper()
	n, token := 0, ""
	for {
		page := must(o.functions().QueryFunctions(o.ctx(), &protos.QueryFunctionsParam{PageToken: token, PageSize: 2}))(t)
		n += ours(page.GetFunctions(), (*protos.Function).GetKey)
		if token = page.GetNextPageToken(); token == "" {
			return n
		}
	}
}

func (f *federation) data(orgID string) []*protos.ComputeTaskInput {
	in := []*protos.ComputeTaskInput{{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: f.managers[orgID]}}}
	for _, s := range f.samples[orgID] {
		in = append(in, &protos.ComputeTaskInput{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: s}})
	}
	return in
}

func parent(id, task, output string) *protos.ComputeTaskInput {
	return &protos.ComputeTaskInput{Identifier: id, Ref: &protos.ComputeTaskInput_ParentTaskOutput{
		ParentTaskOutput: &protos.ParentTaskOutputRef{ParentTaskKey: task, OutputIdentifier: output}}}
}

// plan registers a plan of rounds rounds as owner: per round, a train task
// at each organization (from the previous aggregate), an aggregation by
// the owner and a test of the aggregate at each organization. It returns
// the task keys in registration order.
func (f *federation) plan(t *testing.T, owner *org, planKey string, base, rounds int) []string {
	t.Helper()
	must(owner.plans().RegisterPlan(owner.ctx(), &protos.NewComputePlan{Key: planKey, Name: "plan " + planKey[:8], Metadata: map[string]string{"e2e": "yes"}}))(t)
	var ids []string
	for _, o := range f.orgs {
		ids = append(ids, o.id)
	}
	n := base
	next := func() string { n++; return key(0xa, n) }
	agg := ""
	var keys []string
	for range rounds {
		var tasks []*protos.NewComputeTask
		var trains []string
		for _, o := range f.orgs {
			in := f.data(o.id)
			if agg != "" {
				in = append(in, parent("models", agg, "model"))
			}
			k := next()
			trains = append(trains, k)
			tasks = append(tasks, &protos.NewComputeTask{Key: k, FunctionKey: fnTrain, ComputePlanKey: planKey, Inputs: in,
				Outputs: map[string]*protos.NewComputeTaskOutput{"model": {Permissions: only(ids...)}}})
		}
		agg = next()
		at := &protos.NewComputeTask{Key: agg, FunctionKey: fnAgg, ComputePlanKey: planKey, Worker: owner.id,
			Outputs: map[string]*protos.NewComputeTaskOutput{"model": {Permissions: only(ids...)}}}
		for _, tr := range trains {
			at.Inputs = append(at.Inputs, parent("models", tr, "model"))
		}
		tasks = append(tasks, at)
		for _, o := range f.orgs {
			tasks = append(tasks, &protos.NewComputeTask{Key: next(), FunctionKey: fnTest, ComputePlanKey: planKey,
				Inputs:  append(f.data(o.id), parent("model", agg, "model")),
				Outputs: map[string]*protos.NewComputeTaskOutput{"performance": {Permissions: public()}}})
		}
		res := must(owner.tasks().RegisterTasks(owner.ctx(), &protos.RegisterTasksParam{Tasks: tasks}))(t)
		if len(res.GetTasks()) != len(tasks) {
			t.Fatalf("RegisterTasks returned %d tasks, want %d", len(res.GetTasks()), len(tasks))
		}
		for _, task := range tasks {
			keys = append(keys, task.Key)
		}
	}
	return keys
}

// work runs, as organization o, every task waiting for it: EXECUTING,
// reads its inputs, registers its outputs (models, performances) and
// marks it DONE; the task fail instead gets a failure report. It returns
// how many tasks it ran.
func work(t *testing.T, o *org, planKey, fail string) int {
	t.Helper()
	ran := 0
	for {
		page := must(o.tasks().QueryTasks(o.ctx(), &protos.QueryTasksParam{PageSize: 5,
			Filter: &protos.TaskQueryFilter{Worker: o.id, ComputePlanKey: planKey, Status: protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT}}))(t)
		if len(page.GetTasks()) == 0 {
			return ran
		}
		for _, task := range page.GetTasks() {
			k := task.GetKey()
			must(o.tasks().ApplyTaskAction(o.ctx(), &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING}))(t)
			in := must(o.tasks().GetTaskInputAssets(o.ctx(), &protos.GetTaskInputAssetsParam{ComputeTaskKey: k}))(t)
			if len(in.GetAssets()) == 0 {
				t.Fatalf("task %s: no input assets", k)
			}
			must(o.profiling().RegisterProfilingStep(o.ctx(), &protos.ProfilingStep{AssetKey: k, Step: "execution", Duration: 42}))(t)
			if k == fail {
				must(o.failures().RegisterFailureReport(o.ctx(), &protos.NewFailureReport{AssetKey: k, ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION,
					LogsAddress: addr("logs"), AssetType: protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK}))(t)
				continue
			}
			var models []*protos.NewModel
			for _, id := range slices.Sorted(maps.Keys(task.GetOutputs())) {
				if id == "performance" {
					must(o.perfs().RegisterPerformance(o.ctx(), &protos.NewPerformance{ComputeTaskKey: k, ComputeTaskOutputIdentifier: id, PerformanceValue: 0.75}))(t)
					continue
				}
				models = append(models, &protos.NewModel{Key: modelKey(k, len(models)), ComputeTaskKey: k, ComputeTaskOutputIdentifier: id, Address: addr("model-" + k)})
			}
			if len(models) > 0 {
				must(o.models().RegisterModels(o.ctx(), &protos.RegisterModelsParam{Models: models}))(t)
			}
			must(o.tasks().ApplyTaskAction(o.ctx(), &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_DONE}))(t)
			ran++
		}
	}
}

// modelKey derives a model key from its task key.
func modelKey(taskKey string, i int) string {
	return "0000000b-" + runID + "-4000-8000-" + taskKey[26:36] + fmt.Sprintf("%02x", i)
}

// runPlan has every organization work on the plan's tasks until none is
// left to run. It looks only at that plan, so tests sharing one ledger (an
// external server, a Fabric network) do not run each other's tasks.
func runPlan(t *testing.T, f *federation, planKey, fail string) int {
	t.Helper()
	total := 0
	for {
		ran := 0
		for _, o := range f.orgs {
			ran += work(t, o, planKey, fail)
		}
		if ran == 0 {
			return total
		}
		total += ran
	}
}

// testWorkflow drives the whole API as two organizations (Org1MSP through
// addr1, Org2MSP through addr2), and checks the answers and the event log.
func testWorkflow(t *testing.T, addr1, addr2 string) {
	org1, org2 := newOrg(t, addr1, "Org1MSP", "mychannel"), newOrg(t, addr2, "Org2MSP", "mychannel")
	startID := lastEventID(t, org1)
	v := must(org1.info().QueryVersion(org1.ctx(), &protos.QueryVersionParam{}))(t)
	if v.GetOrchestrator() == "" {
		t.Errorf("QueryVersion: %v", v)
	}
	f := setUpFederation(t, org1, org2)

	// A plan that runs to completion.
	plan1 := key(0xc, 1)
	keys := f.plan(t, org1, plan1, 0, 3)
	if got := must(org2.plans().GetPlan(org2.ctx(), &protos.GetComputePlanParam{Key: plan1}))(t); got.GetOwner() != org1.id {
		t.Fatalf("GetPlan: %v", got)
	}
	running := must(org1.plans().IsPlanRunning(org1.ctx(), &protos.IsPlanRunningParam{Key: plan1}))(t)
	if !running.GetIsRunning() {
		t.Fatal("IsPlanRunning before any work: false")
	}
	ran := runPlan(t, f, plan1, "")
	if ran != len(keys) {
		t.Fatalf("ran %d tasks, want %d", ran, len(keys))
	}
	for _, k := range keys {
		task := must(org2.tasks().GetTask(org2.ctx(), &protos.GetTaskParam{Key: k}))(t)
		if task.GetStatus() != protos.ComputeTaskStatus_STATUS_DONE {
			t.Fatalf("task %s is %v", k, task.GetStatus())
		}
	}
	if running := must(org1.plans().IsPlanRunning(org1.ctx(), &protos.IsPlanRunningParam{Key: plan1}))(t); running.GetIsRunning() {
		t.Fatal("IsPlanRunning after the work: true")
	}
	// Models and performances of the first round.
	ms := must(org2.models().GetComputeTaskOutputModels(org2.ctx(), &protos.GetComputeTaskModelsParam{ComputeTaskKey: keys[2]}))(t)
	if len(ms.GetModels()) != 1 {
		t.Fatalf("aggregate models: %v", ms)
	}
	if m := must(org1.models().GetModel(org1.ctx(), &protos.GetModelParam{Key: ms.GetModels()[0].GetKey()}))(t); m.GetComputeTaskKey() != keys[2] {
		t.Fatalf("GetModel: %v", m)
	}
	perfs := must(org1.perfs().QueryPerformances(org1.ctx(), &protos.QueryPerformancesParam{Filter: &protos.PerformanceQueryFilter{ComputeTaskKey: keys[3]}}))(t)
	if len(perfs.GetPerformances()) != 1 || perfs.GetPerformances()[0].GetPerformanceValue() != 0.75 {
		t.Fatalf("QueryPerformances: %v", perfs)
	}
	// Paginated task query by plan: every task exactly once.
	seen := map[string]bool{}
	token := ""
	for {
		page := must(org1.tasks().QueryTasks(org1.ctx(), &protos.QueryTasksParam{PageToken: token, PageSize: 4, Filter: &protos.TaskQueryFilter{ComputePlanKey: plan1}}))(t)
		for _, task := range page.GetTasks() {
			if seen[task.GetKey()] {
				t.Fatalf("task %s on two pages", task.GetKey())
			}
			seen[task.GetKey()] = true
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(seen) != len(keys) {
		t.Fatalf("QueryTasks pages hold %d tasks, want %d", len(seen), len(keys))
	}

	// A plan whose second task fails, and a plan that its owner cancels.
	plan2 := key(0xc, 2)
	keys2 := f.plan(t, org1, plan2, 100, 1)
	runPlan(t, f, plan2, keys2[1])
	fr := must(org1.failures().GetFailureReport(org1.ctx(), &protos.GetFailureReportParam{AssetKey: keys2[1]}))(t)
	if fr.GetOwner() != org2.id {
		t.Fatalf("failure report: %v", fr)
	}
	if p := must(org1.plans().GetPlan(org1.ctx(), &protos.GetComputePlanParam{Key: plan2}))(t); p.GetFailureDate() == nil {
		t.Fatalf("failed plan: %v", p)
	}
	plan3 := key(0xc, 3)
	f.plan(t, org1, plan3, 200, 1)
	_, err := org2.plans().ApplyPlanAction(org2.ctx(), &protos.ApplyPlanActionParam{Key: plan3, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("cancel by a non-owner: %v", err)
	}
	must(org1.plans().ApplyPlanAction(org1.ctx(), &protos.ApplyPlanActionParam{Key: plan3, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED}))(t)
	must(org1.plans().UpdatePlan(org1.ctx(), &protos.UpdateComputePlanParam{Key: plan3, Name: "canceled"}))(t)
	plans := must(org2.plans().QueryPlans(org2.ctx(), &protos.QueryPlansParam{PageSize: 1000}))(t)
	if n := ours(plans.GetPlans(), (*protos.ComputePlan).GetKey); n != 3 {
		t.Fatalf("QueryPlans: %d plans of this run", n)
	}

	// The event log: QueryEvents and a SubscribeToEvents replay agree (this
	// test's calls are sequential: commit order is time order), and hold
	// what happened.
	evs := eventsAfter(t, org1, startID)
	streamed := subscribe(t, org2, startID, len(evs))
	kinds := map[string]int{}
	for i, e := range evs {
		if streamed[i].GetId() != e.GetId() {
			t.Fatalf("event %d: QueryEvents has %s, SubscribeToEvents %s", i, e.GetId(), streamed[i].GetId())
		}
		if e.GetChannel() != "mychannel" {
			t.Fatalf("event %s on channel %q", e.GetId(), e.GetChannel())
		}
		kinds[e.GetEventKind().String()+" "+e.GetAssetKind().String()]++
	}
	if startID != "" {
		kinds["EVENT_ASSET_CREATED ASSET_ORGANIZATION"] = 2 // registered before this run
	}
	for k, want := range map[string]int{
		"EVENT_ASSET_CREATED ASSET_ORGANIZATION":   2,
		"EVENT_ASSET_CREATED ASSET_FUNCTION":       3,
		"EVENT_ASSET_CREATED ASSET_DATA_MANAGER":   3,
		"EVENT_ASSET_UPDATED ASSET_DATA_MANAGER":   1,
		"EVENT_ASSET_CREATED ASSET_DATA_SAMPLE":    4,
		"EVENT_ASSET_CREATED ASSET_COMPUTE_PLAN":   3,
		"EVENT_ASSET_CREATED ASSET_COMPUTE_TASK":   len(keys) + 2*len(keys2),
		"EVENT_ASSET_CREATED ASSET_FAILURE_REPORT": 1,
	} {
		if kinds[k] != want {
			t.Errorf("%d %q events, want %d (all: %v)", kinds[k], k, want, kinds)
		}
	}
}

func TestWorkflow(t *testing.T) {
	addr1, addr2, stop := serverUnderTest(t)
	testWorkflow(t, addr1, addr2)
	stop()
}
