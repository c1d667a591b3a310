package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/protos"
)

var crashCycles = flag.Int("e2e.crash-cycles", 50, "kill -9 cycles of TestCrashCycles")

// crashBatch is how many tasks one RegisterTasks call of the crash cycles
// registers: the unit that must be there entirely or not at all.
const crashBatch = 5

func TestCrashCycles(t *testing.T) {
	testCrashCycles(t, *crashCycles, "--data", t.TempDir())
}

// testCrashCycles kills the server with SIGKILL cycles times while four
// writers register tasks in batches, restarting it on the same store each
// time, and checks after every restart what a backend relies on:
//   - every acknowledged RegisterTasks is there, all its tasks;
//   - every call, acknowledged or not, is there entirely or not at all;
//   - the event log matches the state: one creation event per stored task,
//     and none for a task that is not stored.
//
// store are the flags that select the store.
func testCrashCycles(t *testing.T, cycles int, store ...string) {
	p := startProc(t, store...)
	o := newOrg(t, p.addr, "Org1MSP", "mychannel")
	plan, in := setUpCrashPlan(t, o)

	var (
		acked    = map[string]bool{} // batch id → acknowledged
		tried    = map[string][]string{}
		nextTask int
		ackedN   int
	)
	for cycle := 0; cycle < cycles; cycle++ {
		var mu sync.Mutex
		progress := make(chan struct{}, 1)
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					mu.Lock()
					id := fmt.Sprintf("b%d", len(tried))
					var tasks []*protos.NewComputeTask
					for range crashBatch {
						nextTask++
						k := key(0xc, nextTask)
						tried[id] = append(tried[id], k)
						tasks = append(tasks, &protos.NewComputeTask{Key: k, FunctionKey: fnTrain, ComputePlanKey: plan, Inputs: in,
							Outputs: map[string]*protos.NewComputeTaskOutput{"model": {Permissions: only(o.id)}}})
					}
					mu.Unlock()
					if _, err := o.tasks().RegisterTasks(o.ctx(), &protos.RegisterTasksParam{Tasks: tasks}); err != nil {
						return // the server is gone: this call's outcome is what the check looks at
					}
					mu.Lock()
					acked[id] = true
					mu.Unlock()
					select {
					case progress <- struct{}{}:
					default:
					}
				}
			}()
		}
		// Kill once this cycle's writes flow: after a varying number of
		// acknowledged calls, so that the kill falls at varying points of
		// the commit path.
		for want := 2 + cycle%7; want > 0; want-- {
			select {
			case <-progress:
			case <-time.After(30 * time.Second):
				t.Fatalf("cycle %d: no write acknowledged in 30 s:\n%s", cycle, p.Log())
			}
		}
		p.kill()
		stop()
		wg.Wait()

		p = startProc(t, store...)
		o = newOrg(t, p.addr, "Org1MSP", "mychannel")
		ackedN = checkCrashCycle(t, o, plan, tried, acked)
		if t.Failed() {
			t.Fatalf("after cycle %d", cycle)
		}
	}
	p.stop()
	figures := fmt.Sprintf("kill -9 cycles (%s): %d cycles, %d RegisterTasks calls of %d tasks tried, %d acknowledged, 0 acknowledged lost, 0 partial, events match the state",
		storeLabel(store), cycles, len(tried), crashBatch, ackedN)
	t.Log(figures)
	report(t, figures)
}

