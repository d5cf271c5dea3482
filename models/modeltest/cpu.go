package modeltest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RunTime is the time process pid has run on a CPU, from
// /proc/<pid>/schedstat (precise, unlike the 10 ms ticks of stat); 0 if
// it cannot be read. Benchmarks price a PostgreSQL backend's work with it.
func RunTime(pid int) time.Duration {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "schedstat"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0
	}
	ns, _ := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns)
}
