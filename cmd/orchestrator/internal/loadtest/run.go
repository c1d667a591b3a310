package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
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
	// Targets maps each organization to the address its calls went to.
	Targets map[string]string `json:"targets"`
	// ConnectMs is, per organization, how long its connection took to set
	// up (before the first phase, so in no phase's figures); missing when
	// it failed.
	ConnectMs map[string]float64 `json:"connect_ms"`
	// Stopped says why the run ended before its last phase ("" when it
	// did not).
	Stopped string `json:"stopped,omitempty"`
	// Memory is this process's memory at the end of the run (with bench
	// --self, the server's included).
	Memory Memory `json:"memory"`
	// ServerMemory is the memory of the servers under test at the end of
	// the run, from their metrics (Config.ServerMetrics).
	ServerMemory *ServerMemory `json:"server_memory,omitempty"`
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

	// Connections are set up before the first phase, so that no phase's
	// first calls pay for them; their time is reported apart.
	connectMs, failed := cs.connect(ctx, cfg.CallTimeout)
	fmt.Fprintf(out, "# targets: %s\n", describeTargets(cs.targets(), connectMs))
	if len(failed) > 0 {
		fmt.Fprintf(out, "# not connected (the calls will tell why): %s\n", strings.Join(failed, " "))
	}
	r := newRunner(cfg, cs, out)
	if r.sm = newServerMetrics(cfg.ServerMetrics, cfg.CallTimeout); r.sm != nil {
		if _, err := r.sm.sample(ctx); err != nil {
			return nil, fmt.Errorf("%w: %w", errNoServerMetrics, err)
		}
	}
	rep := r.run(ctx)
	rep.Targets, rep.ConnectMs = cs.targets(), connectMs
	rep.Memory = readMemory()
	if r.sm != nil {
		if s, err := r.sm.sample(ctx); err == nil {
			rep.ServerMemory = &ServerMemory{RSSMiB: s.rssBytes / (1 << 20), HeapInuseMiB: s.heapBytes / (1 << 20)}
		} else {
			fmt.Fprintf(out, "# servers' memory not read: %v\n", err)
		}
	}
	writeTable(out, rep)
	if err := writeJSON(out, rep); err != nil {
		return rep, err
	}
	return rep, rep.Err()
}

// describeTargets renders org -> address as "org=addr (connected in 1.20
// ms) ...".
func describeTargets(t map[string]string, connectMs map[string]float64) string {
	var items []string
	for _, org := range slices.Sorted(maps.Keys(t)) {
		item := org + "=" + t[org]
		if ms, ok := connectMs[org]; ok {
			item += fmt.Sprintf(" (connected in %.2f ms)", ms)
		}
		items = append(items, item)
	}
	return strings.Join(items, " ")
}

