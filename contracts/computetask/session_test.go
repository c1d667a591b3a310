package computetask

import (
	"slices"
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

var (
	planKey  = uuid(1, 1)
	plan2Key = uuid(1, 2)
	fTrain   = uuid(2, 1)
	fAgg     = uuid(2, 2)
	fTest    = uuid(2, 3)
	fBuild   = uuid(2, 4)
	fPrivate = uuid(2, 5)
	dm1      = uuid(3, 1)
	dm2      = uuid(3, 2)
	ds1a     = uuid(4, 1)
	ds1b     = uuid(4, 2)
	ds2      = uuid(4, 3)
)

func public() *protos.Permissions {
	return &protos.Permissions{Process: &protos.Permission{Public: true}, Download: &protos.Permission{Public: true}}
}

func only(ids ...string) *protos.Permissions {
	return &protos.Permissions{Process: &protos.Permission{AuthorizedIds: ids}, Download: &protos.Permission{AuthorizedIds: ids}}
}

func in(kind protos.AssetKind, multiple, optional bool) *protos.FunctionInput {
	return &protos.FunctionInput{Kind: kind, Multiple: multiple, Optional: optional}
}

func (h *harness) seed() {
	dmIn := in(protos.AssetKind_ASSET_DATA_MANAGER, false, false)
	dsIn := in(protos.AssetKind_ASSET_DATA_SAMPLE, true, false)
	modelOut := map[string]*protos.FunctionOutput{"model": {Kind: protos.AssetKind_ASSET_MODEL}}
	h.w.functions[fTrain] = &protos.Function{Key: fTrain, Owner: "org1", Permissions: public(), Status: protos.FunctionStatus_FUNCTION_STATUS_READY,
		Inputs:  map[string]*protos.FunctionInput{"opener": dmIn, "datasamples": dsIn, "models": in(protos.AssetKind_ASSET_MODEL, true, true)},
		Outputs: modelOut}
	h.w.functions[fAgg] = &protos.Function{Key: fAgg, Owner: "org1", Permissions: public(), Status: protos.FunctionStatus_FUNCTION_STATUS_READY,
		Inputs:  map[string]*protos.FunctionInput{"models": in(protos.AssetKind_ASSET_MODEL, true, false)},
		Outputs: modelOut}
	h.w.functions[fTest] = &protos.Function{Key: fTest, Owner: "org1", Permissions: public(), Status: protos.FunctionStatus_FUNCTION_STATUS_READY,
		Inputs:  map[string]*protos.FunctionInput{"opener": dmIn, "datasamples": dsIn, "model": in(protos.AssetKind_ASSET_MODEL, false, false)},
		Outputs: map[string]*protos.FunctionOutput{"performance": {Kind: protos.AssetKind_ASSET_PERFORMANCE}}}
	h.w.functions[fBuild] = &protos.Function{Key: fBuild, Owner: "org1", Permissions: public(), Status: protos.FunctionStatus_FUNCTION_STATUS_WAITING,
		Inputs:  map[string]*protos.FunctionInput{"models": in(protos.AssetKind_ASSET_MODEL, true, true)},
		Outputs: modelOut}
	h.w.functions[fPrivate] = &protos.Function{Key: fPrivate, Owner: "org2", Permissions: only("org2"), Status: protos.FunctionStatus_FUNCTION_STATUS_READY,
		Outputs: modelOut}
	h.w.managers[dm1] = &protos.DataManager{Key: dm1, Owner: "org1", Permissions: public(), LogsPermission: &protos.Permission{AuthorizedIds: []string{"org1"}}}
	h.w.managers[dm2] = &protos.DataManager{Key: dm2, Owner: "org2", Permissions: public(), LogsPermission: &protos.Permission{AuthorizedIds: []string{"org2"}}}
	h.w.samples[ds1a] = &protos.DataSample{Key: ds1a, Owner: "org1", DataManagerKeys: []string{dm1}}
	h.w.samples[ds1b] = &protos.DataSample{Key: ds1b, Owner: "org1", DataManagerKeys: []string{dm1}}
	h.w.samples[ds2] = &protos.DataSample{Key: ds2, Owner: "org2", DataManagerKeys: []string{dm2}}
}

func outs(ids ...string) map[string]*protos.NewComputeTaskOutput {
	m := map[string]*protos.NewComputeTaskOutput{}
	for _, id := range ids {
		m[id] = &protos.NewComputeTaskOutput{Permissions: &protos.NewPermissions{Public: true}}
	}
	return m
}

func trainTask(key, plan, dm string, samples []string, parents ...string) *protos.NewComputeTask {
	t := &protos.NewComputeTask{Key: key, FunctionKey: fTrain, ComputePlanKey: plan, Outputs: outs("model"),
		Inputs: []*protos.ComputeTaskInput{assetIn("opener", dm)}}
	for _, s := range samples {
		t.Inputs = append(t.Inputs, assetIn("datasamples", s))
	}
	for _, p := range parents {
		t.Inputs = append(t.Inputs, parentIn("models", p, "model"))
	}
	return t
}

func aggTask(key, plan, worker string, parents ...string) *protos.NewComputeTask {
	t := &protos.NewComputeTask{Key: key, FunctionKey: fAgg, ComputePlanKey: plan, Worker: worker, Outputs: outs("model")}
	for _, p := range parents {
		t.Inputs = append(t.Inputs, parentIn("models", p, "model"))
	}
	return t
}

func testTask(key, plan, dm string, samples []string, parent string) *protos.NewComputeTask {
	t := &protos.NewComputeTask{Key: key, FunctionKey: fTest, ComputePlanKey: plan, Outputs: outs("performance"),
		Inputs: []*protos.ComputeTaskInput{assetIn("opener", dm), parentIn("model", parent, "model")}}
	for _, s := range samples {
		t.Inputs = append(t.Inputs, assetIn("datasamples", s))
	}
	return t
}

func (h *harness) register(owner string, tasks ...*protos.NewComputeTask) ([]*protos.ComputeTask, error) {
	var got []*protos.ComputeTask
	err := h.submit(func(s *Session) (err error) {
		got, err = s.Register(tasks, owner)
		return err
	})
	return got, err
}

// addModel registers a model for a task output as the model contract would.
func (h *harness) addModel(task, key string, pos int) {
	h.t.Helper()
	h.must(h.submit(func(s *Session) error {
		t, err := s.Task(task)
		if err != nil {
			return err
		}
		m := &protos.Model{Key: key, ComputeTaskKey: task, Owner: t.GetWorker(), Permissions: t.GetOutputs()["model"].GetPermissions(),
			Address: &protos.Addressable{Checksum: strings.Repeat("a", 64), StorageAddress: "http://x/" + key}}
		if err := ledger.PutModel(s.stub, m); err != nil {
			return err
		}
		return s.AddOutputAsset(&protos.ComputeTaskOutputAsset{ComputeTaskKey: task, ComputeTaskOutputIdentifier: "model",
			AssetKind: protos.AssetKind_ASSET_MODEL, AssetKey: key}, pos)
	}))
}

var (
	t1, t2, tAgg, tTest = uuid(5, 1), uuid(5, 2), uuid(5, 3), uuid(5, 4)
)

func TestLifecycleTrainAggregateTest(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.plan("org1", planKey)
	// Children first: the batch is ordered by the contract.
	got, err := h.register("org1",
		testTask(tTest, planKey, dm1, []string{ds1a}, tAgg),
		aggTask(tAgg, planKey, "org1", t1, t2),
		trainTask(t1, planKey, dm1, []string{ds1a, ds1b}),
		trainTask(t2, planKey, dm2, []string{ds2}),
	)
	h.must(err)
	var order []string
	for _, task := range got {
		order = append(order, task.GetKey())
	}
	if want := []string{t1, t2, tAgg, tTest}; !slices.Equal(order, want) {
		t.Fatalf("registration order %v, want %v", order, want)
	}
	wantTasks := map[string]struct {
		status protos.ComputeTaskStatus
		rank   int32
		worker string
		logs   []string
	}{
		t1:    {sWExecutor, 0, "org1", []string{"org1"}},
		t2:    {sWExecutor, 0, "org2", []string{"org2"}},
		tAgg:  {sWParents, 1, "org1", []string{"org2", "org1"}},
		tTest: {sWParents, 2, "org1", []string{"org1"}},
	}
	for k, w := range wantTasks {
		task := h.task(k)
		if task.GetStatus() != w.status || task.GetRank() != w.rank || task.GetWorker() != w.worker ||
			!slices.Equal(task.GetLogsPermission().GetAuthorizedIds(), w.logs) || task.GetOwner() != "org1" {
			t.Errorf("task %s = status %v rank %d worker %s logs %v; want %+v", k, task.GetStatus(), task.GetRank(), task.GetWorker(), task.GetLogsPermission().GetAuthorizedIds(), w)
		}
		if !task.GetOutputs()[slices.Collect(mapsKeys(task.GetOutputs()))[0]].GetPermissions().GetProcess().GetPublic() {
			t.Errorf("task %s output not public", k)
		}
	}
	if n := len(h.events); n != 4 {
		t.Fatalf("%d events after registration, want 4", n)
	}
	if want := []string{planKey + "/" + fTrain, planKey + "/" + fAgg, planKey + "/" + fTest}; !slices.Equal(h.w.used, want) {
		t.Errorf("functions recorded in plan: %v, want %v", h.w.used, want)
	}

	// The sender matrix.
	if err := h.action(t1, protos.ComputeTaskAction_TASK_ACTION_EXECUTING, "org2"); !refErr(err, orcerr.PermissionDenied, "only task owner can update it") {
		t.Fatalf("executing by a stranger: %v", err)
	}
	if err := h.action(t1, protos.ComputeTaskAction_TASK_ACTION_DONE, "org1"); !refErr(err, orcerr.IncompatibleTaskStatus, "inappropriate in current state") {
		t.Fatalf("done before executing: %v", err)
	}
	h.must(h.action(t1, protos.ComputeTaskAction_TASK_ACTION_EXECUTING, "org1"))
	h.addModel(t1, uuid(6, 1), 0)
	h.must(h.action(t1, protos.ComputeTaskAction_TASK_ACTION_DONE, "org1"))
	if s := h.status(tAgg); s != sWParents {
		t.Fatalf("aggregate started with one parent done: %v", s)
	}
	h.must(h.action(t2, protos.ComputeTaskAction_TASK_ACTION_EXECUTING, "org2"))
	h.addModel(t2, uuid(6, 2), 0)
	h.must(h.action(t2, protos.ComputeTaskAction_TASK_ACTION_DONE, "org2"))
	if s := h.status(tAgg); s != sWExecutor {
		t.Fatalf("aggregate status %v after both parents done", s)
	}
	if err := h.action(t2, protos.ComputeTaskAction_TASK_ACTION_CANCELED, "org2"); !refErr(err, orcerr.TerminatedComputeTask, "compute task "+t2+" is already terminated") {
		t.Fatalf("cancel a done task: %v", err)
	}

	// Inputs of the aggregate: both parents' models.
	var assets []*protos.ComputeTaskInputAsset
	h.must(h.read(func(s *Session) (err error) {
		assets, err = s.InputAssets(tAgg)
		return err
	}))
	if len(assets) != 2 || assets[0].GetModel().GetKey() != uuid(6, 1) || assets[1].GetModel().GetKey() != uuid(6, 2) {
		t.Fatalf("aggregate input assets %v", assets)
	}
	if err := h.read(func(s *Session) error { _, err := s.InputAssets(tTest); return err }); !refErr(err, orcerr.BadRequest, "Task inputs may not be defined in current task status") {
		t.Fatalf("inputs of a waiting task: %v", err)
	}
	if err := h.read(func(s *Session) error { _, err := s.InputAssets(t1); return err }); !refErr(err, orcerr.BadRequest, "Task inputs may not be defined in current task status") {
		t.Fatalf("inputs of a done task: %v", err)
	}

	h.must(h.action(tAgg, protos.ComputeTaskAction_TASK_ACTION_EXECUTING, "org1"))
	h.addModel(tAgg, uuid(6, 3), 0)
	h.must(h.action(tAgg, protos.ComputeTaskAction_TASK_ACTION_DONE, "org1"))
	if s := h.status(tTest); s != sWExecutor {
		t.Fatalf("test status %v", s)
	}
	h.must(h.read(func(s *Session) error {
		a, err := s.InputAssets(tTest)
		if err == nil && (len(a) != 3 || a[0].GetDataManager().GetKey() != dm1 || a[1].GetModel().GetKey() != uuid(6, 3) || a[2].GetDataSample().GetKey() != ds1a) {
			t.Errorf("test input assets %v", a)
		}
		return err
	}))
	running := func() bool {
		var r bool
		h.must(h.read(func(s *Session) (err error) { r, err = s.PlanRunning(planKey); return err }))
		return r
	}
	if !running() {
		t.Fatal("plan not running")
	}
	h.must(h.action(tTest, protos.ComputeTaskAction_TASK_ACTION_EXECUTING, "org1"))
	// The owner fails the test task: the plan gets its failure date.
	h.must(h.submit(func(s *Session) error { return s.FailFromReport(tTest, "org1") }))
	if s := h.status(tTest); s != sFailed {
		t.Fatalf("test status %v after failure", s)
	}
	if running() {
		t.Fatal("failed plan still running")
	}
	h.must(h.read(func(s *Session) error {
		p, err := s.Plan(planKey)
		if err == nil && p.GetFailureDate() == nil {
			t.Error("plan has no failure date")
		}
		return err
	}))

	// Disabling the transient output: t1's model is not transient.
	if err := h.submit(func(s *Session) error { return s.DisableOutput(t1, "model", "org1") }); orcerr.KindOf(err) != orcerr.CannotDisableOutput {
		t.Fatalf("disable non-transient: %v", err)
	}
	// Events in order: 4 created, then one update per status change.
	var kinds []string
	for _, ev := range h.events {
		kinds = append(kinds, ev.GetEventKind().String()+":"+ev.GetAssetKind().String())
	}
	if h.events[4].GetComputeTask().GetStatus() != sExecuting || h.events[4].GetMetadata()["reason"] != defaultReason {
		t.Errorf("5th event %v", h.events[4])
	}
	if len(h.events) < 15 {
		t.Errorf("events: %v", kinds)
	}
}

func mapsKeys[M ~map[string]V, V any](m M) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestRegisterRejections(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.plan("org1", planKey)
	h.plan("org2", plan2Key)
	done := uuid(7, 1)
	_, err := h.register("org1", trainTask(done, planKey, dm1, []string{ds1a}))
	h.must(err)
	key := uuid(7, 2)
	cases := []struct {
		name  string
		owner string
		tasks []*protos.NewComputeTask
		kind  orcerr.Kind
	}{
		{"empty", "org1", nil, orcerr.BadRequest},
		{"invalid key", "org1", []*protos.NewComputeTask{trainTask("nope", planKey, dm1, nil)}, orcerr.InvalidAsset},
		{"existing", "org1", []*protos.NewComputeTask{trainTask(done, planKey, dm1, nil)}, orcerr.Conflict},
		{"twice", "org1", []*protos.NewComputeTask{trainTask(key, planKey, dm1, nil), trainTask(key, planKey, dm1, nil)}, orcerr.Conflict},
		{"unknown plan", "org1", []*protos.NewComputeTask{trainTask(key, uuid(1, 9), dm1, nil)}, orcerr.NotFound},
		{"foreign plan", "org1", []*protos.NewComputeTask{trainTask(key, plan2Key, dm1, nil)}, orcerr.PermissionDenied},
		{"unknown parent", "org1", []*protos.NewComputeTask{aggTask(key, planKey, "org1", uuid(7, 9))}, orcerr.InvalidAsset},
		{"cycle", "org1", []*protos.NewComputeTask{aggTask(key, planKey, "org1", uuid(7, 3)), aggTask(uuid(7, 3), planKey, "org1", key)}, orcerr.InvalidAsset},
		{"unknown function", "org1", []*protos.NewComputeTask{{Key: key, FunctionKey: uuid(2, 9), ComputePlanKey: planKey, Worker: "org1"}}, orcerr.NotFound},
		{"private function", "org1", []*protos.NewComputeTask{{Key: key, FunctionKey: fPrivate, ComputePlanKey: planKey, Worker: "org1", Outputs: outs("model")}}, orcerr.PermissionDenied},
		{"no worker", "org1", []*protos.NewComputeTask{aggTask(key, planKey, "", done)}, orcerr.BadRequest},
		{"unknown worker", "org1", []*protos.NewComputeTask{aggTask(key, planKey, "org9", done)}, orcerr.NotFound},
		{"worker not data owner", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := trainTask(key, planKey, dm1, []string{ds1a})
			t.Worker = "org2"
			return t
		}()}, orcerr.BadRequest},
		{"sample of other manager", "org1", []*protos.NewComputeTask{trainTask(key, planKey, dm1, []string{ds2})}, orcerr.InvalidAsset},
		{"unknown sample", "org1", []*protos.NewComputeTask{trainTask(key, planKey, dm1, []string{uuid(4, 9)})}, orcerr.NotFound},
		{"missing input", "org1", []*protos.NewComputeTask{aggTask(key, planKey, "org1")}, orcerr.InvalidAsset},
		{"unknown input", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := aggTask(key, planKey, "org1", done)
			t.Inputs = append(t.Inputs, assetIn("bogus", dm1))
			return t
		}()}, orcerr.InvalidAsset},
		{"two managers", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := trainTask(key, planKey, dm1, []string{ds1a})
			t.Inputs = append(t.Inputs, assetIn("opener", dm1))
			return t
		}()}, orcerr.InvalidAsset},
		{"missing output", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := aggTask(key, planKey, "org1", done)
			t.Outputs = nil
			return t
		}()}, orcerr.InvalidAsset},
		{"extra output", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := aggTask(key, planKey, "org1", done)
			t.Outputs = outs("model", "other")
			return t
		}()}, orcerr.InvalidAsset},
		{"private performance", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := testTask(key, planKey, dm1, []string{ds1a}, done)
			t.Outputs["performance"].Permissions.Public = false
			return t
		}()}, orcerr.InvalidAsset},
		{"transient performance", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := testTask(key, planKey, dm1, []string{ds1a}, done)
			t.Outputs["performance"].Transient = true
			return t
		}()}, orcerr.InvalidAsset},
		{"unknown org in permissions", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := aggTask(key, planKey, "org1", done)
			t.Outputs["model"].Permissions = &protos.NewPermissions{AuthorizedIds: []string{"org9"}}
			return t
		}()}, orcerr.BadRequest},
		{"parent output unknown", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := aggTask(key, planKey, "org1")
			t.Inputs = append(t.Inputs, parentIn("models", done, "nope"))
			return t
		}()}, orcerr.InvalidAsset},
		{"parent output kind", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := testTask(key, planKey, dm1, []string{ds1a}, done)
			t.Inputs[0] = parentIn("opener", done, "model")
			return t
		}()}, orcerr.InvalidAsset},
		{"model by key unknown", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			t := aggTask(key, planKey, "org1")
			t.Inputs = append(t.Inputs, assetIn("models", uuid(6, 9)))
			return t
		}()}, orcerr.NotFound},
	}
	for _, c := range cases {
		before := len(h.events)
		_, err := h.register(c.owner, c.tasks...)
		if orcerr.KindOf(err) != c.kind {
			t.Errorf("%s: err = %v, want kind %s", c.name, err, c.kind)
		}
		if len(h.events) != before {
			t.Errorf("%s: a rejected registration emitted events", c.name)
		}
		if err := h.read(func(s *Session) error { _, err := s.Task(key); return err }); orcerr.KindOf(err) != orcerr.NotFound {
			t.Errorf("%s: rejected task was stored (%v)", c.name, err)
		}
	}
}

