package loadtest

import (
	"fmt"
	"strconv"

	"github.com/fedchain/orchestrator/protos"
)

// taskRef locates a task of the workload: task i of plan p.
type taskRef struct{ p, i int }

// taskRefs maps every task key of the workload to its plan and rank.
func (w *workload) taskRefs() map[string]taskRef {
	out := make(map[string]taskRef, w.taskCount())
	for p, keys := range w.tasks {
		for i, k := range keys {
			out[k] = taskRef{p, i}
		}
	}
	return out
}

// taskMismatch compares, field by field, a task the API returned with task
// i of plan p as the run registered it (newTask), in status st, and
// describes the first difference ("" when there is none). It builds no
// request: the read phases call it on every answer, and its cost is the
// client's.
func (w *workload) taskMismatch(t *protos.ComputeTask, p, i int, st protos.ComputeTaskStatus) string {
	key := w.tasks[p][i]
	field := func(name string, got, want any) string {
		return fmt.Sprintf("task %s: %s %v, registered %v", key, name, got, want)
	}
	switch {
	case t.GetKey() != key:
		return field("key", t.GetKey(), key)
	case t.GetOwner() != w.algoOrg:
		return field("owner", t.GetOwner(), w.algoOrg)
	case t.GetWorker() != w.dataOrg:
		return field("worker", t.GetWorker(), w.dataOrg)
	case t.GetComputePlanKey() != w.plans[p]:
		return field("compute plan", t.GetComputePlanKey(), w.plans[p])
	case t.GetFunctionKey() != w.functions[w.functionOf(p, i)]:
		return field("function", t.GetFunctionKey(), w.functions[w.functionOf(p, i)])
	case t.GetRank() != int32(i):
		return field("rank", t.GetRank(), i)
	case t.GetStatus() != st:
		return field("status", t.GetStatus(), st)
	case t.GetCreationDate() == nil:
		return field("creation date", nil, "set")
	case len(t.GetMetadata()) != 1 || t.GetMetadata()["rank"] != strconv.Itoa(i):
		return field("metadata", t.GetMetadata(), map[string]string{"rank": strconv.Itoa(i)})
	}
	if m := w.inputsMismatch(t.GetInputs(), p, i); m != "" {
		return fmt.Sprintf("task %s: %s", key, m)
	}
	outs := t.GetOutputs()
	out, ok := outs[OutputModel]
	switch {
	case len(outs) != 1 || !ok:
		return field("outputs", len(outs), "one, "+OutputModel)
	case out.GetTransient():
		return field("output transient", true, false)
	case !out.GetPermissions().GetProcess().GetPublic() || !out.GetPermissions().GetDownload().GetPublic():
		return field("output permissions", out.GetPermissions(), "public")
	}
	return ""
}

// inputsMismatch compares the inputs of task i of plan p with what newTask
// registered: the opener, its samples in order, then its parent's model.
func (w *workload) inputsMismatch(in []*protos.ComputeTaskInput, p, i int) string {
	samples := w.samplesOf(p, i)
	want := 1 + len(samples)
	if i > 0 {
		want++
	}
	if len(in) != want {
		return fmt.Sprintf("%d inputs, registered %d", len(in), want)
	}
	asset := func(j int, id, key string) string {
		if in[j].GetIdentifier() != id || in[j].GetAssetKey() != key {
			return fmt.Sprintf("input %d is %s=%q, registered %s=%q", j, in[j].GetIdentifier(), in[j].GetAssetKey(), id, key)
		}
		return ""
	}
	if m := asset(0, InputOpener, w.dataManager); m != "" {
		return m
	}
	for j, s := range samples {
		if m := asset(1+j, InputDataSamples, w.samples[s]); m != "" {
			return m
		}
	}
	if i > 0 {
		last := in[len(in)-1]
		ref := last.GetParentTaskOutput()
		if last.GetIdentifier() != InputModels || ref.GetParentTaskKey() != w.tasks[p][i-1] || ref.GetOutputIdentifier() != OutputModel {
			return fmt.Sprintf("last input is %s from %s/%s, registered %s from %s/%s", last.GetIdentifier(),
				ref.GetParentTaskKey(), ref.GetOutputIdentifier(), InputModels, w.tasks[p][i-1], OutputModel)
		}
	}
	return ""
}