// setUpCrashPlan registers what the tasks of the crash cycles need: the
// organization, a ready training function, a data manager with a sample,
// and a plan. It returns the plan key and the tasks' data inputs.
func setUpCrashPlan(t *testing.T, o *org) (string, []*protos.ComputeTaskInput) {
	t.Helper()
	must(o.organizations().RegisterOrganization(o.ctx(), &protos.RegisterOrganizationParam{Address: "org1:443"}))(t)
	model := protos.AssetKind_ASSET_MODEL
	must(o.functions().RegisterFunction(o.ctx(), &protos.NewFunction{Key: fnTrain, Name: "train",
		Description: addr("desc"), Archive: addr("archive"), NewPermissions: public(),
		Inputs: map[string]*protos.FunctionInput{"opener": {Kind: protos.AssetKind_ASSET_DATA_MANAGER},
			"datasamples": {Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true}},
		Outputs: map[string]*protos.FunctionOutput{"model": {Kind: model}}}))(t)
	for _, a := range []protos.FunctionAction{protos.FunctionAction_FUNCTION_ACTION_BUILDING, protos.FunctionAction_FUNCTION_ACTION_READY} {
		must(o.functions().ApplyFunctionAction(o.ctx(), &protos.ApplyFunctionActionParam{FunctionKey: fnTrain, Action: a}))(t)
	}
	dm, sample := key(0xd, 1), key(0xe, 1)
	must(o.managers().RegisterDataManager(o.ctx(), &protos.NewDataManager{Key: dm, Name: "dm", NewPermissions: public(),
		Description: addr("dm"), Opener: addr("opener"), Type: "csv", LogsPermission: only(o.id)}))(t)
	must(o.samples().RegisterDataSamples(o.ctx(), &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
		{Key: sample, DataManagerKeys: []string{dm}, Checksum: strings.Repeat("cd", 32)}}}))(t)
	plan := key(0xb, 1)
	must(o.plans().RegisterPlan(o.ctx(), &protos.NewComputePlan{Key: plan, Name: "crash cycles"}))(t)
	return plan, []*protos.ComputeTaskInput{
		{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: dm}},
		{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: sample}},
	}
}

// checkCrashCycle checks the state and the event log after a restart (see
// testCrashCycles) and returns how many calls were acknowledged so far.
func checkCrashCycle(t *testing.T, o *org, plan string, tried map[string][]string, acked map[string]bool) int {
	t.Helper()
	stored := map[string]bool{}
	token := ""
	for {
		r := must(o.tasks().QueryTasks(o.ctx(), &protos.QueryTasksParam{PageToken: token, PageSize: 1000,
			Filter: &protos.TaskQueryFilter{ComputePlanKey: plan}}))(t)
		for _, task := range r.GetTasks() {
			stored[task.GetKey()] = true
		}
		if token = r.GetNextPageToken(); token == "" {
			break
		}
	}
	created := map[string]int{}
	for _, e := range allEvents(t, o) {
		if task := e.GetComputeTask(); task != nil && e.GetEventKind() == protos.EventKind_EVENT_ASSET_CREATED {
			created[task.GetKey()]++
			if !stored[task.GetKey()] {
				t.Errorf("creation event of task %s, which is not stored", task.GetKey())
			}
		}
	}
	for k := range stored {
		if created[k] != 1 {
			t.Errorf("stored task %s has %d creation events", k, created[k])
		}
	}
	n := 0
	for id, keys := range tried {
		there := 0
		for _, k := range keys {
			if stored[k] {
				there++
			}
		}
		switch {
		case acked[id] && there != len(keys):
			t.Errorf("acknowledged call %s: %d of its %d tasks are there", id, there, len(keys))
		case there != 0 && there != len(keys):
			t.Errorf("call %s is there in part: %d of %d tasks", id, there, len(keys))
		}
		if acked[id] {
			n++
		}
	}
	return n
}

// storeLabel names the store that the server flags store select.
func storeLabel(store []string) string {
	if len(store) > 0 && store[0] == "--couchdb" {
		return "CouchDB"
	}
	return "embedded store"
}

// report appends a line of figures to the file named by FEDCHAIN_REPORT,
// where .ci/run collects the reliability figures it prints.
func report(t *testing.T, line string) {
	path := os.Getenv("FEDCHAIN_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("report: %v", err)
		return
	}
	defer f.Close()
	if _, err := fmt.Fprintln(f, line); err != nil {
		t.Errorf("report: %v", err)
	}
}
