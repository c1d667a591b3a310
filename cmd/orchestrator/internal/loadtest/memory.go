package loadtest

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Memory is what this process holds at the end of a run. With bench --self
// the server runs in this process, so it is the server's memory plus the
// load tool's (whose share is its plan of keys and the ids of one event
// walk, small next to the store's caches and the server's heap).
type Memory struct {
	// RSSMiB is the resident set size (VmRSS of /proc/self/status), 0
	// where there is no /proc.
	RSSMiB float64 `json:"rss_mib"`
	// PeakRSSMiB is the largest resident set size of the run (VmHWM).
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// HeapInuseMiB is the Go heap in use (runtime.MemStats.HeapInuse)
	// after a collection: what the live objects take.
	HeapInuseMiB float64 `json:"heap_inuse_mib"`
	// SysMiB is what the Go runtime obtained from the system.
	SysMiB float64 `json:"sys_mib"`
}

// readMemory measures this process's memory; it runs a collection first so
// that the heap figure is the live heap, not garbage not yet collected.
func readMemory() Memory {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := Memory{HeapInuseMiB: mib(ms.HeapInuse), SysMiB: mib(ms.Sys)}
	m.RSSMiB, m.PeakRSSMiB = procStatusKiB("VmRSS")/1024, procStatusKiB("VmHWM")/1024
	return m
}

// procStatusKiB returns the value, in KiB, of field of /proc/self/status,
// 0 when it cannot be read.
func procStatusKiB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			return 0
		}
		return n
	}
	return 0
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
