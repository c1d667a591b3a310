package loadtest

import (
	"bytes"
	"os"
	"strconv"
)

// userHZ is the unit of the CPU times of /proc/PID/stat (USER_HZ, 100 on
// every Linux architecture).
const userHZ = 100

// processCPU returns the CPU time, user and system, this process has used
// so far in seconds (utime and stime of /proc/self/stat), 0 where there is
// no /proc. A phase's share is what the machine's cores spent on it: with
// bench --self, the server's work and the load tool's; unlike calls/s it
// hardly moves when other processes share the cores, which makes it the
// figure to compare binaries by on a busy machine.
func processCPU() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a
// /proc/PID/stat line; the command name, field 2, is in parentheses and
// may hold spaces, so fields are counted after its closing one.
func parseStatCPU(b []byte) float64 {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return float64(ut+st) / userHZ
}