func TestCancelPlanAndFunctionPropagation(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.plan("org1", planKey)
	a, b, c, d := uuid(8, 1), uuid(8, 2), uuid(8, 3), uuid(8, 4)
	_, err := h.register("org1",
		trainTask(a, planKey, dm1, []string{ds1a}),
		&protos.NewComputeTask{Key: b, FunctionKey: fBuild, ComputePlanKey: planKey, Worker: "org1", Outputs: outs("model"),
			Inputs: []*protos.ComputeTaskInput{parentIn("models", a, "model")}},
		&protos.NewComputeTask{Key: c, FunctionKey: fBuild, ComputePlanKey: planKey, Worker: "org2", Outputs: outs("model")},
		aggTask(d, planKey, "org1", a),
	)
	h.must(err)
	if s := h.status(b); s != sWBuilder {
		t.Fatalf("task of an unbuilt function: %v", s)
	}
	propagate := func(st protos.FunctionStatus) {
		h.t.Helper()
		h.w.functions[fBuild].Status = st
		h.must(h.submit(func(s *Session) error { return s.PropagateFunctionStatus(fBuild, st, "") }))
	}
	propagate(protos.FunctionStatus_FUNCTION_STATUS_BUILDING)
	if h.status(b) != sBuilding || h.status(c) != sBuilding {
		t.Fatalf("build started: %v %v", h.status(b), h.status(c))
	}
	propagate(protos.FunctionStatus_FUNCTION_STATUS_READY)
	if h.status(b) != sWParents || h.status(c) != sWExecutor {
		t.Fatalf("build finished: %v %v", h.status(b), h.status(c))
	}
	propagate(protos.FunctionStatus_FUNCTION_STATUS_WAITING) // no task effect
	h.must(h.action(a, protos.ComputeTaskAction_TASK_ACTION_EXECUTING, "org1"))

	if err := h.submit(func(s *Session) error { return s.CancelPlan(planKey, "org2") }); !refErr(err, orcerr.PermissionDenied, "only plan owner can act on it") {
		t.Fatalf("cancel by stranger: %v", err)
	}
	h.must(h.submit(func(s *Session) error { return s.CancelPlan(planKey, "org1") }))
	want := map[string]protos.ComputeTaskStatus{a: sExecuting, b: sCanceled, c: sCanceled, d: sCanceled}
	for k, w := range want {
		if s := h.status(k); s != w {
			t.Errorf("after cancel %s is %v, want %v", k, s, w)
		}
	}
	if err := h.submit(func(s *Session) error { return s.CancelPlan(planKey, "org1") }); !refErr(err, orcerr.TerminatedComputePlan, "compute plan "+planKey+" is already terminated") {
		t.Fatalf("cancel twice: %v", err)
	}
	// The executing task may still finish; a failure no longer marks the
	// canceled plan.
	h.must(h.action(a, protos.ComputeTaskAction_TASK_ACTION_FAILED, "org1"))
	h.must(h.read(func(s *Session) error {
		p, err := s.Plan(planKey)
		if err == nil && (p.GetFailureDate() != nil || p.GetCancelationDate() == nil) {
			t.Errorf("plan dates %v %v", p.GetCancelationDate(), p.GetFailureDate())
		}
		return err
	}))
	var counts map[protos.ComputeTaskStatus]int
	h.must(h.read(func(s *Session) (err error) { counts, err = ledger.CountPlanTasks(s.stub, planKey); return err }))
	if counts[sCanceled] != 3 || counts[sFailed] != 1 || len(counts) != 2 {
		t.Errorf("plan task counts %v", counts)
	}
	// A new task whose parent failed is born canceled.
	e := uuid(8, 5)
	h.plan("org1", plan2Key)
	_, err = h.register("org1", aggTask(e, plan2Key, "org1", a))
	h.must(err)
	if s := h.status(e); s != sCanceled {
		t.Errorf("child of a failed parent: %v", s)
	}
}

