package loadtest

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// probe is a request the API must refuse with a given code (the code the
// Substra orchestrator 1.0.0 answers). Probes change nothing on a server
// that refuses them.
type probe struct {
	name string
	// needsTwoOrgs marks probes that act as the wrong organization.
	needsTwoOrgs bool
	want         codes.Code
	call         func(r *runner, ctx context.Context) error
}

// probes are the refusals checked by the probes phase. They need task 0 of
// plan 0 (and so function 0 and plan 0) registered and not yet run.
var probes = []probe{
	{"GetTask of an unknown task", false, codes.NotFound, func(r *runner, ctx context.Context) error {
		c := r.client(r.w.algoOrg)
		_, err := c.task.GetTask(c.ctx(ctx), &protos.GetTaskParam{Key: r.probeKey("unknown-task")})
		return err
	}},
	{"RegisterTasks of a registered task", false, codes.AlreadyExists, func(r *runner, ctx context.Context) error {
		c := r.client(r.w.algoOrg)
		_, err := c.task.RegisterTasks(c.ctx(ctx), &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{r.w.newTask(0, 0)}})
		return err
	}},
	{"RegisterTasks in an unknown plan", false, codes.NotFound, func(r *runner, ctx context.Context) error {
		c := r.client(r.w.algoOrg)
		t := r.w.newTask(0, 0)
		t.Key, t.ComputePlanKey = r.probeKey("task-in-unknown-plan"), r.probeKey("unknown-plan")
		_, err := c.task.RegisterTasks(c.ctx(ctx), &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{t}})
		return err
	}},
	{"RegisterTasks in another organization's plan", true, codes.PermissionDenied, func(r *runner, ctx context.Context) error {
		c := r.client(r.w.dataOrg)
		t := r.w.newTask(0, 0)
		t.Key = r.probeKey("task-in-foreign-plan")
		_, err := c.task.RegisterTasks(c.ctx(ctx), &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{t}})
		return err
	}},
	{"ApplyFunctionAction by another organization than the owner", true, codes.PermissionDenied, func(r *runner, ctx context.Context) error {
		c := r.client(r.w.dataOrg)
		_, err := c.function.ApplyFunctionAction(c.ctx(ctx), &protos.ApplyFunctionActionParam{
			FunctionKey: r.w.functions[0], Action: protos.FunctionAction_FUNCTION_ACTION_BUILDING})
		return err
	}},
	{"ApplyTaskAction EXECUTING by the owner, not the worker", true, codes.PermissionDenied, func(r *runner, ctx context.Context) error {
		c := r.client(r.w.algoOrg)
		_, err := c.task.ApplyTaskAction(c.ctx(ctx), &protos.ApplyTaskActionParam{
			ComputeTaskKey: r.w.tasks[0][0], Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING})
		return err
	}},
	{"RegisterModels for a task that is not executing", false, codes.FailedPrecondition, func(r *runner, ctx context.Context) error {
		c := r.client(r.w.dataOrg)
		m := r.w.newModel(0, 0)
		m.Key = r.probeKey("model-too-early")
		_, err := c.model.RegisterModels(c.ctx(ctx), &protos.RegisterModelsParam{Models: []*protos.NewModel{m}})
		return err
	}},
	{"RegisterFunction with a multiple data manager input", false, codes.InvalidArgument, func(r *runner, ctx context.Context) error {
		c := r.client(r.w.algoOrg)
		f := r.w.newFunction(0)
		f.Key = r.probeKey("invalid-function")
		f.Inputs[InputOpener].Multiple = true
		_, err := c.function.RegisterFunction(c.ctx(ctx), f)
		return err
	}},
}

// probeKey is a key of this run that the workload does not use.
func (r *runner) probeKey(name string) string {
	return uuid.NewSHA1(keySpace, fmt.Appendf(nil, "%d/probe/%s", r.cfg.Seed, name)).String()
}

// runProbes sends every probe and checks the code of the refusal; a probe
// the server accepts, or refuses with another code, is an error. Items are
// the probes answered as expected.
func (r *runner) runProbes(rec *recorder) {
	if len(r.w.plans) == 0 || !r.plansOK[0] || !r.functionsOK[0] {
		rec.note("skipped: plan 0 or function 0 is not registered")
		return
	}
	twoOrgs := r.w.dataOrg != r.w.algoOrg
	r.parallel(len(probes), func(i int) {
		pr := probes[i]
		if pr.needsTwoOrgs && !twoOrgs {
			return
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.CallTimeout)
		err := pr.call(r, ctx)
		cancel()
		got := status.Code(err)
		// The call's failure is the expected outcome: the latency is
		// recorded, the error only if it is not the expected one.
		if got == pr.want {
			rec.call("probe", time.Since(start), 1, nil)
			return
		}
		rec.call("probe", time.Since(start), 0, nil)
		if err == nil {
			checkf(rec, "probe %q: accepted, want code %s", pr.name, pr.want)
			return
		}
		checkf(rec, "probe %q: %s, want code %s", pr.name, errorText(err), pr.want)
	})
}
