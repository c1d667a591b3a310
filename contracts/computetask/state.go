package computetask

import (
	"slices"

	"github.com/fedchain/orchestrator/protos"
)

// transition is a move of the task state machine. Some are triggered by a
// caller's action, others only by the orchestrator itself (parents finishing,
// the function being built).
type transition int

const (
	toBuilding transition = iota + 1
	toWaitingParents
	toWaitingExecutor
	toExecuting
	toDone
	toCanceled
	toFailed
)

// String names the transition in error messages.
func (t transition) String() string {
	switch t {
	case toBuilding:
		return "building"
	case toWaitingParents:
		return "waiting for parent tasks"
	case toWaitingExecutor:
		return "waiting for executor slot"
	case toExecuting:
		return "executing"
	case toDone:
		return "done"
	case toCanceled:
		return "canceled"
	case toFailed:
		return "failed"
	}
	return "unknown transition"
}

// The statuses a task can still leave. A task in any other status is
// terminated: no transition applies to it any more.
var liveStatuses = []protos.ComputeTaskStatus{
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT,
	protos.ComputeTaskStatus_STATUS_BUILDING,
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS,
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT,
	protos.ComputeTaskStatus_STATUS_EXECUTING,
}

// transitionRule says from which statuses a transition may be taken and
// where it leads.
type transitionRule struct {
	from []protos.ComputeTaskStatus
	to   protos.ComputeTaskStatus
}

var rules = map[transition]transitionRule{
	toBuilding: {
		from: []protos.ComputeTaskStatus{protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT},
		to:   protos.ComputeTaskStatus_STATUS_BUILDING,
	},
	toWaitingParents: {
		from: []protos.ComputeTaskStatus{protos.ComputeTaskStatus_STATUS_BUILDING},
		to:   protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS,
	},
	toWaitingExecutor: {
		from: []protos.ComputeTaskStatus{
			protos.ComputeTaskStatus_STATUS_BUILDING,
			protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS,
		},
		to: protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT,
	},
	toExecuting: {
		from: []protos.ComputeTaskStatus{protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT},
		to:   protos.ComputeTaskStatus_STATUS_EXECUTING,
	},
	toDone: {
		from: []protos.ComputeTaskStatus{protos.ComputeTaskStatus_STATUS_EXECUTING},
		to:   protos.ComputeTaskStatus_STATUS_DONE,
	},
	toCanceled: {from: liveStatuses, to: protos.ComputeTaskStatus_STATUS_CANCELED},
	toFailed:   {from: liveStatuses, to: protos.ComputeTaskStatus_STATUS_FAILED},
}

// next returns the status a task in status from reaches by taking t, and
// whether t may be taken at all.
func next(from protos.ComputeTaskStatus, t transition) (protos.ComputeTaskStatus, bool) {
	rule, ok := rules[t]
	if !ok {
		return from, false
	}
	for _, s := range rule.from {
		if s == from {
			return rule.to, true
		}
	}
	return from, false
}

// IsTerminal reports whether a task in the given status can no longer
// change: DONE, CANCELED and FAILED (and the meaningless UNKNOWN).
func IsTerminal(status protos.ComputeTaskStatus) bool {
	for _, s := range liveStatuses {
		if s == status {
			return false
		}
	}
	return true
}

// actionTransition maps a caller's action to the transition it requests.
// BUILD_FINISHED depends on the parents and is resolved by the caller.
func actionTransition(action protos.ComputeTaskAction) (transition, bool) {
	switch action {
	case protos.ComputeTaskAction_TASK_ACTION_EXECUTING:
		return toExecuting, true
	case protos.ComputeTaskAction_TASK_ACTION_DONE:
		return toDone, true
	case protos.ComputeTaskAction_TASK_ACTION_CANCELED:
		return toCanceled, true
	case protos.ComputeTaskAction_TASK_ACTION_FAILED:
		return toFailed, true
	case protos.ComputeTaskAction_TASK_ACTION_BUILD_STARTED:
		return toBuilding, true
	}
	return 0, false
}

