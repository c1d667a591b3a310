package computetask_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const (
	registerTasks = "orchestrator.computetask:RegisterTasks"
	applyAction   = "orchestrator.computetask:ApplyTaskAction"
)

func TestRegisterTasksThroughChaincode(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	train, agg := tasktest.Key(0x30, 1), tasktest.Key(0x30, 2)
	cases := []struct {
		name  string
		org   string
		tasks []*protos.NewComputeTask
		kind  orcerr.Kind
	}{
		{"not the plan owner", "org2", []*protos.NewComputeTask{b.TrainTask(train, "org2")}, orcerr.PermissionDenied},
		{"unknown organization", "org1", []*protos.NewComputeTask{b.AggTask(agg, "org3", train), b.TrainTask(train, "org1")}, orcerr.NotFound},
		{"sample of another manager", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			nt := b.TrainTask(train, "org1")
			nt.Inputs = append(nt.Inputs, tasktest.AssetInput("datasamples", b.Samples["org2"][0]))
			return nt
		}()}, orcerr.InvalidAsset},
		{"unknown sample", "org1", []*protos.NewComputeTask{func() *protos.NewComputeTask {
			nt := b.TrainTask(train, "org1")
			nt.Inputs = append(nt.Inputs, tasktest.AssetInput("datasamples", tasktest.Key(0x13, 99)))
			return nt
		}()}, orcerr.NotFound},
		{"ok, children first", "org1", []*protos.NewComputeTask{b.AggTask(agg, "org2", train), b.TrainTask(train, "org1")}, ""},
		{"again", "org1", []*protos.NewComputeTask{b.TrainTask(train, "org1")}, orcerr.Conflict},
	}
	for _, c := range cases {
		n.NewEvents()
		var res protos.RegisterTasksResponse
		before := n.StateDigest()
		err := n.Submit(c.org, registerTasks, &protos.RegisterTasksParam{Tasks: c.tasks}, &res)
		if c.kind != "" && n.StateDigest() != before {
			t.Errorf("%s: rejected call changed the state", c.name)
		}
		evs := n.NewEvents()
		if orcerr.KindOf(err) != c.kind {
			t.Fatalf("%s: err = %v, want %q", c.name, err, c.kind)
		}
		if c.kind != "" {
			if len(evs) != 0 {
				t.Errorf("%s: rejected call emitted events", c.name)
			}
			if c.kind != orcerr.Conflict {
				if err := n.Evaluate("org1", "orchestrator.computetask:GetTask", &protos.GetTaskParam{Key: train}, nil); orcerr.KindOf(err) != orcerr.NotFound {
					t.Errorf("%s: rejected task stored: %v", c.name, err)
				}
			}
			continue
		}
		if len(res.GetTasks()) != 2 || res.GetTasks()[0].GetKey() != train || len(evs) != 2 {
			t.Fatalf("%s: answer %v, %d events", c.name, res.GetTasks(), len(evs))
		}
		for i, task := range res.GetTasks() {
			if stored := n.Task(task.GetKey()); !proto.Equal(stored, task) || !proto.Equal(evs[i].GetComputeTask(), task) {
				t.Errorf("%s: stored %v, answered %v, event %v", c.name, stored, task, evs[i])
			}
		}
	}
	// The plan lists the functions its tasks use.
	var fns protos.QueryFunctionsResponse
	n.MustEvaluate("org2", "orchestrator.function:QueryFunctions", &protos.QueryFunctionsParam{Filter: &protos.FunctionQueryFilter{ComputePlanKey: b.Plan}}, &fns)
	if len(fns.GetFunctions()) != 2 {
		t.Errorf("plan functions: %v", fns.GetFunctions())
	}
}

