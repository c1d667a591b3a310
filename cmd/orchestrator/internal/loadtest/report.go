package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// writeTable writes the human-readable report: a row per phase, a row per
// method of the phases that call several, then the errors and notes. A
// p99 of fewer than 100 calls, which is their maximum, is marked "*".
func writeTable(out io.Writer, rep *Report) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "phase\tcalls\titems\terrors\tseconds\tcalls/s\titems/s\tp50 ms\tp99 ms\tmax ms\tworkers\t\n")
	marked := false
	p99 := func(calls int64, v float64) string {
		if calls > 0 && calls < 100 {
			marked = true
			return fmt.Sprintf("%.2f*", v)
		}
		return fmt.Sprintf("%.2f", v)
	}
	for _, p := range rep.Phases {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2f\t%.1f\t%.1f\t%.2f\t%s\t%.2f\t%d\t\n",
			p.Name, p.Calls, p.Items, p.Errors, p.Seconds, p.CallsPerSec, p.ItemsPerSec, p.P50ms, p99(p.Calls, p.P99ms), p.MaxMs, p.Workers)
		if len(p.Methods) < 2 {
			continue
		}
		for _, m := range p.Methods {
			fmt.Fprintf(tw, "  %s\t%d\t\t%d\t\t%.1f\t\t%.2f\t%s\t%.2f\t\t\n",
				m.Method, m.Calls, m.Errors, m.CallsPerSec, m.P50ms, p99(m.Calls, m.P99ms), m.MaxMs)
		}
	}
	fmt.Fprintf(tw, "total\t%d\t\t%d\t%.2f\t\t\t\t\t\t\t\n", rep.Calls, rep.Errors, rep.Seconds)
	_ = tw.Flush()
	if marked {
		fmt.Fprintln(out, "* p99 of fewer than 100 calls: their slowest call (nearest rank)")
	}
	if m := rep.Memory; m.SysMiB > 0 {
		fmt.Fprintf(out, "memory of this process (with --self, the server's too): RSS %.0f MiB (peak %.0f), Go heap in use %.0f MiB, Go runtime total %.0f MiB\n",
			m.RSSMiB, m.PeakRSSMiB, m.HeapInuseMiB, m.SysMiB)
	}
	if m := rep.ServerMemory; m != nil {
		fmt.Fprintf(out, "memory of the servers (their metrics): RSS %.0f MiB, Go heap in use %.0f MiB\n", m.RSSMiB, m.HeapInuseMiB)
	}
	for _, p := range rep.Phases {
		for _, n := range p.Notes {
			fmt.Fprintf(out, "note: %s: %s\n", p.Name, n)
		}
	}
	for _, p := range rep.Phases {
		for _, e := range p.FirstErrors {
			fmt.Fprintf(out, "error: %s: %s\n", p.Name, e)
		}
		if more := p.Errors - int64(len(p.FirstErrors)); more > 0 {
			fmt.Fprintf(out, "error: %s: ... and %d more\n", p.Name, more)
		}
	}
	if rep.Stopped != "" {
		fmt.Fprintf(out, "stopped: %s\n", rep.Stopped)
	}
}

// writeJSON writes the whole report as one JSON line.
func writeJSON(out io.Writer, rep *Report) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("load test report: %w", err)
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}
