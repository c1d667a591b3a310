package computetask_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo/solotest"
)

// fuzzer turns bytes into a sequence of requests against a Basic
// federation. Each request reads its choices from the bytes in order; the
// seed encoders below (op, train, ...) write bytes in that same order.
type fuzzer struct {
	n     *tasktest.Net
	b     *tasktest.Basic
	data  []byte
	tasks []string
	next  int
}

func (f *fuzzer) byte() byte {
	if len(f.data) == 0 {
		return 0
	}
	c := f.data[0]
	f.data = f.data[1:]
	return c
}

// fuzzOrgs are the callers: the two organizations of Basic and one that is
// not registered.
var fuzzOrgs = []string{"org1", "org2", "org3"}

func (f *fuzzer) org() string { return fuzzOrgs[int(f.byte())%len(fuzzOrgs)] }

// task picks a known task, or now and then an unknown key.
func (f *fuzzer) task() string {
	c := f.byte()
	if len(f.tasks) == 0 || c%11 == 10 {
		return tasktest.Key(0x70, int(c))
	}
	return f.tasks[int(c)%len(f.tasks)]
}

// The operations of fuzzer.step, by the value of their byte modulo fuzzOps.
const (
	opRegisterTasks = iota
	opTaskAction
	opRegisterModel
	opRegisterPerformance
	opDisableOutput
	opFailureReport
	opPlanAction
	opProfilingStep
	opUpdatePlan
	opRegisterSample
	fuzzOps
)

// step sends one request and returns its transaction name and message.
func (f *fuzzer) step() (string, proto.Message) {
	switch f.byte() % fuzzOps {
	case opRegisterTasks: // 1-3 tasks
		var batch []*protos.NewComputeTask
		for range 1 + f.byte()%3 {
			f.next++
			k := tasktest.Key(0x60, f.next)
			var t *protos.NewComputeTask
			switch f.byte() % 5 {
			case 0:
				t = f.b.TrainTask(k, f.org())
			case 1:
				t = f.b.TrainTask(k, f.org(), f.task())
			case 2:
				t = f.b.AggTask(k, f.org(), f.task(), f.task())
			case 3:
				t = f.b.MultiTask(k, f.org())
			default: // an aggregation of a Multi task's (transient) models
				t = f.b.AggTask(k, f.org())
				t.Inputs = []*protos.ComputeTaskInput{tasktest.ParentInput("models", f.task(), "models")}
			}
			if f.byte()%7 == 6 {
				t.ComputePlanKey = tasktest.Key(0x10, 2)
			}
			batch = append(batch, t)
			f.tasks = append(f.tasks, k)
		}
		return "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: batch}
	case opTaskAction:
		return "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: f.task(),
			Action: protos.ComputeTaskAction(f.byte() % 8)}
	case opRegisterModel:
		f.next++
		out := []string{"model", "models", "perf", "x"}[f.byte()%4]
		return "orchestrator.model:RegisterModels", &protos.RegisterModelsParam{Models: []*protos.NewModel{{
			Key: tasktest.Key(0x61, f.next), ComputeTaskKey: f.task(), ComputeTaskOutputIdentifier: out, Address: tasktest.Addr("m")}}}
	case opRegisterPerformance:
		return "orchestrator.performance:RegisterPerformance", &protos.NewPerformance{ComputeTaskKey: f.task(),
			ComputeTaskOutputIdentifier: []string{"perf", "model"}[f.byte()%2], PerformanceValue: float32(f.byte())}
	case opDisableOutput:
		return "orchestrator.computetask:DisableOutput", &protos.DisableOutputParam{ComputeTaskKey: f.task(),
			Identifier: []string{"model", "models", "perf"}[f.byte()%3]}
	case opFailureReport:
		return "orchestrator.failurereport:RegisterFailureReport", &protos.NewFailureReport{AssetKey: f.task(),
			AssetType: protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK, ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION, LogsAddress: tasktest.Addr("l")}
	case opPlanAction:
		return "orchestrator.computeplan:ApplyPlanAction", &protos.ApplyPlanActionParam{Key: f.b.Plan, Action: protos.ComputePlanAction(f.byte() % 2)}
	case opProfilingStep:
		return "orchestrator.profiling:RegisterProfilingStep", &protos.ProfilingStep{AssetKey: f.task(),
			Step: []string{"execution", "download", ""}[f.byte()%3], Duration: uint32(f.byte())}
	case opUpdatePlan:
		return "orchestrator.computeplan:UpdatePlan", &protos.UpdateComputePlanParam{Key: f.b.Plan, Name: []string{"renamed", ""}[f.byte()%2]}
	default: // opRegisterSample: a new sample of one organization's manager
		f.next++
		owner := f.org()
		return "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{{
			Key: tasktest.Key(0x62, f.next), DataManagerKeys: []string{f.b.Manager[owner]}, Checksum: strings.Repeat("ab", 32)}}}
	}
}

