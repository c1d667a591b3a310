package solobench

import (
	"testing"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// TestWorkload runs each benchmark operation once on the memory store, so
// that a change of the contracts that breaks the benchmarks fails a test.
func TestWorkload(t *testing.T) {
	n := newNet(t, memstore.Opener())
	keys, err := n.plan()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.runTask(keys[0], 0); err != nil {
		t.Fatal(err)
	}
	var task protos.ComputeTask
	if err := n.call(false, algoOrg, "orchestrator.computetask:GetTask", &protos.GetTaskParam{Key: keys[0]}, &task); err != nil {
		t.Fatal(err)
	}
	if task.GetStatus() != protos.ComputeTaskStatus_STATUS_DONE {
		t.Errorf("task %s is %s after EXECUTING, model, DONE; want DONE", keys[0], task.GetStatus())
	}
	if err := n.call(false, algoOrg, "orchestrator.computetask:GetTask", &protos.GetTaskParam{Key: keys[1]}, &task); err != nil {
		t.Fatal(err)
	}
	if task.GetStatus() != protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT {
		t.Errorf("child task %s is %s once its parent is DONE; want WAITING_FOR_EXECUTOR_SLOT", keys[1], task.GetStatus())
	}
}
