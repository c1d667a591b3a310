package computetask_test

import (
	"sync"
	"testing"

	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo/solotest"
)

// TestConcurrentParentsFinish finishes the parents of aggregate tasks from
// concurrent callers: whatever the interleaving, each aggregate must start
// once, after its last parent, thanks to the conflict check of the
// transactions that read each other's parents.
func TestConcurrentParentsFinish(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	const pairs = 20
	var tasks []*protos.NewComputeTask
	for i := range pairs {
		p1, p2 := tasktest.Key(0x50, 3*i), tasktest.Key(0x50, 3*i+1)
		tasks = append(tasks, b.TrainTask(p1, "org1"), b.TrainTask(p2, "org2"), b.AggTask(tasktest.Key(0x50, 3*i+2), "org1", p1, p2))
	}
	n.Register(tasks...)
	for i := range pairs {
		for j, org := range []string{"org1", "org2"} {
			if err := n.Act(org, tasktest.Key(0x50, 3*i+j), protos.ComputeTaskAction_TASK_ACTION_EXECUTING); err != nil {
				t.Fatal(err)
			}
		}
	}
	n.NewEvents()
	var wg sync.WaitGroup
	errs := make(chan error, 2*pairs)
	for j, org := range []string{"org1", "org2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range pairs {
				errs <- n.Act(org, tasktest.Key(0x50, 3*i+j), protos.ComputeTaskAction_TASK_ACTION_DONE)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	started := map[string]int{}
	for _, ev := range n.NewEvents() {
		if ct := ev.GetComputeTask(); ct.GetStatus() == protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT {
			started[ct.GetKey()]++
		}
	}
	for i := range pairs {
		agg := tasktest.Key(0x50, 3*i+2)
		if s := n.Task(agg).GetStatus(); s != protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT || started[agg] != 1 {
			t.Errorf("aggregate %d: status %v, started %d times", i, s, started[agg])
		}
	}
}
