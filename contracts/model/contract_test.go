package model_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const (
	registerOne  = "orchestrator.model:RegisterModel"
	registerMany = "orchestrator.model:RegisterModels"
	get          = "orchestrator.model:GetModel"
	ofTask       = "orchestrator.model:GetComputeTaskOutputModels"
)

func newModel(key, task, output string) *protos.NewModel {
	return &protos.NewModel{Key: key, ComputeTaskKey: task, ComputeTaskOutputIdentifier: output, Address: tasktest.Addr("m-" + key)}
}

func taskModels(t *testing.T, n *tasktest.Net, task string) []*protos.Model {
	t.Helper()
	var res protos.GetComputeTaskModelsResponse
	n.MustEvaluate("org2", ofTask, &protos.GetComputeTaskModelsParam{ComputeTaskKey: task}, &res)
	return res.GetModels()
}

func TestRegisterModels(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	train, multi, waiting := tasktest.Key(0x20, 1), tasktest.Key(0x20, 2), tasktest.Key(0x20, 3)
	n.Register(b.TrainTask(train, "org2"), b.MultiTask(multi, "org1"), b.AggTask(waiting, "org1", train))
	if err := n.Act("org2", train, protos.ComputeTaskAction_TASK_ACTION_EXECUTING); err != nil {
		t.Fatal(err)
	}
	if err := n.Act("org1", multi, protos.ComputeTaskAction_TASK_ACTION_EXECUTING); err != nil {
		t.Fatal(err)
	}
	m := func(i int) string { return tasktest.Key(0x21, i) }
	cases := []struct {
		name   string
		org    string
		models []*protos.NewModel
		kind   orcerr.Kind
		task   string
		count  int // models of task afterwards
	}{
		{"not the worker", "org1", []*protos.NewModel{newModel(m(1), train, "model")}, orcerr.PermissionDenied, train, 0},
		{"unknown task", "org2", []*protos.NewModel{newModel(m(1), tasktest.Key(0x20, 9), "model")}, orcerr.NotFound, train, 0},
		{"task not executing", "org1", []*protos.NewModel{newModel(m(1), waiting, "model")}, orcerr.BadRequest, waiting, 0},
		{"no output", "org2", []*protos.NewModel{newModel(m(1), train, "nope")}, orcerr.MissingTaskOutput, train, 0},
		{"performance output", "org1", []*protos.NewModel{newModel(m(1), multi, "perf")}, orcerr.IncompatibleKind, multi, 0},
		{"bad address", "org2", []*protos.NewModel{{Key: m(1), ComputeTaskKey: train, ComputeTaskOutputIdentifier: "model", Address: &protos.Addressable{Checksum: "x", StorageAddress: "http://a/b"}}}, orcerr.InvalidAsset, train, 0},
		{"bad key", "org2", []*protos.NewModel{newModel("nope", train, "model")}, orcerr.InvalidAsset, train, 0},
		{"two tasks", "org2", []*protos.NewModel{newModel(m(1), train, "model"), newModel(m(2), multi, "models")}, orcerr.BadRequest, train, 0},
		{"unique output twice", "org2", []*protos.NewModel{newModel(m(1), train, "model"), newModel(m(2), train, "model")}, orcerr.Conflict, train, 0},
		{"same key twice", "org1", []*protos.NewModel{newModel(m(1), multi, "models"), newModel(m(1), multi, "models")}, orcerr.Conflict, multi, 0},
		{"empty", "org1", nil, orcerr.BadRequest, multi, 0},
		{"one", "org2", []*protos.NewModel{newModel(m(1), train, "model")}, "", train, 1},
		{"unique output again", "org2", []*protos.NewModel{newModel(m(2), train, "model")}, orcerr.Conflict, train, 1},
		{"existing key", "org1", []*protos.NewModel{newModel(m(1), multi, "models")}, orcerr.Conflict, multi, 0},
		{"multiple output", "org1", []*protos.NewModel{newModel(m(3), multi, "models"), newModel(m(4), multi, "models")}, "", multi, 2},
		{"multiple output more", "org1", []*protos.NewModel{newModel(m(5), multi, "models")}, "", multi, 3},
	}
	for _, c := range cases {
		n.NewEvents()
		var res protos.RegisterModelsResponse
		before := n.StateDigest()
		err := n.Submit(c.org, registerMany, &protos.RegisterModelsParam{Models: c.models}, &res)
		if c.kind != "" && n.StateDigest() != before {
			t.Errorf("%s: rejected call changed the state", c.name)
		}
		evs := n.NewEvents()
		if orcerr.KindOf(err) != c.kind {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.kind)
		}
		if got := len(taskModels(t, n, c.task)); got != c.count {
			t.Errorf("%s: task has %d models, want %d", c.name, got, c.count)
		}
		if c.kind != "" {
			if len(evs) != 0 {
				t.Errorf("%s: rejected call emitted %d events", c.name, len(evs))
			}
			continue
		}
		if len(res.GetModels()) != len(c.models) || len(evs) != 2*len(c.models) {
			t.Errorf("%s: %d models answered, %d events", c.name, len(res.GetModels()), len(evs))
			continue
		}
		for i, got := range res.GetModels() {
			var stored protos.Model
			n.MustEvaluate("org1", get, &protos.GetModelParam{Key: got.GetKey()}, &stored)
			if !proto.Equal(&stored, got) || got.GetOwner() != c.org || got.GetPermissions().GetProcess().GetPublic() {
				t.Errorf("%s: stored %v, answered %v", c.name, &stored, got)
			}
			if !proto.Equal(evs[2*i].GetModel(), got) || evs[2*i+1].GetComputeTaskOutputAsset().GetAssetKey() != got.GetKey() {
				t.Errorf("%s: events %v", c.name, evs)
			}
		}
	}
	// The deprecated single form.
	var one protos.Model
	if err := n.Submit("org1", registerOne, newModel(m(6), multi, "models"), &one); err != nil || one.GetKey() != m(6) {
		t.Fatalf("RegisterModel: %v %v", err, &one)
	}
	if err := n.Submit("org1", registerOne, newModel(m(6), multi, "models"), &one); orcerr.KindOf(err) != orcerr.Conflict {
		t.Fatalf("RegisterModel again: %v", err)
	}
	if err := n.Evaluate("org1", get, &protos.GetModelParam{Key: m(99)}, &one); orcerr.KindOf(err) != orcerr.NotFound {
		t.Fatalf("unknown model: %v", err)
	}
}