func TestFunctionFailurePropagates(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.plan("org1", planKey)
	b := uuid(9, 1)
	_, err := h.register("org1", &protos.NewComputeTask{Key: b, FunctionKey: fBuild, ComputePlanKey: planKey, Worker: "org1", Outputs: outs("model")})
	h.must(err)
	h.w.functions[fBuild].Status = protos.FunctionStatus_FUNCTION_STATUS_BUILDING
	h.must(h.submit(func(s *Session) error {
		return s.PropagateFunctionStatus(fBuild, protos.FunctionStatus_FUNCTION_STATUS_BUILDING, "")
	}))
	h.must(h.submit(func(s *Session) error {
		return s.PropagateFunctionStatus(fBuild, protos.FunctionStatus_FUNCTION_STATUS_FAILED, "build failed")
	}))
	if s := h.status(b); s != sFailed {
		t.Fatalf("task of failed function: %v", s)
	}
	last := h.events[len(h.events)-1]
	if last.GetMetadata()["reason"] != "build failed" {
		t.Errorf("last event %v", last)
	}
	h.must(h.read(func(s *Session) error {
		p, err := s.Plan(planKey)
		if err == nil && p.GetFailureDate() == nil {
			t.Error("plan not failed")
		}
		return err
	}))
}

func TestDisableOutput(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.plan("org1", planKey)
	a, b := uuid(10, 1), uuid(10, 2)
	ta := trainTask(a, planKey, dm1, []string{ds1a})
	ta.Outputs["model"].Transient = true
	_, err := h.register("org1", ta, aggTask(b, planKey, "org2", a))
	h.must(err)
	disable := func(who string) error {
		return h.submit(func(s *Session) error { return s.DisableOutput(a, "model", who) })
	}
	if err := disable("org1"); !refErr(err, orcerr.CannotDisableOutput, "cannot disable asset: task not in final state") {
		t.Fatalf("disable before done: %v", err)
	}
	if err := disable("org2"); !refErr(err, orcerr.PermissionDenied, "only the worker can disable a task output") {
		t.Fatalf("disable by non-worker: %v", err)
	}
	h.must(h.action(a, protos.ComputeTaskAction_TASK_ACTION_EXECUTING, "org1"))
	h.must(h.action(a, protos.ComputeTaskAction_TASK_ACTION_DONE, "org1"))
	if err := disable("org1"); !refErr(err, orcerr.CannotDisableOutput, "there is no output asset with identifier model for task "+a) {
		t.Fatalf("disable without assets: %v", err)
	}
	h.addModel(a, uuid(6, 5), 0)
	if err := disable("org1"); !refErr(err, orcerr.CannotDisableOutput, "cannot disable asset: child not in final state") {
		t.Fatalf("disable with running child: %v", err)
	}
	if err := h.submit(func(s *Session) error { return s.DisableOutput(a, "nope", "org1") }); !refErr(err, orcerr.CannotDisableOutput, "there is no output identifier nope for task "+a) {
		t.Fatalf("disable unknown output: %v", err)
	}
	h.must(h.action(b, protos.ComputeTaskAction_TASK_ACTION_EXECUTING, "org2"))
	h.must(h.action(b, protos.ComputeTaskAction_TASK_ACTION_DONE, "org2"))
	h.must(disable("org1"))
	last := h.events[len(h.events)-1]
	if last.GetEventKind() != protos.EventKind_EVENT_ASSET_DISABLED || last.GetModel().GetAddress() != nil {
		t.Fatalf("last event %v", last)
	}
	// A task reading a disabled model cannot be registered.
	if _, err := h.register("org1", aggTask(uuid(10, 3), planKey, "org1", a)); !refErr(err, orcerr.InvalidAsset, "has been disabled") {
		t.Fatalf("child of disabled model: %v", err)
	}
}