// mayAct reports whether requester may apply action to task through
// ApplyTaskAction. The owner and the worker may cancel or fail a task; only
// the worker starts and finishes its execution. Build actions come only from
// the function's status changes, never from a caller directly.
func mayAct(task *protos.ComputeTask, action protos.ComputeTaskAction, requester string) bool {
	switch action {
	case protos.ComputeTaskAction_TASK_ACTION_CANCELED, protos.ComputeTaskAction_TASK_ACTION_FAILED:
		return requester == task.GetOwner() || requester == task.GetWorker()
	case protos.ComputeTaskAction_TASK_ACTION_EXECUTING, protos.ComputeTaskAction_TASK_ACTION_DONE:
		return requester == task.GetWorker()
	}
	return false
}

// initialStatus derives the status of a new task from the status of its
// function and of its (already known) parents.
func initialStatus(parents []*protos.ComputeTask, fn protos.FunctionStatus) protos.ComputeTaskStatus {
	done := 0
	for _, p := range parents {
		switch p.GetStatus() {
		case protos.ComputeTaskStatus_STATUS_FAILED, protos.ComputeTaskStatus_STATUS_CANCELED:
			return protos.ComputeTaskStatus_STATUS_CANCELED
		case protos.ComputeTaskStatus_STATUS_DONE:
			done++
		}
	}
	switch fn {
	case protos.FunctionStatus_FUNCTION_STATUS_READY:
		if done == len(parents) {
			return protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT
		}
		return protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS
	case protos.FunctionStatus_FUNCTION_STATUS_WAITING:
		return protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT
	case protos.FunctionStatus_FUNCTION_STATUS_BUILDING:
		return protos.ComputeTaskStatus_STATUS_BUILDING
	case protos.FunctionStatus_FUNCTION_STATUS_FAILED:
		return protos.ComputeTaskStatus_STATUS_FAILED
	case protos.FunctionStatus_FUNCTION_STATUS_CANCELED:
		return protos.ComputeTaskStatus_STATUS_CANCELED
	}
	return protos.ComputeTaskStatus_STATUS_UNKNOWN
}

// rank is 0 for a task without parents, else one more than its deepest parent.
func rank(parents []*protos.ComputeTask) int32 {
	if len(parents) == 0 {
		return 0
	}
	var r int32
	for _, p := range parents {
		if p.GetRank() > r {
			r = p.GetRank()
		}
	}
	return r + 1
}

// ParentKeys returns the keys of the tasks whose outputs the inputs
// reference, each once, in order of first reference.
func ParentKeys(inputs []*protos.ComputeTaskInput) []string {
	// A task has few parents, and this runs several times per task of a
	// batch: the keys found so far are searched instead of a map, until
	// there are many.
	const linear = 16
	var keys []string
	var seen map[string]bool
	for _, in := range inputs {
		ref := in.GetParentTaskOutput()
		if ref == nil {
			continue
		}
		k := ref.GetParentTaskKey()
		if seen != nil {
			if seen[k] {
				continue
			}
			seen[k] = true
		} else if slices.Contains(keys, k) {
			continue
		} else if len(keys) == linear {
			seen = make(map[string]bool, 2*linear)
			for _, x := range keys {
				seen[x] = true
			}
			seen[k] = true
		}
		keys = append(keys, k)
	}
	return keys
}

// planRunning derives from the number of tasks per status whether a plan
// is still running: none of its tasks failed or was canceled, and at least
// one is still live.
func planRunning(counts map[protos.ComputeTaskStatus]int) bool {
	if counts[protos.ComputeTaskStatus_STATUS_FAILED] > 0 || counts[protos.ComputeTaskStatus_STATUS_CANCELED] > 0 {
		return false
	}
	for _, s := range liveStatuses {
		if counts[s] > 0 {
			return true
		}
	}
	return false
}
