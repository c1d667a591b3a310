// Package computetask is the contract of compute tasks and the home of the
// task rules the other task-side contracts share (compute plans, models,
// performances) or call (functions, failure reports).
//
// Registration takes a batch of tasks in one transaction, in any order:
// the batch is ordered parents first, each task gets its rank (one more
// than its deepest parent), its worker (the owner of its data manager, or
// the one named), its initial status (from its function's build status and
// its parents' statuses), its output permissions and its logs permission,
// and its inputs are checked against its function and the assets they
// reference.
//
// The lifecycle is a state machine:
//
//	WAITING_FOR_BUILDER_SLOT -> BUILDING -> WAITING_FOR_PARENT_TASKS
//	    -> WAITING_FOR_EXECUTOR_SLOT -> EXECUTING -> DONE
//
// with CANCELED and FAILED reachable from every live status. Callers move
// a task with actions: its worker starts (EXECUTING) and finishes (DONE)
// it, its owner or worker cancels or fails it; build actions come from the
// function's status changes only. A task done lets its waiting children
// start once all their parents are done; a task failing marks its plan
// failed; canceling a plan cancels its tasks that have not started.
//
// Storage is designed for Fabric's concurrency control: registration and
// status changes write point keys and index entries without reading
// ranges, a task action reads only the task, its children and their
// parents, and nothing shared (such as per-plan counters) is written by
// every action: plan status and running state are derived from the
// per-status index at query time.
package computetask