func TestApplyTaskActionThroughChaincode(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	train, agg := tasktest.Key(0x30, 1), tasktest.Key(0x30, 2)
	n.Register(b.TrainTask(train, "org2"), b.AggTask(agg, "org1", train))
	const (
		exec   = protos.ComputeTaskAction_TASK_ACTION_EXECUTING
		done   = protos.ComputeTaskAction_TASK_ACTION_DONE
		cancel = protos.ComputeTaskAction_TASK_ACTION_CANCELED
		build  = protos.ComputeTaskAction_TASK_ACTION_BUILD_STARTED
	)
	cases := []struct {
		name   string
		org    string
		task   string
		action protos.ComputeTaskAction
		kind   orcerr.Kind
		status protos.ComputeTaskStatus // of task afterwards
	}{
		{"owner starts", "org1", train, exec, orcerr.PermissionDenied, protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT},
		{"stranger cancels", "org3", train, cancel, orcerr.PermissionDenied, protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT},
		{"build by anyone", "org2", train, build, orcerr.PermissionDenied, protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT},
		{"unknown task", "org2", tasktest.Key(0x30, 9), exec, orcerr.NotFound, 0},
		{"worker finishes early", "org2", train, done, orcerr.IncompatibleTaskStatus, protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT},
		{"child starts early", "org1", agg, exec, orcerr.IncompatibleTaskStatus, protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS},
		{"worker starts", "org2", train, exec, "", protos.ComputeTaskStatus_STATUS_EXECUTING},
		{"worker finishes", "org2", train, done, "", protos.ComputeTaskStatus_STATUS_DONE},
		{"owner cancels done", "org1", train, cancel, orcerr.TerminatedComputeTask, protos.ComputeTaskStatus_STATUS_DONE},
		{"owner cancels child", "org1", agg, cancel, "", protos.ComputeTaskStatus_STATUS_CANCELED},
	}
	for _, c := range cases {
		n.NewEvents()
		before := n.StateDigest()
		err := n.Act(c.org, c.task, c.action)
		if c.kind != "" && n.StateDigest() != before {
			t.Errorf("%s: rejected call changed the state", c.name)
		}
		evs := n.NewEvents()
		if orcerr.KindOf(err) != c.kind {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.kind)
		}
		if c.kind != "" && len(evs) != 0 {
			t.Errorf("%s: rejected call emitted events", c.name)
		}
		if c.status != 0 {
			if s := n.Task(c.task).GetStatus(); s != c.status {
				t.Errorf("%s: status %v, want %v", c.name, s, c.status)
			}
		}
	}
	if s := n.Task(agg).GetStatus(); s != protos.ComputeTaskStatus_STATUS_CANCELED {
		t.Errorf("aggregate %v", s)
	}
	var inputs protos.GetTaskInputAssetsResponse
	if err := n.Evaluate("org1", "orchestrator.computetask:GetTaskInputAssets", &protos.GetTaskInputAssetsParam{ComputeTaskKey: agg}, &inputs); orcerr.KindOf(err) != orcerr.BadRequest {
		t.Errorf("inputs of a canceled task: %v", err)
	}
	if err := n.Submit("org2", "orchestrator.computetask:DisableOutput", &protos.DisableOutputParam{ComputeTaskKey: train, Identifier: "model"}, nil); orcerr.KindOf(err) != orcerr.CannotDisableOutput {
		t.Errorf("disable a kept output: %v", err)
	}
	var page protos.QueryTasksResponse
	n.MustEvaluate("org3", "orchestrator.computetask:QueryTasks", &protos.QueryTasksParam{Filter: &protos.TaskQueryFilter{Worker: "org2"}}, &page)
	if len(page.GetTasks()) != 1 || page.GetTasks()[0].GetKey() != train || page.GetNextPageToken() != "" {
		t.Errorf("tasks of org2: %v", page.GetTasks())
	}
}

func TestFunctionBuildDrivesTasks(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	fn := tasktest.Key(0x11, 9)
	n.Function("org1", fn, false, map[string]*protos.FunctionInput{"models": tasktest.Input(protos.AssetKind_ASSET_MODEL, true, true)},
		map[string]*protos.FunctionOutput{"model": tasktest.Output(protos.AssetKind_ASSET_MODEL, false)})
	task := b.AggTask(tasktest.Key(0x30, 1), "org2")
	task.FunctionKey = fn
	n.Register(task)
	steps := []struct {
		action protos.FunctionAction
		want   protos.ComputeTaskStatus
	}{
		{protos.FunctionAction_FUNCTION_ACTION_UNKNOWN, protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT},
		{protos.FunctionAction_FUNCTION_ACTION_BUILDING, protos.ComputeTaskStatus_STATUS_BUILDING},
		{protos.FunctionAction_FUNCTION_ACTION_READY, protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT},
	}
	for _, s := range steps {
		if s.action != protos.FunctionAction_FUNCTION_ACTION_UNKNOWN {
			n.FunctionAction("org1", fn, s.action)
		}
		if got := n.Task(task.GetKey()).GetStatus(); got != s.want {
			t.Fatalf("after %v: %v, want %v", s.action, got, s.want)
		}
	}
}
