package loadtest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// registerOrganizations registers every organization as itself. One that
// exists already (codes.AlreadyExists, as a rerun against the same server
// finds) is not an error.
func (r *runner) registerOrganizations(rec *recorder) {
	orgs := slices.Compact(slices.Sorted(slices.Values(r.cfg.Orgs)))
	r.parallel(len(orgs), func(i int) {
		c := r.client(orgs[i])
		var existed bool
		err := r.call(rec, "RegisterOrganization", 1, func(ctx context.Context) error {
			o, err := c.org.RegisterOrganization(c.ctx(ctx), &protos.RegisterOrganizationParam{})
			if status.Code(err) == codes.AlreadyExists {
				existed = true
				return nil
			}
			if err == nil && o.GetId() != c.mspid {
				checkf(rec, "RegisterOrganization as %s returned organization %q", c.mspid, o.GetId())
			}
			return err
		})
		if err == nil && existed {
			rec.note("organization %s was already registered", c.mspid)
		}
	})
	c := r.client(r.w.dataOrg)
	_ = r.call(rec, "GetAllOrganizations", 0, func(ctx context.Context) error {
		res, err := c.org.GetAllOrganizations(c.ctx(ctx), &protos.GetAllOrganizationsParam{})
		if err != nil {
			return err
		}
		for _, want := range orgs {
			if !slices.ContainsFunc(res.GetOrganizations(), func(o *protos.Organization) bool { return o.GetId() == want }) {
				checkf(rec, "GetAllOrganizations does not list %s", want)
			}
		}
		return nil
	})
}

// registerFunctions registers the train functions, owned by the algo org.
func (r *runner) registerFunctions(rec *recorder) {
	c := r.client(r.w.algoOrg)
	r.parallel(len(r.w.functions), func(i int) {
		req := r.w.newFunction(i)
		err := r.call(rec, "RegisterFunction", 1, func(ctx context.Context) error {
			f, err := c.function.RegisterFunction(c.ctx(ctx), req)
			if err != nil {
				return err
			}
			if f.GetKey() != req.Key || f.GetOwner() != c.mspid || f.GetStatus() != protos.FunctionStatus_FUNCTION_STATUS_WAITING {
				checkf(rec, "RegisterFunction returned key %q owner %q status %s, want %q %q %s",
					f.GetKey(), f.GetOwner(), f.GetStatus(), req.Key, c.mspid, protos.FunctionStatus_FUNCTION_STATUS_WAITING)
			}
			return nil
		})
		r.functionsOK[i] = err == nil
	})
	r.registered["functions"] = int64(countTrue(r.functionsOK))
}

// registerData registers the data manager, then the data samples in batches,
// all owned by the data org.
func (r *runner) registerData(rec *recorder) {
	c := r.client(r.w.dataOrg)
	err := r.call(rec, "RegisterDataManager", 0, func(ctx context.Context) error {
		dm, err := c.dm.RegisterDataManager(c.ctx(ctx), r.w.newDataManager())
		if err == nil && (dm.GetKey() != r.w.dataManager || dm.GetOwner() != c.mspid) {
			checkf(rec, "RegisterDataManager returned key %q owner %q, want %q %q", dm.GetKey(), dm.GetOwner(), r.w.dataManager, c.mspid)
		}
		return err
	})
	if err != nil {
		return
	}
	r.registered["datamanagers"] = 1
	batches := r.w.sampleBatches()
	ok := make([]bool, len(batches))
	var mu sync.Mutex
	r.parallel(len(batches), func(i int) {
		b := batches[i]
		err := r.call(rec, "RegisterDataSamples", len(b.Samples), func(ctx context.Context) error {
			res, err := c.sample.RegisterDataSamples(c.ctx(ctx), b)
			if err == nil && len(res.GetDataSamples()) != len(b.Samples) {
				checkf(rec, "RegisterDataSamples of %d samples returned %d", len(b.Samples), len(res.GetDataSamples()))
			}
			return err
		})
		ok[i] = err == nil
		if err == nil {
			mu.Lock()
			r.registered["datasamples"] += int64(len(b.Samples))
			mu.Unlock()
		}
	})
	r.dataOK = countTrue(ok) == len(batches)
}

// registerPlans registers the compute plans, owned by the algo org.
func (r *runner) registerPlans(rec *recorder) {
	c := r.client(r.w.algoOrg)
	r.parallel(len(r.w.plans), func(p int) {
		req := r.w.newPlan(p)
		err := r.call(rec, "RegisterPlan", 1, func(ctx context.Context) error {
			cp, err := c.plan.RegisterPlan(c.ctx(ctx), req)
			if err == nil && (cp.GetKey() != req.Key || cp.GetOwner() != c.mspid) {
				checkf(rec, "RegisterPlan returned key %q owner %q, want %q %q", cp.GetKey(), cp.GetOwner(), req.Key, c.mspid)
			}
			return err
		})
		r.plansOK[p] = err == nil
	})
	r.registered["plans"] = int64(countTrue(r.plansOK))
}

