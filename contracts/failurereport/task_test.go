package failurereport_test

import (
	"maps"
	"testing"

	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

func TestComputeTaskFailureReport(t *testing.T) {
	tests := []struct {
		name      string
		executing bool
		caller    string
		want      orcerr.Kind
	}{
		{name: "worker reports", executing: true, caller: "org1"},
		{name: "not the worker", executing: true, caller: "org2", want: orcerr.PermissionDenied},
		{name: "not executing", caller: "org1", want: orcerr.BadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tasktest.New(t, solotest.Start)
			b := n.NewBasic()
			task := tasktest.Key(0x20, 1)
			n.Register(b.TrainTask(task, "org1"))
			if tt.executing {
				if err := n.Act("org1", task, protos.ComputeTaskAction_TASK_ACTION_EXECUTING); err != nil {
					t.Fatal(err)
				}
			}
			req := &protos.NewFailureReport{AssetKey: task, AssetType: protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK,
				ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION, LogsAddress: tasktest.Addr("logs")}
			before := n.State()
			got := new(protos.FailureReport)
			err := n.Submit(tt.caller, register, req, got)
			if k := orcerr.KindOf(err); k != tt.want {
				t.Fatalf("error %v, want kind %q", err, tt.want)
			}
			if tt.want != "" {
				if !maps.Equal(before, n.State()) {
					t.Error("a rejected report changed the state")
				}
				return
			}
			if got.GetOwner() != "org1" || got.GetAssetKey() != task {
				t.Errorf("report %v", got)
			}
			if st := n.Task(task).GetStatus(); st != protos.ComputeTaskStatus_STATUS_FAILED {
				t.Errorf("task status %v, want FAILED", st)
			}
			stored := new(protos.FailureReport)
			n.MustEvaluate("org2", get, &protos.GetFailureReportParam{AssetKey: task}, stored)
			if stored.GetLogsAddress().GetChecksum() != req.GetLogsAddress().GetChecksum() {
				t.Errorf("stored %v", stored)
			}
		})
	}
}

func TestFunctionFailureFailsBuildingTasks(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	fn := tasktest.Key(0x11, 9)
	n.Function("org1", fn, false, map[string]*protos.FunctionInput{
		"opener":      tasktest.Input(protos.AssetKind_ASSET_DATA_MANAGER, false, false),
		"datasamples": tasktest.Input(protos.AssetKind_ASSET_DATA_SAMPLE, true, false),
	}, map[string]*protos.FunctionOutput{"model": tasktest.Output(protos.AssetKind_ASSET_MODEL, false)})
	task := tasktest.Key(0x20, 1)
	nt := b.TrainTask(task, "org1")
	nt.FunctionKey = fn
	n.Register(nt)
	n.FunctionAction("org1", fn, protos.FunctionAction_FUNCTION_ACTION_BUILDING)
	if st := n.Task(task).GetStatus(); st != protos.ComputeTaskStatus_STATUS_BUILDING {
		t.Fatalf("task %v after the build started, want BUILDING", st)
	}
	n.MustSubmit("org1", register, &protos.NewFailureReport{AssetKey: fn, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION,
		ErrorType: protos.ErrorType_ERROR_TYPE_BUILD, LogsAddress: tasktest.Addr("logs")}, nil)
	if st := n.Task(task).GetStatus(); st != protos.ComputeTaskStatus_STATUS_FAILED {
		t.Errorf("task %v after the build failed, want FAILED", st)
	}
}