// statusRank orders task statuses along the lifecycle: a task only moves
// to a higher rank (building, then waiting for parents, then for an
// executor, then executing, then a final status), and never leaves a final
// one.
var statusRank = map[protos.ComputeTaskStatus]int{
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT:  1,
	protos.ComputeTaskStatus_STATUS_BUILDING:                  2,
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS:  3,
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT: 4,
	protos.ComputeTaskStatus_STATUS_EXECUTING:                 5,
	protos.ComputeTaskStatus_STATUS_DONE:                      6,
	protos.ComputeTaskStatus_STATUS_CANCELED:                  6,
	protos.ComputeTaskStatus_STATUS_FAILED:                    6,
}

// legal reports whether a task may go from status from to status to.
func legal(from, to protos.ComputeTaskStatus) bool {
	rf, rt := statusRank[from], statusRank[to]
	switch {
	case rt == 0:
		return false
	case from == to:
		return true // an update of something else than the status
	case rf == 6:
		return false // a final status is final
	}
	return rt > rf
}

// sequenceStats is what one request sequence did.
type sequenceStats struct {
	calls    int
	accepted map[string]int // per transaction
}

// runSequence sends the requests that data encodes and checks, after each
// one, the invariants a backend relies on:
//   - no call panics;
//   - a rejected call changes nothing (state digest) and emits no event;
//   - every event of a task is a legal status transition from the status
//     its previous event left, and its first event creates it;
//
// and at the end that the events replayed equal the state (every task's
// stored status is its last event's) and that the indexes agree with the
// records: every task query by plan, status and worker returns exactly the
// tasks whose records match, each task's models are the ones accepted for
// it, and the samples listed are the ones registered.
func runSequence(t *testing.T, data []byte) sequenceStats {
	if len(data) > 200 {
		data = data[:200]
	}
	n := tasktest.New(t, solotest.Start)
	fz := &fuzzer{n: n, b: n.NewBasic(), data: data}
	n.NewEvents() // the federation's own
	st := sequenceStats{accepted: map[string]int{}}
	status := map[string]protos.ComputeTaskStatus{} // replayed from the events
	models := map[string][]string{}                 // task -> models accepted
	samples := slices.Concat(fz.b.Samples["org1"], fz.b.Samples["org2"])
	for len(fz.data) > 0 {
		org := fz.org()
		tx, msg := fz.step()
		st.calls++
		before := n.StateDigest()
		err := n.Submit(org, tx, msg, nil)
		evs := n.NewEvents()
		if err != nil {
			if strings.Contains(err.Error(), "panic") {
				t.Fatalf("%s as %s panicked: %v", tx, org, err)
			}
			if n.StateDigest() != before {
				t.Fatalf("rejected %s as %s (%v) changed the state", tx, org, err)
			}
			if len(evs) != 0 {
				t.Fatalf("rejected %s as %s (%v) emitted %d events", tx, org, err, len(evs))
			}
			continue
		}
		st.accepted[tx]++
		switch m := msg.(type) {
		case *protos.RegisterModelsParam:
			for _, nm := range m.GetModels() {
				models[nm.GetComputeTaskKey()] = append(models[nm.GetComputeTaskKey()], nm.GetKey())
			}
		case *protos.RegisterDataSamplesParam:
			for _, ns := range m.GetSamples() {
				samples = append(samples, ns.GetKey())
			}
		}
		for _, ev := range evs {
			task := ev.GetComputeTask()
			if task == nil {
				continue
			}
			prev, known := status[task.GetKey()]
			switch {
			case !known && ev.GetEventKind() != protos.EventKind_EVENT_ASSET_CREATED:
				t.Fatalf("%s: first event of task %s is %v, not its creation", tx, task.GetKey(), ev.GetEventKind())
			case known && ev.GetEventKind() == protos.EventKind_EVENT_ASSET_CREATED:
				t.Fatalf("%s: task %s created twice", tx, task.GetKey())
			case known && !legal(prev, task.GetStatus()):
				t.Fatalf("%s as %s: task %s went from %v to %v", tx, org, task.GetKey(), prev, task.GetStatus())
			case !known && statusRank[task.GetStatus()] == 0:
				t.Fatalf("%s: task %s created in status %v", tx, task.GetKey(), task.GetStatus())
			}
			status[task.GetKey()] = task.GetStatus()
		}
	}

	byPlan := map[string]bool{}
	byStatus := map[protos.ComputeTaskStatus][]string{}
	byWorker := map[string][]string{}
	for _, k := range slices.Sorted(mapsKeys(status)) {
		task := n.Task(k)
		if task.GetStatus() != status[k] {
			t.Fatalf("task %s is %v, its last event says %v", k, task.GetStatus(), status[k])
		}
		byPlan[k] = true
		byStatus[task.GetStatus()] = append(byStatus[task.GetStatus()], k)
		byWorker[task.GetWorker()] = append(byWorker[task.GetWorker()], k)
	}
	check := func(what string, f *protos.TaskQueryFilter, want []string) {
		var res protos.QueryTasksResponse
		n.MustEvaluate("org1", "orchestrator.computetask:QueryTasks", &protos.QueryTasksParam{PageSize: 1000, Filter: f}, &res)
		var got []string
		for _, task := range res.GetTasks() {
			got = append(got, task.GetKey())
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("QueryTasks by %s returns %d tasks %v, the records say %d %v", what, len(got), got, len(want), want)
		}
	}
	check("plan", &protos.TaskQueryFilter{ComputePlanKey: fz.b.Plan}, slices.Collect(mapsKeys(byPlan)))
	for s, keys := range byStatus {
		check("status "+s.String(), &protos.TaskQueryFilter{ComputePlanKey: fz.b.Plan, Status: s}, keys)
	}
	for w, keys := range byWorker {
		check("worker "+w, &protos.TaskQueryFilter{Worker: w, ComputePlanKey: fz.b.Plan}, keys)
	}
	// The models of each task (index by task) are the ones accepted, and
	// the samples (index of samples) are the federation's and the ones
	// accepted.
	for k := range status {
		var res protos.GetComputeTaskModelsResponse
		n.MustEvaluate("org1", "orchestrator.model:GetComputeTaskOutputModels", &protos.GetComputeTaskModelsParam{ComputeTaskKey: k}, &res)
		var got []string
		for _, m := range res.GetModels() {
			got = append(got, m.GetKey())
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(models[k]))
		if !slices.Equal(got, want) {
			t.Fatalf("models of task %s: the index gives %v, the accepted calls %v", k, got, want)
		}
	}
	var res protos.QueryDataSamplesResponse
	n.MustEvaluate("org1", "orchestrator.datasample:QueryDataSamples", &protos.QueryDataSamplesParam{PageSize: 1000}, &res)
	var got []string
	for _, ds := range res.GetDataSamples() {
		got = append(got, ds.GetKey())
	}
	slices.Sort(got)
	if want := slices.Sorted(slices.Values(samples)); !slices.Equal(got, want) {
		t.Fatalf("QueryDataSamples returns %v, the accepted calls %v", got, want)
	}
	return st
}

