package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Report is everything a run measured.
type Report struct {
	Config    Config        `json:"config"`
	StartedAt time.Time     `json:"started_at"`
	Seconds   float64       `json:"seconds"`
	Phases    []PhaseResult `json:"phases"`
	Calls     int64         `json:"calls"`
	Errors    int64         `json:"errors"`
	// Stopped says why the run ended before its last phase ("" when it
	// did not).
	Stopped string `json:"stopped,omitempty"`
}

// Err returns nil when the run completed without any error, else an error
// that counts them and quotes the first one.
func (r *Report) Err() error {
	if r.Errors == 0 && r.Stopped == "" {
		return nil
	}
	var first string
	for _, p := range r.Phases {
		if len(p.FirstErrors) > 0 {
			first = fmt.Sprintf(" (first, in phase %s: %s)", p.Name, p.FirstErrors[0])
			break
		}
	}
	msg := fmt.Sprintf("load test: %d error(s)%s", r.Errors, first)
	if r.Stopped != "" {
		msg += "; stopped: " + r.Stopped
	}
	return errors.New(msg)
}

// Run drives the workload of cfg against cfg.Addr, phase after phase, and
// writes a line per finished phase, then a table and one JSON line with the
// whole Report, to out. It returns the Report (nil only when cfg is invalid
// or the connection cannot be set up) and Report.Err: an error when any call
// or check failed, or when the run stopped early (deadline, too many errors,
// ctx done).
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("load test config: %w", err)
	}
	if cfg.Seed == 0 {
		cfg.Seed = time.Now().UnixNano()
	}
	cs, err := dialAll(&cfg)
	if err != nil {
		return nil, err
	}
	defer cs.close()

	r := newRunner(cfg, cs, out)
	rep := r.run(ctx)
	writeTable(out, rep)
	if err := writeJSON(out, rep); err != nil {
		return rep, err
	}
	return rep, rep.Err()
}

// runner holds the state of one run: what earlier phases achieved, which
// later phases build on.
type runner struct {
	cfg Config
	w   *workload
	cs  clients
	out io.Writer

	ctx    context.Context
	cancel context.CancelCauseFunc
	errs   atomic.Int64

	// Outcomes of earlier phases.
	functionsOK []bool // function i registered
	dataOK      bool   // data manager and every sample registered
	plansOK     []bool // plan p registered, then all its tasks
	builtOK     []bool // function i built (READY)
	doneOK      []bool // every task of plan p went DONE
	registered  map[string]int64
	eventTotal  int
	eventIDs    []string // ascending QueryEvents order, if not too many
}

// errTooManyErrors is the cause of a run stopped by Config.MaxErrors.
var errTooManyErrors = errors.New("too many errors")

func newRunner(cfg Config, cs clients, out io.Writer) *runner {
	return &runner{
		cfg:         cfg,
		w:           newWorkload(cfg),
		cs:          cs,
		out:         out,
		functionsOK: make([]bool, cfg.Functions),
		plansOK:     make([]bool, cfg.Plans),
		builtOK:     make([]bool, cfg.Functions),
		doneOK:      make([]bool, cfg.Plans),
		registered:  map[string]int64{},
	}
}

// phase is one step of the workload.
type phase struct {
	name string
	run  func(*runner, *recorder)
}

// phases is the workload, in order (function-builds moves up to follow
// functions when Config.BuildBeforeTasks is set).
var phases = []phase{
	{"organizations", (*runner).registerOrganizations},
	{"functions", (*runner).registerFunctions},
	{"data", (*runner).registerData},
	{"plans", (*runner).registerPlans},
	{"tasks", (*runner).registerTasks},
	{"get-task", (*runner).getTasks},
	{"query-tasks", (*runner).queryTasks},
	{"probes", (*runner).runProbes},
	{"function-builds", (*runner).buildFunctions},
	{"task-lifecycle", (*runner).runTasks},
	{"query-done-tasks", (*runner).queryDoneTasks},
	{"query-events", (*runner).queryEvents},
	{"subscribe-events", (*runner).subscribeEvents},
}

// phaseOrder returns the phases of a run of cfg, in order.
func phaseOrder(cfg Config) []phase {
	if !cfg.BuildBeforeTasks {
		return phases
	}
	var out []phase
	for _, ph := range phases {
		switch ph.name {
		case "function-builds":
		case "functions":
			out = append(out, ph, phases[slices.IndexFunc(phases, func(p phase) bool { return p.name == "function-builds" })])
		default:
			out = append(out, ph)
		}
	}
	return out
}

func (r *runner) run(parent context.Context) *Report {
	rep := &Report{Config: r.cfg, StartedAt: time.Now().UTC()}
	ctx, cancelDeadline := context.WithTimeoutCause(parent, r.cfg.Deadline,
		fmt.Errorf("deadline of %v passed", r.cfg.Deadline))
	defer cancelDeadline()
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	defer r.cancel(nil)

	order := phaseOrder(r.cfg)
	if !r.cfg.Probes {
		order = slices.DeleteFunc(slices.Clone(order), func(p phase) bool { return p.name == "probes" })
	}
	for _, ph := range order {
		if r.ctx.Err() != nil {
			break
		}
		rec := newRecorder(ph.name, r.countError)
		ph.run(r, rec)
		res := rec.finish()
		rep.Phases = append(rep.Phases, res)
		fmt.Fprintf(r.out, "# %-17s %6d calls %7d items %4d errors %8.2fs\n",
			res.Name, res.Calls, res.Items, res.Errors, res.Seconds)
	}
	if r.ctx.Err() != nil {
		rep.Stopped = context.Cause(r.ctx).Error()
		if len(rep.Phases) < len(order) {
			rep.Stopped += fmt.Sprintf(" (after phase %d of %d)", len(rep.Phases), len(order))
		}
	}
	rep.Seconds = time.Since(rep.StartedAt).Seconds()
	for _, p := range rep.Phases {
		rep.Calls += p.Calls
		rep.Errors += p.Errors
	}
	return rep
}

// countError stops the run once Config.MaxErrors errors were counted.
func (r *runner) countError() {
	n := r.errs.Add(1)
	if r.cfg.MaxErrors > 0 && n >= int64(r.cfg.MaxErrors) {
		r.cancel(fmt.Errorf("%w: %d (max-errors)", errTooManyErrors, n))
	}
}

// call runs f with the call timeout, records it as one call of method in rec,
// and returns f's error.
func (r *runner) call(rec *recorder, method string, items int, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.CallTimeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	rec.call(method, time.Since(start), items, err)
	return err
}

// parallel runs do(i) for every i in [0, n) on Config.Concurrency
// goroutines, each taking the next index when it is free; it stops handing
// out indexes once the run is stopped.
func (r *runner) parallel(n int, do func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.Concurrency, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || r.ctx.Err() != nil {
					return
				}
				do(i)
			}
		})
	}
	wg.Wait()
}

// client returns the API as org sees it.
func (r *runner) client(org string) *orgClient { return r.cs[org] }

// checkf records a failed check (a wrong answer rather than a failed call).
func checkf(rec *recorder, format string, args ...any) {
	rec.fail(fmt.Errorf("check: "+format, args...))
}
