package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/cmd/orchestrator/internal/loadtest"
)

// serverPackage is the server the integration test builds and runs.
const serverPackage = "github.com/fedchain/orchestrator/cmd/orchestrator"

// startServer builds cmd/orchestrator and serves it in solo mode, with the
// extra flags given, on a free loopback port for the duration of the test;
// it fails the test when the server does not build or start. LOADTEST_ADDR names an
// already running server instead (not with extra flags).
func startServer(t *testing.T, extra ...string) string {
	t.Helper()
	if addr := os.Getenv("LOADTEST_ADDR"); addr != "" && len(extra) == 0 {
		return addr
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "orchestrator")
	build := exec.Command("go", "build", "-o", bin, serverPackage)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the server (%s): %v\n%s", serverPackage, err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	var logs bytes.Buffer
	args := append([]string{"solo", "--listen", addr, "--data", filepath.Join(dir, "data"), "--log-level", "warn"}, extra...)
	srv := exec.Command(bin, args...)
	srv.Stdout, srv.Stderr = &logs, &logs
	srv.Env = cleanEnv()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = srv.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("the server exited at start (%v):\n%s", err, logs.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not listening on %s after 30s:\n%s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cleanEnv is the environment without ORCHESTRATOR_ settings of the caller.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORCHESTRATOR_") {
			env = append(env, kv)
		}
	}
	return env
}

// smallConfig is a workload of a few seconds that still crosses every
// boundary: several batches per plan, several pages per walk, shared
// functions.
func smallConfig(addr string, seed int64) loadtest.Config {
	cfg := loadtest.DefaultConfig()
	cfg.Addr = addr
	cfg.Seed = seed
	cfg.Functions = 3
	cfg.Samples = 20
	cfg.SampleBatch = 6
	cfg.Plans = 3
	cfg.TasksPerPlan = 5
	cfg.TaskBatch = 2
	cfg.SamplesPerTask = 3
	cfg.GetTasks = 40
	cfg.TaskPageSize = 2
	cfg.EventPageSize = 7
	cfg.Concurrency = 4
	cfg.CallTimeout = 20 * time.Second
	cfg.Deadline = 3 * time.Minute
	cfg.MaxErrors = 20
	return cfg
}

func TestRunAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds and runs the server")
	}
	addr := startServer(t)
	ctx := context.Background()
	// Seeds from the clock: a server given by LOADTEST_ADDR may have seen
	// earlier runs.
	seed := time.Now().UnixNano()

	// Twice, building the functions before the tasks, then after them (the
	// builds release the waiting tasks). The second run finds the
	// organizations registered and its own keys (another seed) free,
	// replays the events of both, and reads everything twice.
	for run, buildFirst := range []bool{true, false} {
		cfg := smallConfig(addr, seed+int64(run))
		cfg.BuildBeforeTasks = buildFirst
		cfg.ReadRounds = run + 1
		rounds := int64(run + 1)
		cfg.WarmUp = run == 1
		var out bytes.Buffer
		rep, err := loadtest.Run(ctx, cfg, &out)
		t.Logf("run %d (build-before-tasks %t):\n%s", run+1, buildFirst, out.String())
		if err != nil {
			t.Errorf("run %d (build-before-tasks %t): %v", run+1, buildFirst, err)
			continue
		}
		items := map[string]int64{}
		for _, p := range rep.Phases {
			items[p.Name] = p.Items
		}
		tasks := int64(cfg.Plans * cfg.TasksPerPlan)
		want := map[string]int64{
			"functions":        int64(cfg.Functions),
			"data":             int64(cfg.Samples),
			"plans":            int64(cfg.Plans),
			"tasks":            tasks,
			"get-task":         int64(cfg.GetTasks),
			"query-tasks":      tasks * rounds,
			"function-builds":  int64(cfg.Functions),
			"task-lifecycle":   tasks,
			"query-done-tasks": tasks * rounds,
			"probes":           8,
		}
		for phase, n := range want {
			if items[phase] != n {
				t.Errorf("run %d: phase %s moved %d items, want %d", run+1, phase, items[phase], n)
			}
		}
		// QueryEvents walks every event once per worker, and once more by
		// asset kind, per read round; each round replays every event, then
		// the resumption starts after the middle one.
		walks := int64(cfg.Concurrency)*rounds + 1
		q := items["query-events"]
		if e := q / walks; q == 0 || q%walks != 0 || items["subscribe-events"] != e*rounds+e-e/2-1 {
			t.Errorf("run %d: subscriptions delivered %d events, QueryEvents %d in %d walks", run+1, items["subscribe-events"], q, walks)
		}
		// The warm-up reads everything once more, in one round.
		if cfg.WarmUp {
			e := q / walks
			warm := map[string]int64{
				"warm-up:query-tasks":      tasks,
				"warm-up:query-events":     e * (int64(cfg.Concurrency) + 1),
				"warm-up:subscribe-events": e + e - e/2 - 1,
			}
			for phase, n := range warm {
				if items[phase] != n {
					t.Errorf("run %d: phase %s moved %d items, want %d", run+1, phase, items[phase], n)
				}
			}
		} else {
			for _, p := range rep.Phases {
				if strings.HasPrefix(p.Name, "warm-up:") {
					t.Errorf("run %d: phase %s without --warm-up", run+1, p.Name)
				}
			}
		}
		// The last line is the JSON report.
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var decoded loadtest.Report
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &decoded); err != nil {
			t.Fatalf("run %d: last line is not the JSON report: %v", run+1, err)
		}
		if len(decoded.Phases) != len(rep.Phases) || decoded.Calls != rep.Calls {
			t.Errorf("run %d: JSON report has %d phases %d calls, want %d %d", run+1, len(decoded.Phases), decoded.Calls, len(rep.Phases), rep.Calls)
		}
	}

	// The same seed again: every registration collides, which the run must
	// count as errors and stop on (max-errors), not hide.
	cfg := smallConfig(addr, seed)
	cfg.MaxErrors = 5
	var out bytes.Buffer
	rep, err := loadtest.Run(ctx, cfg, &out)
	if err == nil || rep == nil || rep.Errors == 0 {
		t.Fatalf("rerun with the same seed: err %v, report %+v; want errors", err, rep)
	}
	if rep.Stopped == "" {
		t.Errorf("rerun with the same seed did not stop early after %d errors", rep.Errors)
	}
	if !strings.Contains(out.String(), "AlreadyExists") {
		t.Errorf("rerun with the same seed: the output does not show the AlreadyExists errors:\n%s", out.String())
	}
}