// mapsKeys returns the keys of m in no order.
func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Seed encoders: each writes the bytes fuzzer.step reads for one request
// (caller first).

func org(i int) byte { return byte(i) } // 0 org1, 1 org2, 2 org3

func op(caller, o byte, args ...byte) []byte { return append([]byte{caller, o}, args...) }

// train registers one training task on the data of org d.
func train(caller, d byte) []byte { return op(caller, opRegisterTasks, 0, 0, d, 0) }

// trainAfter registers one training task on org d's data reading task p's model.
func trainAfter(caller, d, p byte) []byte { return op(caller, opRegisterTasks, 0, 1, d, p, 0) }

// agg registers one aggregation by worker w of tasks p1 and p2.
func agg(caller, w, p1, p2 byte) []byte { return op(caller, opRegisterTasks, 0, 2, w, p1, p2, 0) }

// multi registers one task with several (transient) models and a
// performance on org d's data.
func multi(caller, d byte) []byte { return op(caller, opRegisterTasks, 0, 3, d, 0) }

// aggMulti registers one aggregation by worker w of the models of Multi task p.
func aggMulti(caller, w, p byte) []byte { return op(caller, opRegisterTasks, 0, 4, w, p, 0) }

func act(caller, task byte, a protos.ComputeTaskAction) []byte {
	return op(caller, opTaskAction, task, byte(a))
}

