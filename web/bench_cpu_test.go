package web_test

import (
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
)

// profileIf writes a CPU profile of what runs until the returned stop to
// the file the environment variable env names, if it is set; a
// sub-benchmark's fan-out goes into the name (cpu.prof →
// cpu.fanout=32.prof), so each fan-out keeps its own.
func profileIf(b *testing.B, env string) (stop func()) {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	if i := strings.LastIndex(b.Name(), "fanout="); i >= 0 {
		ext := filepath.Ext(path)
		path = strings.TrimSuffix(path, ext) + "." + b.Name()[i:] + ext
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
