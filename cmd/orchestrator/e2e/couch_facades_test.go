//go:build couchdb

package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// racer is one backend worker of an organization that sends its calls to
// a preferred facade and fails over to the other one when it is
// unavailable.
type racer struct {
	id    string
	conns []*org // the organization through each facade, preferred first
}

// call runs f through the first facade that answers; after a failover, an
// answer saying that the call's effect is already there (AlreadyExists,
// FailedPrecondition) counts as done: the unavailable facade may have
// committed it.
func (r *racer) call(f func(o *org) error) error {
	var err error
	failedOver := false
	for attempt := 0; attempt < 20; attempt++ {
		o := r.conns[0]
		if failedOver {
			o = r.conns[len(r.conns)-1]
		}
		err = f(o)
		switch status.Code(err) {
		case codes.OK:
			return nil
		case codes.Unavailable:
			failedOver = true
			time.Sleep(20 * time.Millisecond)
			continue
		case codes.AlreadyExists, codes.FailedPrecondition:
			if failedOver {
				return nil
			}
		}
		return err
	}
	return err
}

// TestTwoFacadesCouchDB runs two solo processes on one CouchDB database set,
// with workers of both organizations split over both processes and racing
// for the same tasks of the same plans (EXECUTING, models or performances,
// DONE). One process is killed (SIGKILL) mid-load; the workers fail over to
// the other, which finishes; the killed one restarts and catches up. Every
// task is taken exactly once, no caller sees a conflict, and both processes
// list and stream the same events, each once, in the same order.
func TestTwoFacadesCouchDB(t *testing.T) {
	args := couchStore(t)
	p1, p2 := startProc(t, args...), startProc(t, args...)
	org1, org2 := newOrg(t, p1.addr, "Org1MSP", "mychannel"), newOrg(t, p1.addr, "Org2MSP", "mychannel")
	f := setUpFederation(t, org1, org2)
	const plans, rounds = 3, 2
	var planKeys []string
	total := 0
	for i := range plans {
		pk := key(0xc, 100+i)
		planKeys = append(planKeys, pk)
		total += len(f.plan(t, org1, pk, 1000*(i+1), rounds))
	}

	// Workers: per organization and per facade, several racers.
	const perOrgAndFacade = 4
	addrs := []string{p1.addr, p2.addr}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		taken     = map[string]int{} // task -> successful EXECUTING
		done      atomic.Int64
		errs      []string
		killed    atomic.Bool
		killAfter = int64(total / 3)
	)
	fail := func(format string, a ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, a...))
		mu.Unlock()
	}
	for _, orgID := range []string{"Org1MSP", "Org2MSP"} {
		for fi := range addrs {
			for range perOrgAndFacade {
				// p2 dies: its workers fail over to p1; p1's have no
				// fallback.
				r := &racer{id: orgID, conns: []*org{newOrg(t, addrs[fi], orgID, "mychannel")}}
				if fi == 1 {
					r.conns = append(r.conns, newOrg(t, p1.addr, orgID, "mychannel"))
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					idle := 0
					for done.Load() < int64(total) && idle < 400 {
						ran, err := raceOnce(r, planKeys, taken, &mu, &done)
						if err != "" {
							fail("%s", err)
							return
						}
						if ran == 0 {
							idle++
							time.Sleep(10 * time.Millisecond)
						} else {
							idle = 0
						}
						if done.Load() >= killAfter && killed.CompareAndSwap(false, true) {
							p2.kill()
						}
					}
				}()
			}
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d worker errors, first: %s", len(errs), errs[0])
	}
	if !killed.Load() {
		t.Fatal("the second process was never killed")
	}
	if got := done.Load(); got != int64(total) {
		t.Fatalf("%d of %d tasks done", got, total)
	}
	for task, n := range taken {
		if n != 1 {
			t.Errorf("task %s taken %d times", task, n)
		}
	}
	if len(taken) != total {
		t.Errorf("%d tasks taken, want %d", len(taken), total)
	}

	// The killed process restarts and catches up.
	p2 = startProc(t, args...)
	on2 := newOrg(t, p2.addr, "Org2MSP", "mychannel")
	for _, pk := range planKeys {
		page := must(on2.tasks().QueryTasks(on2.ctx(), &protos.QueryTasksParam{PageSize: 100, Filter: &protos.TaskQueryFilter{ComputePlanKey: pk}}))(t)
		for _, task := range page.GetTasks() {
			if task.GetStatus() != protos.ComputeTaskStatus_STATUS_DONE {
				t.Errorf("restarted process: task %s is %v", task.GetKey(), task.GetStatus())
			}
		}
	}
	ev1, ev2 := ids(allEvents(t, org1)), ids(allEvents(t, on2))
	if strings.Join(ev1, ",") != strings.Join(ev2, ",") {
		t.Fatalf("QueryEvents differ between the processes: %d and %d events", len(ev1), len(ev2))
	}
	seen := map[string]bool{}
	for _, id := range ev1 {
		if seen[id] {
			t.Fatalf("event %s listed twice", id)
		}
		seen[id] = true
	}
	s1, s2 := ids(subscribe(t, org1, "", len(ev1))), ids(subscribe(t, on2, "", len(ev1)))
	// The streams are in commit order, QueryEvents in the ledger's event
	// order: the same events, and each order the same on both processes.
	for i := range s1 {
		if s1[i] != s2[i] {
			t.Fatalf("event %d of %d: stream of the first process %s, of the second %s", i, len(s1), s1[i], s2[i])
		}
	}
	if a, b := slices.Sorted(slices.Values(s1)), slices.Sorted(slices.Values(ev1)); !slices.Equal(a, b) {
		t.Fatal("the event streams hold other events than QueryEvents")
	}
	t.Logf("%d tasks over %d plans by %d workers on 2 processes (one killed after %d tasks, restarted): %d events, the same on both",
		total, plans, 4*perOrgAndFacade, killAfter, len(ev1))
	p1.stop()
	p2.stop()
}

