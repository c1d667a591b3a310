package loadtest

import (
	"runtime"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	for _, c := range []struct {
		line string
		want float64
	}{
		{"4242 (orchestrator) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250 75 0 0 20 0 9 0 100 0 0", 3.25},
		{"7 (a b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 0 0", 0.03},
		{"7 (cut) R 1 7 7 0 -1 0 0 0", 0},
		{"no parenthesis", 0},
		{"7 (x) R 1 7 7 0 -1 0 0 0 0 0 ab 2 0", 0},
	} {
		if got := parseStatCPU([]byte(c.line)); got != c.want {
			t.Errorf("parseStatCPU(%q) = %v, want %v", c.line, got, c.want)
		}
	}
}

// TestProcessCPU checks that spinning shows in processCPU (where there is
// /proc): it must count 50 ms of CPU within 10 s, however busy the machine.
func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("not Linux: processCPU reads /proc/self/stat, which this system lacks (the load tool then reports CPU as 0)")
	}
	before := processCPU()
	for deadline := time.Now().Add(10 * time.Second); processCPU()-before < 0.05; {
		if time.Now().After(deadline) {
			t.Fatalf("10 s of spinning counted as %.2f s of CPU", processCPU()-before)
		}
		for end := time.Now().Add(10 * time.Millisecond); time.Now().Before(end); {
		}
	}
}