// runner holds the state of one run: what earlier phases achieved, which
// later phases build on.
type runner struct {
	cfg Config
	w   *workload
	cs  clients
	out io.Writer
	sm  *serverMetrics // nil without Config.ServerMetrics

	ctx    context.Context
	cancel context.CancelCauseFunc
	errs   atomic.Int64
	// workers is the most goroutines parallel ran at once in this phase.
	workers atomic.Int64

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

// phaseNames returns the names of the phases, in their default order.
func phaseNames() []string {
	names := make([]string, len(phases))
	for i, p := range phases {
		names[i] = p.name
	}
	return names
}

// needs returns the phases whose results phase name uses in a run of cfg:
// with Config.Phases, they run too.
func needs(cfg Config, name string) []string {
	switch name {
	case "functions", "data", "plans":
		return []string{"organizations"}
	case "tasks":
		if cfg.BuildBeforeTasks {
			return []string{"functions", "function-builds", "data", "plans"}
		}
		return []string{"functions", "data", "plans"}
	case "get-task", "query-tasks", "probes":
		return []string{"tasks"}
	case "function-builds":
		return []string{"functions"}
	case "task-lifecycle":
		return []string{"tasks", "function-builds"}
	case "query-done-tasks":
		return []string{"task-lifecycle"}
	case "subscribe-events":
		return []string{"query-events"}
	}
	return nil
}

// phaseOrder returns the phases of a run of cfg, in order: all of them, or
// those of Config.Phases and the ones they need; without the probes when
// Config.Probes is off; with the warm-up phases when Config.WarmUp is on.
func phaseOrder(cfg Config) []phase {
	var order []phase
	for _, ph := range phases {
		switch {
		case cfg.BuildBeforeTasks && ph.name == "function-builds":
		case cfg.BuildBeforeTasks && ph.name == "functions":
			order = append(order, ph, phases[slices.IndexFunc(phases, func(p phase) bool { return p.name == "function-builds" })])
		default:
			order = append(order, ph)
		}
	}
	if !cfg.Probes {
		order = slices.DeleteFunc(order, func(p phase) bool { return p.name == "probes" })
	}
	if len(cfg.Phases) > 0 {
		order = onlyPhases(cfg, order)
	}
	if cfg.WarmUp {
		order = withWarmUp(order)
	}
	return order
}

// onlyPhases keeps the phases of Config.Phases and the ones they need.
func onlyPhases(cfg Config, order []phase) []phase {
	keep := map[string]bool{}
	var add func(name string)
	add = func(name string) {
		if keep[name] {
			return
		}
		keep[name] = true
		for _, n := range needs(cfg, name) {
			add(n)
		}
	}
	for _, name := range cfg.Phases {
		add(name)
	}
	return slices.DeleteFunc(order, func(p phase) bool { return !keep[p.name] })
}

// withWarmUp inserts the warm-up phases (Config.WarmUp): a walk of the
// tasks before the first of get-task and query-tasks, a walk of the event
// log and a replay before query-events.
func withWarmUp(order []phase) []phase {
	var out []phase
	tasksDone := false
	has := func(name string) bool {
		return slices.ContainsFunc(order, func(p phase) bool { return p.name == name })
	}
	for _, ph := range order {
		switch {
		case (ph.name == "get-task" || ph.name == "query-tasks") && !tasksDone:
			out = append(out, phase{"warm-up:query-tasks", once((*runner).queryTasks)})
			tasksDone = true
		case ph.name == "query-events":
			out = append(out, phase{"warm-up:query-events", once((*runner).queryEvents)})
			if has("subscribe-events") {
				out = append(out, phase{"warm-up:subscribe-events", once((*runner).subscribeEvents)})
			}
		}
		out = append(out, ph)
	}
	return out
}

// once runs a read phase with a single read round.
func once(read func(*runner, *recorder)) func(*runner, *recorder) {
	return func(r *runner, rec *recorder) {
		rounds := r.cfg.ReadRounds
		r.cfg.ReadRounds = 1
		defer func() { r.cfg.ReadRounds = rounds }()
		read(r, rec)
	}
}

func (r *runner) run(parent context.Context) *Report {
	rep := &Report{Config: r.cfg, StartedAt: time.Now().UTC()}
	ctx, cancelDeadline := context.WithTimeoutCause(parent, r.cfg.Deadline,
		fmt.Errorf("deadline of %v passed", r.cfg.Deadline))
	defer cancelDeadline()
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	defer r.cancel(nil)

	order := phaseOrder(r.cfg)
	for _, ph := range order {
		if r.ctx.Err() != nil {
			break
		}
		r.workers.Store(0)
		// The servers' metrics are read outside the phase's clock.
		before, beforeErr := r.serverSample()
		rec := newRecorder(ph.name, r.countError)
		cpu := processCPU()
		ph.run(r, rec)
		cpu = processCPU() - cpu
		res := rec.finish()
		after, afterErr := r.serverSample()
		serverOK := r.sm != nil && beforeErr == nil && afterErr == nil
		for _, err := range []error{beforeErr, afterErr} {
			if err != nil {
				res.Notes = append(res.Notes, err.Error())
			}
		}
		res.CPUSeconds = cpu
		if serverOK {
			res.ServerCPUSeconds = after.cpuSeconds - before.cpuSeconds
		}
		if res.Items > 0 {
			res.CPUMicrosPerItem = res.CPUSeconds * 1e6 / float64(res.Items)
			res.ServerCPUMicrosPerItem = res.ServerCPUSeconds * 1e6 / float64(res.Items)
		}
		res.Workers = int(r.workers.Load())
		if res.Workers == 0 && res.Calls > 0 {
			res.Workers = 1 // its calls, one after the other
		}
		rep.Phases = append(rep.Phases, res)
		server := ""
		if serverOK {
			server = fmt.Sprintf(", server CPU %.2fs (%.1f µs per item)", res.ServerCPUSeconds, res.ServerCPUMicrosPerItem)
		}
		fmt.Fprintf(r.out, "# %-17s %6d calls %7d items %4d errors %8.2fs, CPU %.2fs (%.1f µs per item)%s\n",
			res.Name, res.Calls, res.Items, res.Errors, res.Seconds, res.CPUSeconds, res.CPUMicrosPerItem, server)
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

// serverSample reads the servers' metrics, if the run has them. A failure
// becomes a note of the phase, whose server figures are then left out; it
// is not an error of the run.
func (r *runner) serverSample() (serverSample, error) {
	if r.sm == nil {
		return serverSample{}, nil
	}
	return r.sm.sample(r.ctx)
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
	k := int64(min(r.cfg.Concurrency, n))
	for {
		w := r.workers.Load()
		if w >= k || r.workers.CompareAndSwap(w, k) {
			break
		}
	}
	for range k {
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
