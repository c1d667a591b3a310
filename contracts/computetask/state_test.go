package computetask

import (
	"slices"
	"testing"

	"github.com/fedchain/orchestrator/protos"
)

type st = protos.ComputeTaskStatus

const (
	sUnknown   = protos.ComputeTaskStatus_STATUS_UNKNOWN
	sWBuilder  = protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT
	sBuilding  = protos.ComputeTaskStatus_STATUS_BUILDING
	sWParents  = protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS
	sWExecutor = protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT
	sExecuting = protos.ComputeTaskStatus_STATUS_EXECUTING
	sDone      = protos.ComputeTaskStatus_STATUS_DONE
	sCanceled  = protos.ComputeTaskStatus_STATUS_CANCELED
	sFailed    = protos.ComputeTaskStatus_STATUS_FAILED
)

var allStatuses = []st{sUnknown, sWBuilder, sBuilding, sWParents, sWExecutor, sExecuting, sDone, sCanceled, sFailed}

func TestNextCoversTheWholeMachine(t *testing.T) {
	// Every (status, transition) pair that is allowed, and where it leads;
	// every pair not listed must be refused.
	allowed := map[st]map[transition]st{
		sWBuilder:  {toBuilding: sBuilding, toCanceled: sCanceled, toFailed: sFailed},
		sBuilding:  {toWaitingParents: sWParents, toWaitingExecutor: sWExecutor, toCanceled: sCanceled, toFailed: sFailed},
		sWParents:  {toWaitingExecutor: sWExecutor, toCanceled: sCanceled, toFailed: sFailed},
		sWExecutor: {toExecuting: sExecuting, toCanceled: sCanceled, toFailed: sFailed},
		sExecuting: {toDone: sDone, toCanceled: sCanceled, toFailed: sFailed},
	}
	all := []transition{toBuilding, toWaitingParents, toWaitingExecutor, toExecuting, toDone, toCanceled, toFailed, 0}
	for _, from := range allStatuses {
		for _, tr := range all {
			want, ok := allowed[from][tr]
			got, gotOK := next(from, tr)
			if gotOK != ok || (ok && got != want) {
				t.Errorf("next(%v, %v) = %v, %v; want %v, %v", from, tr, got, gotOK, want, ok)
			}
			if !gotOK && got != from {
				t.Errorf("refused next(%v, %v) changed the status to %v", from, tr, got)
			}
		}
	}
}

func TestIsTerminal(t *testing.T) {
	for _, s := range allStatuses {
		want := s == sDone || s == sCanceled || s == sFailed || s == sUnknown
		if got := IsTerminal(s); got != want {
			t.Errorf("IsTerminal(%v) = %v, want %v", s, got, want)
		}
	}
}

func TestMayAct(t *testing.T) {
	task := &protos.ComputeTask{Owner: "owner", Worker: "worker"}
	same := &protos.ComputeTask{Owner: "org", Worker: "org"}
	A := func(a protos.ComputeTaskAction) protos.ComputeTaskAction { return a }
	cases := []struct {
		action    protos.ComputeTaskAction
		requester string
		task      *protos.ComputeTask
		want      bool
	}{
		{A(protos.ComputeTaskAction_TASK_ACTION_EXECUTING), "worker", task, true},
		{A(protos.ComputeTaskAction_TASK_ACTION_EXECUTING), "owner", task, false},
		{A(protos.ComputeTaskAction_TASK_ACTION_DONE), "worker", task, true},
		{A(protos.ComputeTaskAction_TASK_ACTION_DONE), "owner", task, false},
		{A(protos.ComputeTaskAction_TASK_ACTION_DONE), "other", task, false},
		{A(protos.ComputeTaskAction_TASK_ACTION_CANCELED), "owner", task, true},
		{A(protos.ComputeTaskAction_TASK_ACTION_CANCELED), "worker", task, true},
		{A(protos.ComputeTaskAction_TASK_ACTION_CANCELED), "other", task, false},
		{A(protos.ComputeTaskAction_TASK_ACTION_FAILED), "owner", task, true},
		{A(protos.ComputeTaskAction_TASK_ACTION_FAILED), "worker", task, true},
		{A(protos.ComputeTaskAction_TASK_ACTION_FAILED), "other", task, false},
		{A(protos.ComputeTaskAction_TASK_ACTION_BUILD_STARTED), "org", same, false},
		{A(protos.ComputeTaskAction_TASK_ACTION_BUILD_FINISHED), "org", same, false},
		{A(protos.ComputeTaskAction_TASK_ACTION_UNKNOWN), "org", same, false},
	}
	for _, c := range cases {
		if got := mayAct(c.task, c.action, c.requester); got != c.want {
			t.Errorf("mayAct(%v by %s) = %v, want %v", c.action, c.requester, got, c.want)
		}
	}
}

