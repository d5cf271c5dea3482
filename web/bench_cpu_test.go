package web_test

import (
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cpuUse is CPU time consumed so far by this process and by every
// PostgreSQL process on the machine (read from /proc; zero elsewhere),
// so the benchmark can say where each delivery's CPU goes.
type cpuUse struct{ self, postgres time.Duration }

func readCPU() cpuUse {
	var u cpuUse
	u.self = procCPU("/proc/self/stat")
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		comm, err := os.ReadFile(filepath.Join(filepath.Dir(s), "comm"))
		if err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			u.postgres += procCPU(s)
		}
	}
	return u
}

func (u cpuUse) sub(v cpuUse) cpuUse { return cpuUse{u.self - v.self, u.postgres - v.postgres} }

// procCPU reads utime+stime, plus cutime+cstime (the postmaster's exited
// backends), from a /proc stat file (clock ticks of 10 ms).
func procCPU(path string) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name, which is in parentheses and may hold spaces.
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 15 {
		return 0
	}
	var ticks int64
	for _, f := range fields[11:15] {
		n, _ := strconv.ParseInt(f, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// profileIf writes a CPU profile of what runs until the returned stop to
// the file the environment variable env names, if it is set.
func profileIf(b *testing.B, env string) (stop func()) {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
