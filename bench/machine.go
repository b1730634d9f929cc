package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// Machine describes where the benchmark ran.
type Machine struct {
	Cores    int
	CPU      string
	Memory   uint64 // bytes
	Go       string
	OS       string
	Kernel   string
	LoadAvg  string        // /proc/loadavg at the start
	FsyncP50 time.Duration // one 4 KiB write + fsync in the temporary directory
	FsyncDir string
	Build    string // the measured binary's version and source revision
}

// probeMachine reads the machine's description and times fsync in dir.
func probeMachine(dir, version string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), FsyncDir: filepath.Dir(dir)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = cpuModel(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.Memory, _ = parseStatusKB(string(b), "MemTotal")
	}
	m.OS = osName()
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.Kernel = utsString(u.Sysname[:]) + " " + utsString(u.Release[:]) + " " + utsString(u.Machine[:])
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	m.FsyncP50 = fsyncLatency(dir, 100)
	m.Build = "atrium " + version + ", revision " + buildRevision()
	return m
}

// buildRevision returns the revision the binary was built from, marked
// "+changes" when the work tree had uncommitted changes.
func buildRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown (built without version control stamping)"
	}
	if dirty {
		rev += "+changes"
	}
	return rev
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel(cpuinfo string) string {
	for line := range strings.Lines(cpuinfo) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func osName() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}

func utsString(b []int8) string {
	var s strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		s.WriteByte(byte(c))
	}
	return s.String()
}

// fsyncLatency returns the median time of n appends of 4 KiB, each
// followed by fsync, which bounds how many commits per second a durable
// database can make one after another.
func fsyncLatency(dir string, n int) time.Duration {
	f, err := os.Create(filepath.Join(dir, "fsync-probe"))
	if err != nil {
		return 0
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, 4096)
	samples := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		if _, err := f.Write(block); err != nil || f.Sync() != nil {
			return 0
		}
		samples = append(samples, time.Since(t))
	}
	return Summarize(samples).P50
}