// registerTasks registers the tasks of every plan in batches, a plan's
// batches in order (a batch refers to parents of earlier batches), the
// plans in parallel. A plan whose registration fails is left out of the
// later phases.
func (r *runner) registerTasks(rec *recorder) {
	c := r.client(r.w.algoOrg)
	var mu sync.Mutex
	r.parallel(len(r.w.plans), func(p int) {
		if !r.plansOK[p] {
			return
		}
		rank := 0
		for _, b := range r.w.taskBatches(p) {
			var res *protos.RegisterTasksResponse
			err := r.call(rec, "RegisterTasks", len(b.Tasks), func(ctx context.Context) error {
				var err error
				res, err = c.task.RegisterTasks(c.ctx(ctx), b)
				return err
			})
			if err != nil {
				r.plansOK[p] = false
				return
			}
			// Checked once the call's latency is recorded: the checks are
			// the client's work, not the server's.
			r.checkRegisteredTasks(rec, p, rank, b, res.GetTasks())
			rank += len(b.Tasks)
			mu.Lock()
			r.registered["tasks"] += int64(len(b.Tasks))
			mu.Unlock()
		}
	})
}

// checkRegisteredTasks checks the tasks RegisterTasks returned for batch b of
// plan p, whose first task has rank first: all of them, owned by the algo
// org, run by the data org, ranked by their position in the chain, in their
// initial status.
func (r *runner) checkRegisteredTasks(rec *recorder, p, first int, b *protos.RegisterTasksParam, got []*protos.ComputeTask) {
	if len(got) != len(b.Tasks) {
		checkf(rec, "RegisterTasks of %d tasks returned %d", len(b.Tasks), len(got))
		return
	}
	byKey := map[string]*protos.ComputeTask{}
	for _, t := range got {
		byKey[t.GetKey()] = t
	}
	for j, nt := range b.Tasks {
		t := byKey[nt.Key]
		switch {
		case t == nil:
			checkf(rec, "RegisterTasks did not return task %s", nt.Key)
		case t.GetOwner() != r.w.algoOrg || t.GetWorker() != r.w.dataOrg || t.GetComputePlanKey() != r.w.plans[p]:
			checkf(rec, "task %s: owner %q worker %q plan %q, want %q %q %q", nt.Key,
				t.GetOwner(), t.GetWorker(), t.GetComputePlanKey(), r.w.algoOrg, r.w.dataOrg, r.w.plans[p])
		case t.GetRank() != int32(first+j):
			checkf(rec, "task %s: rank %d, want %d", nt.Key, t.GetRank(), first+j)
		case t.GetStatus() != r.initialStatus(p, first+j):
			checkf(rec, "task %s (rank %d, function built: %t): status %s, want %s", nt.Key, first+j,
				r.builtOK[r.w.functionOf(p, first+j)], t.GetStatus(), r.initialStatus(p, first+j))
		default:
			continue
		}
		return // one finding per batch is enough
	}
}

// initialStatus is the status task i of plan p starts in: waiting for its
// function's build, else (no task of the plan ran yet) for its parent, or
// for an executor when it has none.
func (r *runner) initialStatus(p, i int) protos.ComputeTaskStatus {
	switch {
	case !r.builtOK[r.w.functionOf(p, i)]:
		return protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT
	case i > 0:
		return protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS
	default:
		return protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT
	}
}

// getTasks reads random tasks, the organizations taking turns call by
// call, and compares every answer field by field with the registration
// (checked once the call's latency is recorded: the checks are the
// client's work, not the server's).
func (r *runner) getTasks(rec *recorder) {
	keys := r.w.randomTasks(r.cfg.GetTasks)
	refs := r.w.taskRefs()
	r.parallel(len(keys), func(i int) {
		c := r.client(r.cfg.Orgs[i%len(r.cfg.Orgs)])
		var t *protos.ComputeTask
		err := r.call(rec, "GetTask", 1, func(ctx context.Context) error {
			var err error
			t, err = c.task.GetTask(c.ctx(ctx), &protos.GetTaskParam{Key: keys[i]})
			return err
		})
		if err != nil {
			return
		}
		ref := refs[keys[i]]
		if m := r.w.taskMismatch(t, ref.p, ref.i, r.initialStatus(ref.p, ref.i)); m != "" {
			checkf(rec, "GetTask as %s: %s", c.mspid, m)
		}
	})
}

