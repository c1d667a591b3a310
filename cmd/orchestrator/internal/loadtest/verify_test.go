package loadtest

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

// asServed is task i of plan p as a server answers for its registration.
func asServed(w *workload, p, i int, st protos.ComputeTaskStatus) *protos.ComputeTask {
	nt := w.newTask(p, i)
	return &protos.ComputeTask{
		Key: nt.Key, Owner: w.algoOrg, Worker: nt.Worker, ComputePlanKey: nt.ComputePlanKey,
		FunctionKey: nt.FunctionKey, Rank: int32(i), Status: st, CreationDate: timestamppb.Now(),
		Metadata: nt.Metadata, Inputs: nt.Inputs,
		Outputs: map[string]*protos.ComputeTaskOutput{OutputModel: {Permissions: &protos.Permissions{
			Process: &protos.Permission{Public: true}, Download: &protos.Permission{Public: true},
		}}},
	}
}

func TestTaskMismatch(t *testing.T) {
	w := newWorkload(testConfig())
	const p, i = 2, 3
	st := protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS
	tests := []struct {
		name   string
		change func(*protos.ComputeTask)
		want   string // in the finding; "" for none
	}{
		{"as registered", func(*protos.ComputeTask) {}, ""},
		{"key", func(t *protos.ComputeTask) { t.Key = w.tasks[p][i+1] }, "key"},
		{"owner", func(t *protos.ComputeTask) { t.Owner = "OtherMSP" }, "owner"},
		{"worker", func(t *protos.ComputeTask) { t.Worker = "OtherMSP" }, "worker"},
		{"plan", func(t *protos.ComputeTask) { t.ComputePlanKey = w.plans[0] }, "compute plan"},
		{"function", func(t *protos.ComputeTask) { t.FunctionKey = "f" }, "function"},
		{"rank", func(t *protos.ComputeTask) { t.Rank++ }, "rank"},
		{"status", func(t *protos.ComputeTask) { t.Status = protos.ComputeTaskStatus_STATUS_DONE }, "status"},
		{"no creation date", func(t *protos.ComputeTask) { t.CreationDate = nil }, "creation date"},
		{"metadata", func(t *protos.ComputeTask) { t.Metadata = map[string]string{"rank": "9"} }, "metadata"},
		{"extra metadata", func(t *protos.ComputeTask) { t.Metadata["x"] = "y" }, "metadata"},
		{"input dropped", func(t *protos.ComputeTask) { t.Inputs = t.Inputs[1:] }, "inputs"},
		{"sample swapped", func(t *protos.ComputeTask) { t.Inputs[1], t.Inputs[2] = t.Inputs[2], t.Inputs[1] }, "input 1"},
		{"opener", func(t *protos.ComputeTask) { t.Inputs[0].Identifier = InputDataSamples }, "input 0"},
		{"parent", func(t *protos.ComputeTask) {
			t.Inputs[len(t.Inputs)-1].GetParentTaskOutput().ParentTaskKey = w.tasks[p][0]
		}, "last input"},
		{"no output", func(t *protos.ComputeTask) { t.Outputs = nil }, "outputs"},
		{"transient output", func(t *protos.ComputeTask) { t.Outputs[OutputModel].Transient = true }, "transient"},
		{"private output", func(t *protos.ComputeTask) {
			t.Outputs[OutputModel].Permissions.Download = &protos.Permission{AuthorizedIds: []string{"x"}}
		}, "permissions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case changes its own copy (the inputs are shared with newTask's).
			task := proto.Clone(asServed(w, p, i, st)).(*protos.ComputeTask)
			tt.change(task)
			got := w.taskMismatch(task, p, i, st)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("taskMismatch = %q, want a finding about %q", got, tt.want)
			}
		})
	}
}

func TestTaskMismatchFirstTaskHasNoParent(t *testing.T) {
	w := newWorkload(testConfig())
	st := protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT
	if m := w.taskMismatch(asServed(w, 1, 0, st), 1, 0, st); m != "" {
		t.Fatalf("first task of a plan: %s", m)
	}
	// The second task's registration carries its parent: not the first's.
	if m := w.taskMismatch(asServed(w, 1, 1, st), 1, 0, st); m == "" {
		t.Fatal("task 1 passed as task 0")
	}
}

func TestTaskRefs(t *testing.T) {
	w := newWorkload(testConfig())
	refs := w.taskRefs()
	if len(refs) != w.taskCount() {
		t.Fatalf("%d refs for %d tasks", len(refs), w.taskCount())
	}
	if r := refs[w.tasks[3][11]]; r != (taskRef{3, 11}) {
		t.Fatalf("ref of task 11 of plan 3 = %+v", r)
	}
}

func TestReadMemory(t *testing.T) {
	m := readMemory()
	if m.HeapInuseMiB <= 0 || m.SysMiB < m.HeapInuseMiB {
		t.Fatalf("memory %+v: want a heap in use, within what the runtime holds", m)
	}
	if procStatusKiB("VmRSS") > 0 && (m.RSSMiB <= 0 || m.PeakRSSMiB < m.RSSMiB) {
		t.Fatalf("memory %+v: RSS and its peak", m)
	}
}
