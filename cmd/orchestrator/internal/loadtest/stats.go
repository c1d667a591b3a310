package loadtest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/status"
)

// maxErrorSamples is how many error messages a phase keeps (the first ones).
const maxErrorSamples = 5

// recorder collects the calls of one phase. It is safe for concurrent use.
type recorder struct {
	name  string
	start time.Time
	// onError is called (outside the lock) after every recorded error; the
	// run uses it to stop after too many errors.
	onError func()

	mu      sync.Mutex
	end     time.Time
	items   int64
	errs    int64
	samples []string
	total   histogram
	methods map[string]*methodStats
	notes   []string
}

type methodStats struct {
	calls, errs int64
	h           histogram
}

func newRecorder(name string, onError func()) *recorder {
	return &recorder{name: name, start: time.Now(), methods: map[string]*methodStats{}, onError: onError}
}

// call records one call of method that took d and returned err; items is
// what the call moved (tasks registered, events read...) when it succeeded.
func (r *recorder) call(method string, d time.Duration, items int, err error) {
	r.mu.Lock()
	m := r.methods[method]
	if m == nil {
		m = &methodStats{}
		r.methods[method] = m
	}
	m.calls++
	m.h.add(d)
	r.total.add(d)
	if err == nil {
		r.items += int64(items)
		r.mu.Unlock()
		return
	}
	m.errs++
	r.mu.Unlock()
	r.fail(fmt.Errorf("%s: %w", method, err))
}

// addItems counts n items that no single call moved (a page walk's
// results, counted once the page is checked).
func (r *recorder) addItems(n int) {
	r.mu.Lock()
	r.items += int64(n)
	r.mu.Unlock()
}

// fail records an error that is not the outcome of one call (a check that
// found a wrong answer, a stream that ended early).
func (r *recorder) fail(err error) {
	r.mu.Lock()
	r.errs++
	if len(r.samples) < maxErrorSamples {
		r.samples = append(r.samples, errorText(err))
	}
	r.mu.Unlock()
	if r.onError != nil {
		r.onError()
	}
}

// note adds a remark to the phase report (things that are not errors).
func (r *recorder) note(format string, args ...any) {
	r.mu.Lock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// finish stops the phase clock and returns its result.
func (r *recorder) finish() PhaseResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.end.IsZero() {
		r.end = time.Now()
	}
	secs := r.end.Sub(r.start).Seconds()
	res := PhaseResult{
		Name:         r.name,
		Seconds:      secs,
		Items:        r.items,
		Errors:       r.errs,
		FirstErrors:  slices.Clone(r.samples),
		Notes:        slices.Clone(r.notes),
		Latency:      latencyOf(&r.total),
		CallsPerSec:  rate(int64(r.total.n), secs),
		ItemsPerSec:  rate(r.items, secs),
		Calls:        int64(r.total.n),
		MethodErrors: 0,
	}
	for _, name := range slices.Sorted(maps.Keys(r.methods)) {
		m := r.methods[name]
		res.Methods = append(res.Methods, MethodResult{
			Method:      name,
			Calls:       m.calls,
			Errors:      m.errs,
			CallsPerSec: rate(m.calls, secs),
			Latency:     latencyOf(&m.h),
		})
		res.MethodErrors += m.errs
	}
	return res
}

func rate(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

func latencyOf(h *histogram) Latency {
	return Latency{
		P50ms:  ms(h.quantile(0.50)),
		P90ms:  ms(h.quantile(0.90)),
		P99ms:  ms(h.quantile(0.99)),
		MaxMs:  ms(time.Duration(h.max)),
		MeanMs: ms(h.mean()),
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// errorText renders err for a report: the gRPC code and message when it
// carries a status.
func errorText(err error) string {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		s := se.GRPCStatus()
		return fmt.Sprintf("%s [%s]", err.Error(), s.Code())
	}
	return err.Error()
}

// Latency summarises the call durations of a phase or a method, in
// milliseconds.
type Latency struct {
	P50ms  float64 `json:"p50_ms"`
	P90ms  float64 `json:"p90_ms"`
	P99ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
	MeanMs float64 `json:"mean_ms"`
}

// MethodResult is what one RPC method did during a phase.
type MethodResult struct {
	Method      string  `json:"method"`
	Calls       int64   `json:"calls"`
	Errors      int64   `json:"errors"`
	CallsPerSec float64 `json:"calls_per_s"`
	Latency
}

// PhaseResult is the outcome of one phase of the workload.
type PhaseResult struct {
	Name        string  `json:"phase"`
	Seconds     float64 `json:"seconds"`
	Calls       int64   `json:"calls"`
	Items       int64   `json:"items"`
	CallsPerSec float64 `json:"calls_per_s"`
	ItemsPerSec float64 `json:"items_per_s"`
	Latency
	// Errors counts every failed call and every failed check of the phase.
	Errors int64 `json:"errors"`
	// MethodErrors counts the failed calls only.
	MethodErrors int64          `json:"call_errors"`
	FirstErrors  []string       `json:"first_errors,omitempty"`
	Notes        []string       `json:"notes,omitempty"`
	Methods      []MethodResult `json:"methods"`
	// CPUSeconds is the CPU time this process used during the phase (see
	// processCPU: with bench --self, the server's and the tool's), and
	// CPUMicrosPerItem the same per item; 0 where there is no /proc.
	CPUSeconds       float64 `json:"cpu_s"`
	CPUMicrosPerItem float64 `json:"cpu_us_per_item"`
	// ServerCPUSeconds is the CPU time the servers under test used during
	// the phase, as their metrics report it (Config.ServerMetrics), and
	// ServerCPUMicrosPerItem the same per item; absent without them.
	ServerCPUSeconds       float64 `json:"server_cpu_s,omitempty"`
	ServerCPUMicrosPerItem float64 `json:"server_cpu_us_per_item,omitempty"`
	// Workers is how many goroutines shared the phase's work at most:
	// Config.Concurrency, or fewer when the phase had fewer units of work
	// (plans, for the tasks phase); 1 for a sequential phase.
	Workers int `json:"workers"`
}