func TestQueryTasksPages(t *testing.T) {
	h := newHarness(t)
	h.seed()
	h.plan("org1", planKey)
	h.plan("org1", plan2Key)
	var batch []*protos.NewComputeTask
	for i := range 25 {
		batch = append(batch, aggTask(uuid(11, 100-i), planKey, []string{"org1", "org2"}[i%2], uuid(11, 200)))
	}
	batch = append(batch, trainTask(uuid(11, 200), planKey, dm1, []string{ds1a}))
	_, err := h.register("org1", batch...)
	h.must(err)
	_, err = h.register("org1", aggTask(uuid(11, 1), plan2Key, "org2", uuid(11, 200)))
	h.must(err)

	walk := func(f *protos.TaskQueryFilter, size uint32) (keys []string, pages int) {
		token := ""
		for {
			var tasks []*protos.ComputeTask
			h.must(h.read(func(s *Session) (err error) {
				tasks, token, err = ledger.QueryComputeTasks(s.stub, f, token, size)
				return err
			}))
			pages++
			for _, t := range tasks {
				keys = append(keys, t.GetKey())
			}
			if token == "" {
				return keys, pages
			}
		}
	}
	cases := []struct {
		name  string
		f     *protos.TaskQueryFilter
		size  uint32
		count int
		pages int
	}{
		{"all", nil, 10, 27, 3},
		{"default size", nil, 0, 27, 1},
		{"plan", &protos.TaskQueryFilter{ComputePlanKey: planKey}, 5, 26, 6},
		{"plan status", &protos.TaskQueryFilter{ComputePlanKey: planKey, Status: sWParents}, 25, 25, 1},
		{"plan worker (in memory)", &protos.TaskQueryFilter{ComputePlanKey: planKey, Worker: "org2"}, 4, 12, 3},
		{"worker status", &protos.TaskQueryFilter{Worker: "org2", Status: sWParents}, 100, 13, 1},
		{"worker", &protos.TaskQueryFilter{Worker: "org1"}, 7, 14, 2},
		{"function", &protos.TaskQueryFilter{FunctionKey: fTrain}, 1, 1, 1},
		{"function status", &protos.TaskQueryFilter{FunctionKey: fAgg, Status: sWParents}, 13, 26, 2},
		{"status", &protos.TaskQueryFilter{Status: sWExecutor}, 1, 1, 1},
		{"nothing", &protos.TaskQueryFilter{Status: sDone}, 1, 0, 1},
	}
	for _, c := range cases {
		keys, pages := walk(c.f, c.size)
		if len(keys) != c.count || pages != c.pages {
			t.Errorf("%s: %d tasks in %d pages, want %d in %d", c.name, len(keys), pages, c.count, c.pages)
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("%s: %s listed twice", c.name, k)
			}
			seen[k] = true
		}
	}
	// Creation order, then key order within a batch.
	keys, _ := walk(nil, 100)
	if keys[len(keys)-1] != uuid(11, 1) || !slices.IsSorted(keys[:26]) {
		t.Errorf("order: %v", keys)
	}
	if err := h.read(func(s *Session) error {
		_, _, err := ledger.QueryComputeTasks(s.stub, nil, "!!!", 1)
		return err
	}); orcerr.KindOf(err) != orcerr.BadRequest {
		t.Errorf("bad token: %v", err)
	}
}