func TestDisableTransientModels(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	multi, child := tasktest.Key(0x20, 1), tasktest.Key(0x20, 2)
	agg := b.AggTask(child, "org1")
	agg.Inputs = append(agg.Inputs, tasktest.ParentInput("models", multi, "models"))
	n.Register(b.MultiTask(multi, "org2"), agg)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(n.Act("org2", multi, protos.ComputeTaskAction_TASK_ACTION_EXECUTING))
	must(n.Submit("org2", registerMany, &protos.RegisterModelsParam{Models: []*protos.NewModel{
		newModel(tasktest.Key(0x21, 1), multi, "models"), newModel(tasktest.Key(0x21, 2), multi, "models")}}, nil))
	must(n.Submit("org2", "orchestrator.performance:RegisterPerformance", &protos.NewPerformance{ComputeTaskKey: multi, ComputeTaskOutputIdentifier: "perf", PerformanceValue: 1}, nil))
	must(n.Act("org2", multi, protos.ComputeTaskAction_TASK_ACTION_DONE))
	disable := func(org, output string) error {
		return n.Submit(org, "orchestrator.computetask:DisableOutput", &protos.DisableOutputParam{ComputeTaskKey: multi, Identifier: output}, nil)
	}
	if err := disable("org2", "models"); orcerr.KindOf(err) != orcerr.CannotDisableOutput {
		t.Fatalf("child running: %v", err)
	}
	var inputs protos.GetTaskInputAssetsResponse
	n.MustEvaluate("org1", "orchestrator.computetask:GetTaskInputAssets", &protos.GetTaskInputAssetsParam{ComputeTaskKey: child}, &inputs)
	if len(inputs.GetAssets()) != 2 {
		t.Fatalf("child inputs %v", inputs.GetAssets())
	}
	must(n.Act("org1", child, protos.ComputeTaskAction_TASK_ACTION_EXECUTING))
	must(n.Act("org1", child, protos.ComputeTaskAction_TASK_ACTION_FAILED))
	if err := disable("org1", "models"); orcerr.KindOf(err) != orcerr.PermissionDenied {
		t.Fatalf("disable by owner: %v", err)
	}
	if err := disable("org2", "perf"); orcerr.KindOf(err) != orcerr.CannotDisableOutput {
		t.Fatalf("disable kept output: %v", err)
	}
	n.NewEvents()
	must(disable("org2", "models"))
	evs := n.NewEvents()
	if len(evs) != 2 || evs[0].GetEventKind() != protos.EventKind_EVENT_ASSET_DISABLED {
		t.Fatalf("disable events %v", evs)
	}
	for _, m := range taskModels(t, n, multi) {
		if m.GetAddress() != nil {
			t.Errorf("model %s still has an address", m.GetKey())
		}
	}
}