// queryTasks walks the tasks of every registered plan page by page.
func (r *runner) queryTasks(rec *recorder) {
	r.walkPlans(rec, func(p int) bool { return r.plansOK[p] }, protos.ComputeTaskStatus_STATUS_UNKNOWN)
}

// queryDoneTasks walks the DONE tasks of every plan whose tasks all went
// DONE: the status filter must find all of them.
func (r *runner) queryDoneTasks(rec *recorder) {
	r.walkPlans(rec, func(p int) bool { return r.doneOK[p] }, protos.ComputeTaskStatus_STATUS_DONE)
}

// walkPlans walks, for every plan p with want(p), the QueryTasks pages of its
// tasks (of the given status unless STATUS_UNKNOWN), and checks that they
// are exactly the plan's tasks.
func (r *runner) walkPlans(rec *recorder, want func(p int) bool, st protos.ComputeTaskStatus) {
	refs := r.w.taskRefs()
	plans := len(r.w.plans)
	r.parallel(plans*r.cfg.rounds(), func(j int) {
		p := j % plans
		if !want(p) {
			return
		}
		filter := &protos.TaskQueryFilter{ComputePlanKey: r.w.plans[p], Status: st}
		seen := map[string]bool{}
		maxPages := r.cfg.TasksPerPlan/r.cfg.TaskPageSize + 3
		token := ""
		for page := 0; ; page++ {
			if page == maxPages {
				checkf(rec, "QueryTasks of plan %s: still a next page after %d pages of %d", r.w.plans[p], page, r.cfg.TaskPageSize)
				return
			}
			// The organizations take turns, page by page: a page token
			// is no organization's.
			c := r.client(r.cfg.Orgs[(j+page)%len(r.cfg.Orgs)])
			var res *protos.QueryTasksResponse
			err := r.call(rec, "QueryTasks", 0, func(ctx context.Context) error {
				var err error
				res, err = c.task.QueryTasks(c.ctx(ctx), &protos.QueryTasksParam{PageToken: token, PageSize: uint32(r.cfg.TaskPageSize), Filter: filter})
				return err
			})
			if err != nil {
				return
			}
			if len(res.GetTasks()) > r.cfg.TaskPageSize {
				checkf(rec, "QueryTasks returned %d tasks for page size %d", len(res.GetTasks()), r.cfg.TaskPageSize)
			}
			for _, t := range res.GetTasks() {
				if seen[t.GetKey()] {
					checkf(rec, "QueryTasks of plan %s returned task %s twice", r.w.plans[p], t.GetKey())
					return
				}
				seen[t.GetKey()] = true
				if t.GetComputePlanKey() != r.w.plans[p] || (st != protos.ComputeTaskStatus_STATUS_UNKNOWN && t.GetStatus() != st) {
					checkf(rec, "QueryTasks(plan %s, status %s) returned task %s of plan %s in status %s",
						r.w.plans[p], st, t.GetKey(), t.GetComputePlanKey(), t.GetStatus())
					return
				}
				ref, ok := refs[t.GetKey()]
				if !ok || ref.p != p {
					checkf(rec, "QueryTasks(plan %s) returned task %s, which the run did not register in that plan", r.w.plans[p], t.GetKey())
					return
				}
				wantSt := st
				if st == protos.ComputeTaskStatus_STATUS_UNKNOWN {
					wantSt = r.initialStatus(p, ref.i)
				}
				if m := r.w.taskMismatch(t, p, ref.i, wantSt); m != "" {
					checkf(rec, "QueryTasks as %s: %s", c.mspid, m)
					return
				}
			}
			rec.addItems(len(res.GetTasks()))
			next := res.GetNextPageToken()
			if next == "" {
				break
			}
			if next == token {
				checkf(rec, "QueryTasks of plan %s returned its page token %q as the next one", r.w.plans[p], token)
				return
			}
			token = next
		}
		if len(seen) != r.cfg.TasksPerPlan {
			checkf(rec, "QueryTasks(plan %s, status %s) found %d tasks, want %d", r.w.plans[p], st, len(seen), r.cfg.TasksPerPlan)
		}
	})
}

