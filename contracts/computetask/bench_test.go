package computetask_test

import (
	"testing"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo/solotest"
)

// registerPlan registers a 1,000-task plan in batches of 100: train tasks
// on org1's and org2's data, every fifth task aggregating the two before.
func registerPlan(b *testing.B, n *tasktest.Net, basic *tasktest.Basic, plan string, base int) {
	n.MustSubmit("org1", "orchestrator.computeplan:RegisterPlan", &protos.NewComputePlan{Key: plan, Name: "bench"}, nil)
	basic.Plan = plan
	for batch := range 10 {
		tasks := make([]*protos.NewComputeTask, 0, 100)
		for i := range 100 {
			idx := base + batch*100 + i
			k := tasktest.Key(0x40, idx)
			switch {
			case i%5 == 4:
				tasks = append(tasks, basic.AggTask(k, "org1", tasktest.Key(0x40, idx-1), tasktest.Key(0x40, idx-2)))
			case i%2 == 0:
				tasks = append(tasks, basic.TrainTask(k, "org1"))
			default:
				tasks = append(tasks, basic.TrainTask(k, "org2"))
			}
		}
		if err := n.Submit("org1", "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: tasks}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegisterTasks registers 1,000-task plans in batches of 100
// through solo on the memory store, contract API included.
func BenchmarkRegisterTasks(b *testing.B) {
	n := tasktest.New(b, solotest.Start, chaincodetest.Once())
	basic := n.NewBasic()
	plans := 0
	for b.Loop() {
		plans++
		registerPlan(b, n, basic, tasktest.Key(0x41, plans), plans*1000)
	}
	b.ReportMetric(float64(plans*1000)/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkQueryTasksPages walks a 1,000-task plan page by page (pages of
// 50) with the plan filter, and with plan and status filters.
func BenchmarkQueryTasksPages(b *testing.B) {
	n := tasktest.New(b, solotest.Start, chaincodetest.Once())
	basic := n.NewBasic()
	plan := tasktest.Key(0x41, 1)
	registerPlan(b, n, basic, plan, 1000)
	pages := 0
	filters := []*protos.TaskQueryFilter{
		{ComputePlanKey: plan},
		{ComputePlanKey: plan, Status: protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT},
	}
	for b.Loop() {
		for _, f := range filters {
			token := ""
			for {
				var res protos.QueryTasksResponse
				n.MustEvaluate("org1", "orchestrator.computetask:QueryTasks", &protos.QueryTasksParam{PageToken: token, PageSize: 50, Filter: f}, &res)
				pages++
				if token = res.GetNextPageToken(); token == "" {
					break
				}
			}
		}
	}
	b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkTaskLifecycle starts and finishes tasks (two ApplyTaskAction
// calls each, the second starting a child) through solo on the memory
// store.
func BenchmarkTaskLifecycle(b *testing.B) {
	n := tasktest.New(b, solotest.Start, chaincodetest.Once())
	basic := n.NewBasic()
	var ready []string
	calls, plans := 0, 0
	for b.Loop() {
		if len(ready) == 0 {
			b.StopTimer()
			plans++
			registerPlan(b, n, basic, tasktest.Key(0x41, plans), plans*1000)
			b.StartTimer()
			var page protos.QueryTasksResponse
			n.MustEvaluate("org1", "orchestrator.computetask:QueryTasks", &protos.QueryTasksParam{PageSize: 100,
				Filter: &protos.TaskQueryFilter{Worker: "org1", Status: protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT}}, &page)
			if len(page.GetTasks()) == 0 {
				b.Fatal("no task left to run")
			}
			for _, t := range page.GetTasks() {
				ready = append(ready, t.GetKey())
			}
		}
		k := ready[0]
		ready = ready[1:]
		for _, a := range []protos.ComputeTaskAction{protos.ComputeTaskAction_TASK_ACTION_EXECUTING, protos.ComputeTaskAction_TASK_ACTION_DONE} {
			if err := n.Act("org1", k, a); err != nil {
				b.Fatal(err)
			}
			calls++
		}
	}
	b.ReportMetric(float64(calls)/b.Elapsed().Seconds(), "calls/s")
}
