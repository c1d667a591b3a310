package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeMetrics serves the text format with a CPU counter that grows by step
// on each scrape.
func fakeMetrics(t *testing.T, step float64, body string) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cpu := float64(n.Add(1)) * step
		fmt.Fprintf(w, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\n%s", cpu, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestServerMetricsSample(t *testing.T) {
	mem := "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1.048576e+08\n" +
		"# TYPE go_memstats_heap_inuse_bytes gauge\ngo_memstats_heap_inuse_bytes 2.097152e+07\n"
	a, b := fakeMetrics(t, 1.5, mem), fakeMetrics(t, 0.25, mem)
	m := newServerMetrics([]string{a.URL + "/metrics", b.URL + "/metrics"}, 5*time.Second)
	ctx := context.Background()
	first, err := m.sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Summed over the two servers: each scrape adds 1.5 + 0.25 seconds.
	if d := second.cpuSeconds - first.cpuSeconds; d != 1.75 {
		t.Errorf("CPU between two samples: %g s, want 1.75", d)
	}
	if second.rssBytes != 2*100<<20 || second.heapBytes != 2*20<<20 {
		t.Errorf("memory: RSS %g heap %g bytes, want %d and %d", second.rssBytes, second.heapBytes, 2*100<<20, 2*20<<20)
	}
	if newServerMetrics(nil, time.Second) != nil {
		t.Error("no URL: want no scraper")
	}
}

func TestServerMetricsErrors(t *testing.T) {
	noCPU := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE up gauge\nup 1\n")
	}))
	defer noCPU.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer broken.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "process_cpu_seconds_total{ 3\n")
	}))
	defer garbage.Close()
	for _, tc := range []struct {
		name, url, want string
	}{
		{"not an orchestrator", noCPU.URL, "no process_cpu_seconds_total"},
		{"HTTP error", broken.URL, "500"},
		{"not the text format", garbage.URL, "parse"},
		{"nothing there", "http://127.0.0.1:1/metrics", "server metrics http://127.0.0.1:1/metrics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newServerMetrics([]string{tc.url}, 5*time.Second).sample(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// A run whose metrics endpoint does not answer stops before its first
// phase, with the reason.
func TestRunWithoutServerMetrics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:1"
	cfg.ServerMetrics = []string{"http://127.0.0.1:1/metrics"}
	cfg.CallTimeout = 2 * time.Second
	var out strings.Builder
	rep, err := Run(context.Background(), cfg, &out)
	if rep != nil || err == nil || !strings.Contains(err.Error(), "cannot read the servers' metrics") {
		t.Fatalf("Run = %v, %v; want no report and the metrics error", rep, err)
	}
}

// Metrics that stop answering during a run leave the phase's server
// figures out and say why in its notes; the run goes on.
func TestServerMetricsLostMidRun(t *testing.T) {
	var scrapes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if scrapes.Add(1) > 1 {
			http.Error(w, "gone", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1\n")
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:1" // no gRPC server: the phase's calls fail fast
	cfg.Phases = []string{"organizations"}
	cfg.ServerMetrics = []string{srv.URL + "/metrics"}
	cfg.CallTimeout = 2 * time.Second
	var out strings.Builder
	rep, _ := Run(context.Background(), cfg, &out)
	if rep == nil || len(rep.Phases) != 1 {
		t.Fatalf("report %+v\n%s", rep, out.String())
	}
	p := rep.Phases[0]
	if p.ServerCPUSeconds != 0 || !strings.Contains(strings.Join(p.Notes, "\n"), "503") {
		t.Errorf("phase: server CPU %g, notes %q; want none and the metrics error", p.ServerCPUSeconds, p.Notes)
	}
	if rep.ServerMemory != nil || !strings.Contains(out.String(), "servers' memory not read") {
		t.Errorf("server memory %+v; want none, and said\n%s", rep.ServerMemory, out.String())
	}
}