// buildFunctions reports the build of every function, as its owner:
// BUILDING then READY. The tasks waiting for a function follow it (the
// first of each plan becomes executable), which it checks.
func (r *runner) buildFunctions(rec *recorder) {
	c := r.client(r.w.algoOrg)
	r.parallel(len(r.w.functions), func(i int) {
		if !r.functionsOK[i] {
			return
		}
		for _, a := range []protos.FunctionAction{protos.FunctionAction_FUNCTION_ACTION_BUILDING, protos.FunctionAction_FUNCTION_ACTION_READY} {
			items := 0
			if a == protos.FunctionAction_FUNCTION_ACTION_READY {
				items = 1
			}
			err := r.call(rec, "ApplyFunctionAction."+shortAction(a.String()), items, func(ctx context.Context) error {
				_, err := c.function.ApplyFunctionAction(c.ctx(ctx), &protos.ApplyFunctionActionParam{FunctionKey: r.w.functions[i], Action: a})
				return err
			})
			if err != nil {
				return
			}
		}
		r.builtOK[i] = true
	})
	if !r.cfg.BuildBeforeTasks {
		r.checkReleasedTasks(rec)
	}
}

// checkReleasedTasks checks, once the functions are built, the first two
// tasks of every registered plan: the builds must have released them from
// WAITING_FOR_BUILDER_SLOT (the first to an executor slot, the second to
// waiting for its parent).
func (r *runner) checkReleasedTasks(rec *recorder) {
	c := r.client(r.w.algoOrg)
	r.parallel(len(r.w.plans), func(p int) {
		if !r.plansOK[p] || !r.planFunctionsBuilt(p) {
			return
		}
		for i := range min(2, len(r.w.tasks[p])) {
			want := r.initialStatus(p, i)
			_ = r.call(rec, "GetTask", 0, func(ctx context.Context) error {
				t, err := c.task.GetTask(c.ctx(ctx), &protos.GetTaskParam{Key: r.w.tasks[p][i]})
				if err == nil && t.GetStatus() != want {
					checkf(rec, "task %s (rank %d) is %s once its function is READY, want %s", t.GetKey(), i, t.GetStatus(), want)
				}
				return err
			})
		}
	})
}

// runTasks plays the worker (the data org) on every plan whose tasks and
// functions are all in place: for each task in chain order, EXECUTING, then
// its model, then DONE. A plan stops at its first failure.
func (r *runner) runTasks(rec *recorder) {
	c := r.client(r.w.dataOrg)
	skipped := 0
	var mu sync.Mutex
	r.parallel(len(r.w.plans), func(p int) {
		if !r.plansOK[p] || !r.dataOK || !r.planFunctionsBuilt(p) {
			mu.Lock()
			skipped++
			mu.Unlock()
			return
		}
		for i, key := range r.w.tasks[p] {
			if r.ctx.Err() != nil {
				return
			}
			if err := r.call(rec, "ApplyTaskAction.EXECUTING", 0, func(ctx context.Context) error {
				_, err := c.task.ApplyTaskAction(c.ctx(ctx), &protos.ApplyTaskActionParam{ComputeTaskKey: key, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING})
				return err
			}); err != nil {
				return
			}
			m := r.w.newModel(p, i)
			if err := r.call(rec, "RegisterModels", 0, func(ctx context.Context) error {
				res, err := c.model.RegisterModels(c.ctx(ctx), &protos.RegisterModelsParam{Models: []*protos.NewModel{m}})
				if err == nil && (len(res.GetModels()) != 1 || res.GetModels()[0].GetKey() != m.Key || res.GetModels()[0].GetComputeTaskKey() != key) {
					checkf(rec, "RegisterModels for task %s returned %d models (want model %s)", key, len(res.GetModels()), m.Key)
				}
				return err
			}); err != nil {
				return
			}
			if err := r.call(rec, "ApplyTaskAction.DONE", 1, func(ctx context.Context) error {
				_, err := c.task.ApplyTaskAction(c.ctx(ctx), &protos.ApplyTaskActionParam{ComputeTaskKey: key, Action: protos.ComputeTaskAction_TASK_ACTION_DONE})
				return err
			}); err != nil {
				return
			}
			mu.Lock()
			r.registered["models"]++
			mu.Unlock()
		}
		r.doneOK[p] = true
	})
	if skipped > 0 {
		rec.note("%d plan(s) skipped: their registration, data or function builds failed", skipped)
	}
}

// planFunctionsBuilt tells whether every function plan p uses is READY.
func (r *runner) planFunctionsBuilt(p int) bool {
	for i := range r.w.tasks[p] {
		if !r.builtOK[r.w.functionOf(p, i)] {
			return false
		}
	}
	return true
}

// shortAction turns "FUNCTION_ACTION_READY" into "READY".
func shortAction(s string) string { return s[strings.LastIndexByte(s, '_')+1:] }

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// firstDuplicate returns the first id that occurs twice in ids, or "".
func firstDuplicate(ids []string) string {
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; ok {
			return id
		}
		seen[id] = struct{}{}
	}
	return ""
}