// TestFullWorkload runs the default (full-size) workload against the
// server: LOADTEST_FULL=1 go test ./loadtest -run TestFullWorkload -v
// LOADTEST_ARGS holds bench flags to change it (LOADTEST_ARGS="--concurrency
// 32 --build-before-tasks"); LOADTEST_ADDR targets a running server.
func TestFullWorkload(t *testing.T) {
	if os.Getenv("LOADTEST_FULL") == "" {
		t.Skip("skipping: set LOADTEST_FULL=1 to run the full-size workload")
	}
	cfg := loadtest.DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(strings.Fields(os.Getenv("LOADTEST_ARGS"))); err != nil {
		t.Fatalf("LOADTEST_ARGS: %v", err)
	}
	cfg.Addr = startServer(t)
	var out bytes.Buffer
	_, err := loadtest.Run(context.Background(), cfg, &out)
	t.Logf("full workload (%s):\n%s", os.Getenv("LOADTEST_ARGS"), out.String())
	if err != nil {
		t.Fatal(err)
	}
}

// With the server's metrics endpoint, every phase reports the server's own
// CPU, and the run its memory.
func TestRunReportsServerMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds and runs the server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metrics := l.Addr().String()
	l.Close()
	addr := startServer(t, "--metrics-listen", metrics)
	cfg := smallConfig(addr, time.Now().UnixNano())
	cfg.Phases = []string{"tasks", "get-task"}
	cfg.ServerMetrics = []string{"http://" + metrics + "/metrics"}
	var out bytes.Buffer
	rep, err := loadtest.Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var cpu float64
	for _, p := range rep.Phases {
		cpu += p.ServerCPUSeconds
		if p.ServerCPUSeconds < 0 || p.ServerCPUSeconds > p.Seconds*float64(runtime.NumCPU())+0.05 {
			t.Errorf("phase %s: server CPU %.2fs in %.2fs", p.Name, p.ServerCPUSeconds, p.Seconds)
		}
	}
	// Registering and reading a few hundred tasks takes the server more
	// than the 10 ms its CPU counter counts by.
	if cpu <= 0 {
		t.Errorf("server CPU over the run: %.2fs, want > 0\n%s", cpu, out.String())
	}
	if m := rep.ServerMemory; m == nil || m.RSSMiB <= 0 || m.HeapInuseMiB <= 0 {
		t.Errorf("server memory %+v, want RSS and heap", m)
	}
	if !strings.Contains(out.String(), "server CPU") || !strings.Contains(out.String(), "memory of the servers") {
		t.Errorf("output does not show the server's figures:\n%s", out.String())
	}
}
