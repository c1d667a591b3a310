package computetask

import (
	"fmt"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// defaultReason explains a status change requested without a log.
const defaultReason = "User action"

// ApplyAction applies a caller's action to a task: the sender matrix is
// checked first (OE0102), then the state machine (OE0110 on a terminated
// task, OE0104 when the action does not fit the current status).
func (s *Session) ApplyAction(key string, action protos.ComputeTaskAction, reason, requester string) error {
	t, err := s.Task(key)
	if err != nil {
		return err
	}
	if !mayAct(t, action, requester) {
		return orcerr.New(orcerr.PermissionDenied, "only task owner can update it: %s may not apply %s to compute task %s", requester, action, key)
	}
	tr, ok := actionTransition(action)
	if !ok {
		return orcerr.New(orcerr.BadRequest, "unsupported action %s", action)
	}
	if reason == "" {
		reason = defaultReason
	}
	return s.transition(t, tr, reason)
}

// transition moves a task through the state machine, stores it, emits the
// update event and runs the consequences: children may start when a task is
// done, the plan fails when a task fails.
func (s *Session) transition(t *protos.ComputeTask, tr transition, reason string) error {
	to, ok := next(t.GetStatus(), tr)
	if !ok {
		if IsTerminal(t.GetStatus()) {
			return orcerr.New(orcerr.TerminatedComputeTask, "compute task %s is already terminated: event inappropriate in current state %s", t.GetKey(), t.GetStatus())
		}
		return orcerr.New(orcerr.IncompatibleTaskStatus, "compute task %s in status %s cannot become %s: event inappropriate in current state %s", t.GetKey(), t.GetStatus(), tr, t.GetStatus())
	}
	old := t.GetStatus()
	t.Status = to
	s.tasks[t.GetKey()] = t
	b, err := ledger.StoreComputeTaskStatus(s.stub, t, old)
	if err != nil {
		return err
	}
	// The event is emitted right after the task is stored: its record is
	// its encoding.
	if err := s.emitTask(protos.EventKind_EVENT_ASSET_UPDATED, t, b, map[string]string{"reason": reason}); err != nil {
		return err
	}
	switch tr {
	case toDone:
		return s.startChildren(t)
	case toFailed:
		return s.failPlan(t.GetComputePlanKey())
	}
	return nil
}

// startChildren lets the children waiting for their parents start once
// the last of them is done.
func (s *Session) startChildren(parent *protos.ComputeTask) error {
	children, err := ledger.ComputeTaskChildren(s.stub, parent.GetKey())
	if err != nil {
		return err
	}
	if err := s.loadTasks(children); err != nil {
		return err
	}
	for _, k := range children {
		child, err := s.Task(k)
		if err != nil {
			return err
		}
		if child.GetStatus() != protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS {
			// Still building, or already failed or canceled: nothing to do.
			continue
		}
		if err := s.startDependent(child, fmt.Sprintf("Last parent task %s done", parent.GetKey())); err != nil {
			return err
		}
	}
	return nil
}

// startDependent moves a task whose function is built towards execution:
// waiting for its executor slot when all its parents are done, else waiting
// for them.
func (s *Session) startDependent(t *protos.ComputeTask, reason string) error {
	parents := ParentKeys(t.GetInputs())
	if err := s.loadTasks(parents); err != nil {
		return err
	}
	done := true
	for _, k := range parents {
		p, err := s.Task(k)
		if err != nil {
			return err
		}
		if p.GetStatus() != protos.ComputeTaskStatus_STATUS_DONE {
			done = false
			break
		}
	}
	if !done {
		if t.GetStatus() == protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS {
			return nil
		}
		return s.transition(t, toWaitingParents, reason)
	}
	if _, ok := next(t.GetStatus(), toWaitingExecutor); !ok {
		return nil
	}
	return s.transition(t, toWaitingExecutor, reason)
}

// failPlan records the first failure of a plan; a terminated plan is left
// as it is.
func (s *Session) failPlan(key string) error {
	p, err := s.Plan(key)
	if err != nil {
		return err
	}
	if Terminated(p) {
		return nil
	}
	p.FailureDate = s.env.Now()
	return s.SavePlan(p)
}

// Terminated reports whether a plan was canceled or failed.
func Terminated(p *protos.ComputePlan) bool {
	return p.GetCancelationDate() != nil || p.GetFailureDate() != nil
}

// cancelableStatuses are those of the tasks a plan cancelation stops; a
// task already executing is left to its worker.
var cancelableStatuses = []protos.ComputeTaskStatus{
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT,
	protos.ComputeTaskStatus_STATUS_BUILDING,
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS,
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT,
}

// CancelPlan cancels a plan on behalf of its owner: the plan gets its
// cancelation date (OE0109 if it was already terminated) and its tasks that
// have not started executing are canceled.
func (s *Session) CancelPlan(key, requester string) error {
	p, err := s.Plan(key)
	if err != nil {
		return err
	}
	if p.GetOwner() != requester {
		return orcerr.New(orcerr.PermissionDenied, "only plan owner can act on it (compute plan %s)", key)
	}
	if Terminated(p) {
		return orcerr.New(orcerr.TerminatedComputePlan, "compute plan %s is already terminated", key)
	}
	p.CancelationDate = s.env.Now()
	if err := s.SavePlan(p); err != nil {
		return err
	}
	if err := s.Emit(protos.EventKind_EVENT_ASSET_UPDATED, protos.AssetKind_ASSET_COMPUTE_PLAN, key, p, nil); err != nil {
		return err
	}
	var keys []string
	for _, st := range cancelableStatuses {
		ks, err := ledger.PlanTaskKeysWithStatus(s.stub, key, st)
		if err != nil {
			return err
		}
		keys = append(keys, ks...)
	}
	if err := s.loadTasks(keys); err != nil {
		return err
	}
	for _, k := range keys {
		t, err := s.Task(k)
		if err != nil {
			return err
		}
		if IsTerminal(t.GetStatus()) {
			continue
		}
		if err := s.transition(t, toCanceled, fmt.Sprintf("compute plan %s canceled", key)); err != nil {
			return err
		}
	}
	return nil
}

// PlanRunning reports whether a plan still has work going on: it is not
// terminated, none of its tasks failed or was canceled, and some task is
// not finished.
func (s *Session) PlanRunning(key string) (bool, error) {
	p, err := s.Plan(key)
	if err != nil {
		return false, err
	}
	if Terminated(p) {
		return false, nil
	}
	counts := make(map[protos.ComputeTaskStatus]int)
	for _, st := range append([]protos.ComputeTaskStatus{protos.ComputeTaskStatus_STATUS_FAILED, protos.ComputeTaskStatus_STATUS_CANCELED}, liveStatuses...) {
		has, err := ledger.PlanHasTaskWithStatus(s.stub, key, st)
		if err != nil {
			return false, err
		}
		if has {
			counts[st] = 1
		}
	}
	return planRunning(counts), nil
}

// functionTaskAction maps a function's new status to what it means for the
// tasks using it.
var functionTaskAction = map[protos.FunctionStatus]protos.ComputeTaskAction{
	protos.FunctionStatus_FUNCTION_STATUS_BUILDING: protos.ComputeTaskAction_TASK_ACTION_BUILD_STARTED,
	protos.FunctionStatus_FUNCTION_STATUS_READY:    protos.ComputeTaskAction_TASK_ACTION_BUILD_FINISHED,
	protos.FunctionStatus_FUNCTION_STATUS_CANCELED: protos.ComputeTaskAction_TASK_ACTION_CANCELED,
	protos.FunctionStatus_FUNCTION_STATUS_FAILED:   protos.ComputeTaskAction_TASK_ACTION_FAILED,
}

// PropagateFunctionStatus updates the tasks of a function whose status just
// changed: a build starting moves the tasks waiting for a builder to
// BUILDING; a build finishing moves the BUILDING tasks on to wait for their
// parents or an executor; a build canceled or failed cancels or fails them.
func (s *Session) PropagateFunctionStatus(functionKey string, status protos.FunctionStatus, reason string) error {
	action, ok := functionTaskAction[status]
	if !ok {
		return nil
	}
	if reason == "" {
		reason = defaultReason
	}
	from := protos.ComputeTaskStatus_STATUS_BUILDING
	if action == protos.ComputeTaskAction_TASK_ACTION_BUILD_STARTED {
		from = protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT
	}
	keys, err := ledger.FunctionTaskKeysWithStatus(s.stub, functionKey, from)
	if err != nil {
		return err
	}
	if err := s.loadTasks(keys); err != nil {
		return err
	}
	built := ""
	if action == protos.ComputeTaskAction_TASK_ACTION_BUILD_FINISHED {
		built = fmt.Sprintf("Function %s finished building", functionKey)
		// Each task is started after its parents are read: read those of
		// all of them in one go (startDependent reads each parent once
		// anyway, and finds them known).
		var parents []string
		for _, k := range keys {
			if t := s.tasks[k]; t != nil && t.GetStatus() == from {
				parents = append(parents, ParentKeys(t.GetInputs())...)
			}
		}
		if err := s.loadTasks(parents); err != nil {
			return err
		}
	}
	for _, k := range keys {
		t, err := s.Task(k)
		if err != nil {
			return err
		}
		if t.GetStatus() != from {
			continue // changed earlier in this transaction
		}
		if action == protos.ComputeTaskAction_TASK_ACTION_BUILD_FINISHED {
			err = s.startDependent(t, built)
		} else {
			tr, _ := actionTransition(action)
			err = s.transition(t, tr, reason)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// FailFromReport fails a task because its worker registered a failure
// report for it: only the worker may, and only while the task executes.
func (s *Session) FailFromReport(taskKey, requester string) error {
	t, err := s.Task(taskKey)
	if err != nil {
		return err
	}
	if t.GetWorker() != requester {
		return orcerr.New(orcerr.PermissionDenied, "only %q worker can register failure report for compute task %s", t.GetWorker(), taskKey)
	}
	if t.GetStatus() != protos.ComputeTaskStatus_STATUS_EXECUTING {
		return orcerr.New(orcerr.BadRequest, "cannot register failure report for task with status %q (compute task %s)", t.GetStatus().String(), taskKey)
	}
	return s.ApplyAction(taskKey, protos.ComputeTaskAction_TASK_ACTION_FAILED, "failure report registered", requester)
}