// raceOnce has r look for a task waiting for it in the plans and run it
// (EXECUTING, outputs, DONE) if it wins the EXECUTING race. It returns how
// many tasks it ran, or a description of an unexpected error.
func raceOnce(r *racer, planKeys []string, taken map[string]int, mu *sync.Mutex, done *atomic.Int64) (int, string) {
	var tasks []*protos.ComputeTask
	for _, pk := range planKeys {
		var page *protos.QueryTasksResponse
		err := r.call(func(o *org) error {
			var err error
			page, err = o.tasks().QueryTasks(o.ctx(), &protos.QueryTasksParam{PageSize: 10,
				Filter: &protos.TaskQueryFilter{Worker: r.id, ComputePlanKey: pk, Status: protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT}})
			return err
		})
		if err != nil {
			return 0, fmt.Sprintf("QueryTasks: %v", err)
		}
		tasks = append(tasks, page.GetTasks()...)
	}
	ran := 0
	for _, task := range tasks {
		k := task.GetKey()
		// The race: only one EXECUTING may succeed. A loser is refused
		// as a business error (the task is no longer waiting), never
		// with Aborted (a conflict the server did not resolve).
		var err error
		o := r.conns[0]
		unknown := false
		for attempt := 0; attempt < 20; attempt++ {
			_, err = o.tasks().ApplyTaskAction(o.ctx(), &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING})
			if status.Code(err) != codes.Unavailable {
				break
			}
			// The facade died under the call: its outcome is unknown.
			// Ask the other one.
			o = r.conns[len(r.conns)-1]
			got, gerr := o.tasks().GetTask(o.ctx(), &protos.GetTaskParam{Key: k})
			if gerr != nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if got.GetStatus() != protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT {
				unknown = true
				break
			}
		}
		if unknown {
			// Taken by this call (whose answer was lost) or by a racer
			// that got OK and records it at once: only one EXECUTING can
			// have succeeded, so an unclaimed task is ours.
			time.Sleep(500 * time.Millisecond)
			mu.Lock()
			mine := taken[k] == 0
			if mine {
				taken[k]++
			}
			mu.Unlock()
			if !mine {
				continue
			}
		} else {
			switch status.Code(err) {
			case codes.OK:
			case codes.FailedPrecondition, codes.InvalidArgument:
				continue // lost the race
			default:
				return ran, fmt.Sprintf("EXECUTING %s: %v", k, err)
			}
			mu.Lock()
			taken[k]++
			mu.Unlock()
		}
		for _, id := range slices.Sorted(maps.Keys(task.GetOutputs())) {
			var err error
			if id == "performance" {
				err = r.call(func(o *org) error {
					_, err := o.perfs().RegisterPerformance(o.ctx(), &protos.NewPerformance{ComputeTaskKey: k, ComputeTaskOutputIdentifier: id, PerformanceValue: 0.5})
					return err
				})
			} else {
				err = r.call(func(o *org) error {
					_, err := o.models().RegisterModels(o.ctx(), &protos.RegisterModelsParam{Models: []*protos.NewModel{
						{Key: modelKey(k, 0), ComputeTaskKey: k, ComputeTaskOutputIdentifier: id, Address: addr("model-" + k)}}})
					return err
				})
			}
			if err != nil {
				return ran, fmt.Sprintf("output %s of %s: %v", id, k, err)
			}
		}
		if err := r.call(func(o *org) error {
			_, err := o.tasks().ApplyTaskAction(o.ctx(), &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_DONE})
			return err
		}); err != nil {
			return ran, fmt.Sprintf("DONE %s: %v", k, err)
		}
		done.Add(1)
		ran++
	}
	return ran, ""
}
