package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

func TestPhaseOrder(t *testing.T) {
	names := func(ps []phase) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.name)
		}
		return strings.Join(s, " ")
	}
	cfg := DefaultConfig()
	want := "organizations functions data plans tasks get-task query-tasks probes function-builds task-lifecycle query-done-tasks query-events subscribe-events"
	if got := names(phaseOrder(cfg)); got != want {
		t.Errorf("order\n%s\nwant\n%s", got, want)
	}
	cfg.BuildBeforeTasks = true
	want = "organizations functions function-builds data plans tasks get-task query-tasks probes task-lifecycle query-done-tasks query-events subscribe-events"
	if got := names(phaseOrder(cfg)); got != want {
		t.Errorf("build first: order\n%s\nwant\n%s", got, want)
	}
	cfg.BuildBeforeTasks = false
	cfg.WarmUp = true
	want = "organizations functions data plans tasks warm-up:query-tasks get-task query-tasks probes function-builds task-lifecycle query-done-tasks " +
		"warm-up:query-events warm-up:subscribe-events query-events subscribe-events"
	if got := names(phaseOrder(cfg)); got != want {
		t.Errorf("warm-up: order\n%s\nwant\n%s", got, want)
	}
	cfg.Phases = []string{"query-tasks", "query-events"}
	want = "organizations functions data plans tasks warm-up:query-tasks query-tasks warm-up:query-events query-events"
	if got := names(phaseOrder(cfg)); got != want {
		t.Errorf("warm-up of two phases: order\n%s\nwant\n%s", got, want)
	}
}

func TestReportErr(t *testing.T) {
	ok := &Report{Phases: []PhaseResult{{Name: "tasks"}}}
	if err := ok.Err(); err != nil {
		t.Errorf("no error: Err() = %v", err)
	}
	bad := &Report{Errors: 3, Phases: []PhaseResult{{Name: "plans"}, {Name: "tasks", Errors: 3, FirstErrors: []string{"RegisterTasks: boom"}}}}
	if err := bad.Err(); err == nil || err.Error() != "load test: 3 error(s) (first, in phase tasks: RegisterTasks: boom)" {
		t.Errorf("Err() = %v", err)
	}
	stopped := &Report{Stopped: "deadline of 1s passed"}
	if err := stopped.Err(); err == nil || !strings.Contains(err.Error(), "stopped: deadline of 1s passed") {
		t.Errorf("stopped: Err() = %v", err)
	}
}

// A server that is not there: every call fails, the run counts the errors,
// stops at max-errors, reports them and returns an error.
func TestRunAgainstNoServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more

	cfg := DefaultConfig()
	cfg.Addr = addr
	cfg.CallTimeout = 2 * time.Second
	cfg.Deadline = 20 * time.Second
	cfg.MaxErrors = 10
	var out bytes.Buffer
	start := time.Now()
	rep, err := Run(context.Background(), cfg, &out)
	if err == nil || rep == nil {
		t.Fatalf("Run = %v, %v; want a report and an error", rep, err)
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("the run took %v to give up", time.Since(start))
	}
	if rep.Errors < int64(cfg.MaxErrors) || !strings.Contains(rep.Stopped, "too many errors") {
		t.Errorf("errors %d, stopped %q; want >= %d and too many errors", rep.Errors, rep.Stopped, cfg.MaxErrors)
	}
	if rep.Config.Seed == 0 {
		t.Error("the report does not tell the seed the run picked")
	}
	text := out.String()
	if !strings.Contains(text, "error: organizations: RegisterOrganization: ") || !strings.Contains(text, "[Unavailable]") {
		t.Errorf("the output does not show the first errors:\n%s", text)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	var decoded Report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &decoded); err != nil || decoded.Errors != rep.Errors {
		t.Errorf("last line: %v, errors %d; want the JSON report with %d errors", err, decoded.Errors, rep.Errors)
	}
}

func TestRunInvalidConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Plans = -1
	rep, err := Run(context.Background(), cfg, &bytes.Buffer{})
	if rep != nil || err == nil || !strings.Contains(err.Error(), "plans: -1") {
		t.Errorf("Run = %v, %v; want no report and the config error", rep, err)
	}
}

func TestRunStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:1"
	rep, err := Run(ctx, cfg, &bytes.Buffer{})
	if err == nil || rep == nil || rep.Stopped == "" || len(rep.Phases) != 0 {
		t.Errorf("Run with a done context = %+v, %v; want no phase, stopped, an error", rep, err)
	}
}

func TestPhaseSelection(t *testing.T) {
	tests := []struct {
		phases     []string
		buildFirst bool
		noProbes   bool
		want       string
	}{
		{[]string{"tasks"}, false, false, "organizations functions data plans tasks"},
		{[]string{"tasks"}, true, false, "organizations functions function-builds data plans tasks"},
		{[]string{"get-task", "probes"}, false, false, "organizations functions data plans tasks get-task probes"},
		{[]string{"probes"}, false, true, "organizations functions data plans tasks"},
		{[]string{"query-done-tasks"}, false, false, "organizations functions data plans tasks function-builds task-lifecycle query-done-tasks"},
		{[]string{"subscribe-events"}, false, false, "query-events subscribe-events"},
		{[]string{"organizations"}, false, false, "organizations"},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		cfg.Phases, cfg.BuildBeforeTasks, cfg.Probes = tt.phases, tt.buildFirst, !tt.noProbes
		var got []string
		for _, p := range phaseOrder(cfg) {
			got = append(got, p.name)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("phases %v (build first %t, no probes %t): %v, want %s", tt.phases, tt.buildFirst, tt.noProbes, got, tt.want)
		}
	}
	// The selection does not change the package's list.
	if got := strings.Join(phaseNames(), " "); !strings.HasPrefix(got, "organizations functions data plans tasks get-task") || len(phases) != 13 {
		t.Errorf("phases now %s", got)
	}
}
