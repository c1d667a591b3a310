package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBench runs a small `orchestrator bench` against a server and checks
// its JSON report.
func TestBench(t *testing.T) {
	p := startProc(t, "--data", t.TempDir())
	out, errOut, code := runCLI(t, nil, "bench", "--addr", p.addr, "--functions", "2", "--samples", "20", "--sample-batch", "10",
		"--plans", "2", "--tasks-per-plan", "5", "--task-batch", "5", "--samples-per-task", "2", "--get-tasks", "20", "--concurrency", "2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var report struct {
		Calls  int `json:"calls"`
		Errors int `json:"errors"`
		Phases []struct {
			Phase string `json:"phase"`
		} `json:"phases"`
	}
	if code != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &report) != nil {
		t.Fatalf("bench: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if report.Errors != 0 || report.Calls < 50 || len(report.Phases) < 8 {
		t.Fatalf("bench report: %+v", report)
	}
	p.stop()
}
