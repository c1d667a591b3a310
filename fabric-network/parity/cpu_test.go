package parity_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ,
// 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuTimes returns the CPU time (user + system) used so far by each process
// that network-up.sh started (by its name in $FABRIC_STATE/pids, read
// from /proc), and by this test process as "client". Processes it cannot
// read (not Linux, a Docker runner) are left out.
func cpuTimes() map[string]time.Duration {
	times := map[string]time.Duration{}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		times["client"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	env := os.Getenv("FABRIC_ENV")
	if env == "" {
		return times
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(env), "pids", "*.pid"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command name, in parentheses, may hold spaces: the fields
		// counted from 1 start after it, utime and stime are 14 and 15.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 13 {
			continue
		}
		utime, err1 := strconv.ParseInt(fields[11], 10, 64)
		stime, err2 := strconv.ParseInt(fields[12], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		times[strings.TrimSuffix(filepath.Base(f), ".pid")] = time.Duration(utime+stime) * clockTick
	}
	return times
}

// cpuPerSubmit formats the CPU time each process used between before and
// after, divided by n submits: "peer1 30.1, peer2 27.0, ..., total 80.2 ms".
func cpuPerSubmit(before, after map[string]time.Duration, n int) string {
	if n == 0 {
		return ""
	}
	var names []string
	for name := range after {
		if _, ok := before[name]; ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var parts []string
	var total time.Duration
	for _, name := range names {
		d := after[name] - before[name]
		total += d
		parts = append(parts, fmt.Sprintf("%s %.1f", name, ms(d)/float64(n)))
	}
	parts = append(parts, fmt.Sprintf("total %.1f ms", ms(total)/float64(n)))
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
