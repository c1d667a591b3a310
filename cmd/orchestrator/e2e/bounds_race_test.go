package e2e

import (
	"fmt"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// TestRacingOnOnePlan: 64 clients run the 64 train tasks of one plan at
// once (EXECUTING, RegisterModels, DONE), all feeding one aggregate task,
// so their transactions keep conflicting on the plan and on the aggregate.
// After the server's retries no call failed (no client-visible conflict),
// every task is DONE with its model, the aggregate saw every parent finish
// (no lost update) and the event log holds each change exactly once.
func TestRacingOnOnePlan(t *testing.T) {
	const clients = 64
	p := startProc(t, "--data", t.TempDir())
	owner := newOrg(t, p.addr, "Org1MSP", "mychannel")
	f := setUpFederation(t, owner)
	planKey := key(0x7a, 1)
	must(owner.plans().RegisterPlan(owner.ctx(), &protos.NewComputePlan{Key: planKey, Name: "race"}))(t)
	perms := map[string]*protos.NewComputeTaskOutput{"model": {Permissions: only(owner.id)}}
	agg := &protos.NewComputeTask{Key: key(0x7b, 0), FunctionKey: fnAgg, ComputePlanKey: planKey, Worker: owner.id, Outputs: perms}
	var tasks []*protos.NewComputeTask
	for i := range clients {
		k := key(0x7b, i+1)
		tasks = append(tasks, &protos.NewComputeTask{Key: k, FunctionKey: fnTrain, ComputePlanKey: planKey, Inputs: f.data(owner.id), Outputs: perms})
		agg.Inputs = append(agg.Inputs, parent("models", k, "model"))
	}
	must(owner.tasks().RegisterTasks(owner.ctx(), &protos.RegisterTasksParam{Tasks: append(tasks, agg)}))(t)
	before := lastEventID(t, owner)

	// Each client has its own connection, and all start together.
	start := make(chan struct{})
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for i, task := range tasks {
		c := newOrg(t, p.addr, owner.id, owner.channel)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- runTask(c, task.Key, modelKey(task.Key, i))
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	aborted, failed := 0, 0
	for err := range errs {
		if err != nil {
			failed++
			if status.Code(err) == codes.Aborted {
				aborted++
			}
			t.Error(err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d clients failed (%d with Aborted)", failed, clients, aborted)
	}

	for i, task := range tasks {
		got := must(owner.tasks().GetTask(owner.ctx(), &protos.GetTaskParam{Key: task.Key}))(t)
		if got.GetStatus() != protos.ComputeTaskStatus_STATUS_DONE {
			t.Errorf("task %d is %v, want DONE", i, got.GetStatus())
		}
		models := must(owner.models().GetComputeTaskOutputModels(owner.ctx(), &protos.GetComputeTaskModelsParam{ComputeTaskKey: task.Key}))(t)
		if len(models.GetModels()) != 1 {
			t.Errorf("task %d has %d models, want 1", i, len(models.GetModels()))
		}
	}
	if got := must(owner.tasks().GetTask(owner.ctx(), &protos.GetTaskParam{Key: agg.Key}))(t); got.GetStatus() != protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT {
		t.Fatalf("aggregate is %v after all its parents are DONE: an update was lost", got.GetStatus())
	}
	// The aggregate runs too, on the 64 models.
	in := must(owner.tasks().GetTaskInputAssets(owner.ctx(), &protos.GetTaskInputAssetsParam{ComputeTaskKey: agg.Key}))(t)
	if n := len(in.GetAssets()); n != clients {
		t.Errorf("aggregate has %d input models, want %d", n, clients)
	}
	if err := runTask(owner, agg.Key, modelKey(agg.Key, 0)); err != nil {
		t.Fatal(err)
	}

	// Each change exactly once in the log: per train task one model
	// created and one DONE update, and no event twice.
	evs := eventsAfter(t, owner, before)
	seen := map[string]bool{}
	models, done := map[string]int{}, map[string]int{}
	for _, ev := range evs {
		if seen[ev.GetId()] {
			t.Fatalf("event %s twice", ev.GetId())
		}
		seen[ev.GetId()] = true
		switch {
		case ev.GetModel() != nil && ev.GetEventKind() == protos.EventKind_EVENT_ASSET_CREATED:
			models[ev.GetModel().GetComputeTaskKey()]++
		case ev.GetComputeTask() != nil && ev.GetComputeTask().GetStatus() == protos.ComputeTaskStatus_STATUS_DONE:
			done[ev.GetComputeTask().GetKey()]++
		}
	}
	for i, task := range append(tasks, agg) {
		if models[task.Key] != 1 || done[task.Key] != 1 {
			t.Errorf("task %d: %d model events and %d DONE events, want 1 and 1", i, models[task.Key], done[task.Key])
		}
	}
	p.stop()
	if !t.Failed() {
		report(t, fmt.Sprintf("race (embedded store): %d clients on one plan, %d lifecycle calls, 0 conflicts seen by clients, 0 lost updates, every change once in the event log", clients, 3*clients))
	}
}

// runTask runs one task as o: EXECUTING, its model, DONE.
func runTask(o *org, taskKey, model string) error {
	ctx := o.ctx()
	if _, err := o.tasks().ApplyTaskAction(ctx, &protos.ApplyTaskActionParam{ComputeTaskKey: taskKey, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING}); err != nil {
		return fmt.Errorf("task %s EXECUTING: %w", taskKey, err)
	}
	if _, err := o.models().RegisterModels(ctx, &protos.RegisterModelsParam{Models: []*protos.NewModel{
		{Key: model, ComputeTaskKey: taskKey, ComputeTaskOutputIdentifier: "model", Address: addr("model-" + taskKey)}}}); err != nil {
		return fmt.Errorf("task %s RegisterModels: %w", taskKey, err)
	}
	if _, err := o.tasks().ApplyTaskAction(ctx, &protos.ApplyTaskActionParam{ComputeTaskKey: taskKey, Action: protos.ComputeTaskAction_TASK_ACTION_DONE}); err != nil {
		return fmt.Errorf("task %s DONE: %w", taskKey, err)
	}
	return nil
}