func TestActionTransition(t *testing.T) {
	cases := map[protos.ComputeTaskAction]transition{
		protos.ComputeTaskAction_TASK_ACTION_EXECUTING:     toExecuting,
		protos.ComputeTaskAction_TASK_ACTION_DONE:          toDone,
		protos.ComputeTaskAction_TASK_ACTION_CANCELED:      toCanceled,
		protos.ComputeTaskAction_TASK_ACTION_FAILED:        toFailed,
		protos.ComputeTaskAction_TASK_ACTION_BUILD_STARTED: toBuilding,
	}
	for a, want := range cases {
		if got, ok := actionTransition(a); !ok || got != want {
			t.Errorf("actionTransition(%v) = %v, %v", a, got, ok)
		}
	}
	for _, a := range []protos.ComputeTaskAction{protos.ComputeTaskAction_TASK_ACTION_UNKNOWN, protos.ComputeTaskAction_TASK_ACTION_BUILD_FINISHED, 99} {
		if _, ok := actionTransition(a); ok {
			t.Errorf("actionTransition(%v) accepted", a)
		}
	}
	for _, tr := range []transition{toBuilding, toWaitingParents, toWaitingExecutor, toExecuting, toDone, toCanceled, toFailed, 0} {
		if tr.String() == "" {
			t.Errorf("transition %d has no name", tr)
		}
	}
}

func tasksWith(statuses ...st) []*protos.ComputeTask {
	var ts []*protos.ComputeTask
	for i, s := range statuses {
		ts = append(ts, &protos.ComputeTask{Status: s, Rank: int32(i)})
	}
	return ts
}

func TestInitialStatus(t *testing.T) {
	ready := protos.FunctionStatus_FUNCTION_STATUS_READY
	cases := []struct {
		name    string
		parents []*protos.ComputeTask
		fn      protos.FunctionStatus
		want    st
	}{
		{"no parent, ready", nil, ready, sWExecutor},
		{"parents done", tasksWith(sDone, sDone), ready, sWExecutor},
		{"a parent pending", tasksWith(sDone, sExecuting), ready, sWParents},
		{"a parent failed", tasksWith(sDone, sFailed), ready, sCanceled},
		{"a parent canceled", tasksWith(sWParents, sCanceled), protos.FunctionStatus_FUNCTION_STATUS_WAITING, sCanceled},
		{"function waiting", tasksWith(sDone), protos.FunctionStatus_FUNCTION_STATUS_WAITING, sWBuilder},
		{"function building", nil, protos.FunctionStatus_FUNCTION_STATUS_BUILDING, sBuilding},
		{"function failed", nil, protos.FunctionStatus_FUNCTION_STATUS_FAILED, sFailed},
		{"function canceled", nil, protos.FunctionStatus_FUNCTION_STATUS_CANCELED, sCanceled},
		{"function unknown", nil, protos.FunctionStatus_FUNCTION_STATUS_UNKNOWN, sUnknown},
	}
	for _, c := range cases {
		if got := initialStatus(c.parents, c.fn); got != c.want {
			t.Errorf("%s: initialStatus = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRank(t *testing.T) {
	cases := []struct {
		parents []*protos.ComputeTask
		want    int32
	}{
		{nil, 0},
		{[]*protos.ComputeTask{{Rank: 0}}, 1},
		{[]*protos.ComputeTask{{Rank: 3}, {Rank: 7}, {Rank: 1}}, 8},
	}
	for _, c := range cases {
		if got := rank(c.parents); got != c.want {
			t.Errorf("rank(%v) = %d, want %d", c.parents, got, c.want)
		}
	}
}

func parentIn(id, parent, out string) *protos.ComputeTaskInput {
	return &protos.ComputeTaskInput{Identifier: id, Ref: &protos.ComputeTaskInput_ParentTaskOutput{
		ParentTaskOutput: &protos.ParentTaskOutputRef{ParentTaskKey: parent, OutputIdentifier: out}}}
}

func assetIn(id, key string) *protos.ComputeTaskInput {
	return &protos.ComputeTaskInput{Identifier: id, Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: key}}
}

func TestParentKeys(t *testing.T) {
	inputs := []*protos.ComputeTaskInput{
		assetIn("opener", "dm"),
		parentIn("model", "p2", "model"),
		parentIn("model", "p1", "model"),
		parentIn("shared", "p2", "local"),
	}
	if got, want := ParentKeys(inputs), []string{"p2", "p1"}; !slices.Equal(got, want) {
		t.Errorf("ParentKeys = %v, want %v", got, want)
	}
	if got := ParentKeys(nil); len(got) != 0 {
		t.Errorf("ParentKeys(nil) = %v", got)
	}
}

func TestPlanRunning(t *testing.T) {
	cases := []struct {
		counts map[st]int
		want   bool
	}{
		{nil, false},
		{map[st]int{sDone: 3}, false},
		{map[st]int{sDone: 3, sExecuting: 1}, true},
		{map[st]int{sWBuilder: 1}, true},
		{map[st]int{sWParents: 2, sFailed: 1}, false},
		{map[st]int{sWExecutor: 2, sCanceled: 1}, false},
	}
	for _, c := range cases {
		if got := planRunning(c.counts); got != c.want {
			t.Errorf("planRunning(%v) = %v, want %v", c.counts, got, c.want)
		}
	}
}