func model(caller, task, out byte) []byte { return op(caller, opRegisterModel, out, task) }

func seq(parts ...[]byte) []byte { return slices.Concat(parts...) }

const (
	executing = protos.ComputeTaskAction_TASK_ACTION_EXECUTING
	canceled  = protos.ComputeTaskAction_TASK_ACTION_CANCELED
	failed    = protos.ComputeTaskAction_TASK_ACTION_FAILED
	done      = protos.ComputeTaskAction_TASK_ACTION_DONE
)

// fuzzSeeds are request sequences of accepted calls of every operation the
// fuzzer knows (TestFuzzSeeds proves it), with rejections mixed in, so
// that mutations start from deep states rather than from the first
// rejection.
func fuzzSeeds() map[string][]byte {
	return map[string][]byte{
		"train, model, done, child, aggregate": seq(
			train(org(0), org(0)),                 // task 0: org1 on org1's data
			act(org(0), 0, executing),             // org1 starts it
			op(org(0), opProfilingStep, 0, 0, 42), // profiles it
			model(org(0), 0, 0),                   // registers its model
			act(org(0), 0, done),                  // done
			trainAfter(org(0), org(1), 0),         // task 1: org2's data, from task 0
			agg(org(0), org(0), 0, 1),             // task 2: org1 aggregates 0 and 1
			act(org(1), 1, executing),             // org2 runs task 1
			model(org(1), 1, 0),
			act(org(1), 1, done),
			act(org(0), 2, executing), // the aggregate is ready
			op(org(0), opFailureReport, 2),
			op(org(0), opDisableOutput, 0, 0),    // task 0's model is not transient: rejected
			op(org(0), opUpdatePlan, 0),          // renames the plan
			op(org(0), opRegisterSample, org(1)), // a sample on org2's manager, by org1: rejected
			op(org(1), opRegisterSample, org(1)), // the same by org2
		),
		"multi, performance, disable, cancel plan": seq(
			multi(org(0), org(1)),     // task 0 on org2's data
			train(org(0), org(0)),     // task 1
			act(org(1), 0, executing), // org2 runs task 0
			model(org(1), 0, 1),       // two models
			model(org(1), 0, 1),
			op(org(1), opRegisterPerformance, 0, 0, 5),
			act(org(1), 0, done),
			aggMulti(org(0), org(0), 0), // task 2 aggregates task 0's models
			act(org(0), 2, executing),
			model(org(0), 2, 0),
			act(org(0), 2, done),
			op(org(1), opDisableOutput, 0, 1), // task 0's transient models, its child done
			act(org(0), 1, canceled),          // org1 cancels task 1
			op(org(0), opPlanAction, 1),
			op(org(0), opPlanAction, 1), // twice: rejected
		),
		"failure of a running task": seq(
			train(org(0), org(0)),
			trainAfter(org(0), org(0), 0),
			act(org(0), 0, executing),
			act(org(0), 0, failed),
			act(org(2), 1, executing), // unknown organization
			act(org(0), 1, done),      // not allowed from waiting
		),
		"bad batches": seq(
			op(org(0), opRegisterTasks, 1, 0, org(0), 6, 0, org(0), 0), // second task in an unknown plan
			op(org(1), opRegisterTasks, 0, 0, org(1), 0),               // not the plan owner
			train(org(0), org(0)),
			op(org(0), opRegisterModel, 0, 10), // unknown task
		),
	}
}

var (
	fuzzInputs atomic.Int64
	fuzzCalls  atomic.Int64
)

// FuzzRequestSequences sends random request sequences and checks the
// invariants of runSequence. With FEDCHAIN_FUZZ_COUNT set, each fuzzing
// process appends "<sequences> <calls>" to that file now and then, so that
// a fixed-budget run (.ci/run) can report the calls it tried.
func FuzzRequestSequences(f *testing.F) {
	seeds := fuzzSeeds()
	for _, name := range slices.Sorted(mapsKeys(seeds)) {
		f.Add(seeds[name])
	}
	countFile := os.Getenv("FEDCHAIN_FUZZ_COUNT")
	f.Fuzz(func(t *testing.T, data []byte) {
		st := runSequence(t, data)
		calls := fuzzCalls.Add(int64(st.calls))
		if in := fuzzInputs.Add(1); countFile != "" && in%32 == 0 {
			appendCount(t, countFile, fmt.Sprintf("32 %d", calls))
			fuzzCalls.Add(-calls)
		}
	})
}

// appendCount appends line to the file at path.
func appendCount(t *testing.T, path, line string) {
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fmt.Fprintln(fh, line); err != nil {
		t.Fatal(err)
	}
}

// TestFuzzSeeds proves the seeds do what they are for: each one has calls
// accepted, and together they have an accepted call of every operation
// the fuzzer knows, so the fuzzer starts from real states of every service
// it drives.
func TestFuzzSeeds(t *testing.T) {
	total := map[string]int{}
	for name, data := range fuzzSeeds() {
		t.Run(name, func(t *testing.T) {
			st := runSequence(t, data)
			n := 0
			for tx, c := range st.accepted {
				total[tx] += c
				n += c
			}
			if n == 0 {
				t.Fatalf("no call of the seed was accepted (%d calls)", st.calls)
			}
			t.Logf("%d of %d calls accepted: %v", n, st.calls, st.accepted)
		})
	}
	for _, tx := range []string{
		"orchestrator.computetask:RegisterTasks", "orchestrator.computetask:ApplyTaskAction",
		"orchestrator.model:RegisterModels", "orchestrator.performance:RegisterPerformance",
		"orchestrator.computetask:DisableOutput", "orchestrator.failurereport:RegisterFailureReport",
		"orchestrator.computeplan:ApplyPlanAction", "orchestrator.profiling:RegisterProfilingStep",
		"orchestrator.computeplan:UpdatePlan", "orchestrator.datasample:RegisterDataSamples",
	} {
		if total[tx] == 0 {
			t.Errorf("no seed has an accepted %s", tx)
		}
	}
}
