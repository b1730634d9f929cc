package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc (USER_HZ), 100 per
// second on every Linux architecture's user-space ABI.
const clockTick = time.Second / 100

// procStat is what the benchmark reads from /proc/<pid>/stat.
type procStat struct {
	comm string
	ppid int
	cpu  time.Duration // utime + stime
}

// parseStat parses the text of /proc/<pid>/stat. The command name (field
// 2) may hold spaces and parentheses, so the fields are counted from the
// last ')'.
func parseStat(stat string) (procStat, error) {
	open, i := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || i < open {
		return procStat{}, fmt.Errorf("malformed stat line")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("malformed stat line: %d fields", len(f))
	}
	ppid, err0 := strconv.Atoi(f[1])
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err0 != nil || err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("malformed stat line: ppid %q utime %q stime %q", f[1], f[11], f[12])
	}
	return procStat{comm: stat[open+1 : i], ppid: ppid, cpu: time.Duration(utime+stime) * clockTick}, nil
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// processCPU returns the user and system CPU time a process has used.
func processCPU(pid int) (time.Duration, error) {
	st, err := readStat(pid)
	return st.cpu, err
}

// parseStatusKB returns a "Name:   123 kB" field of /proc/<pid>/status or
// /proc/meminfo in bytes.
func parseStatusKB(status, name string) (uint64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		return kb << 10, err
	}
	return 0, fmt.Errorf("no %s field", name)
}

// processRSS returns a process's resident set size.
func processRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(string(b), "VmRSS")
}

// parseMachineCPU returns the busy and total ticks of all cores from the
// first line of /proc/stat.
func parseMachineCPU(stat string) (busy, total uint64, err error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("malformed /proc/stat")
	}
	for i, v := range f[1:min(len(f), 9)] { // user … steal; guest is inside user
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}

func machineCPU() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	busy, total, _ = parseMachineCPU(string(b))
	return busy, total
}

// Who a process's CPU time is charged to.
type procKind int

const (
	kindOther   procKind = iota // any other process
	kindServer                  // the atrium server
	kindBench                   // this load generator
	kindDB                      // a PostgreSQL backend of the bench database
	kindKthread                 // a kernel thread (journal, writeback, softirq…)
)

type procCPU struct {
	kind procKind
	cpu  time.Duration
}

// scanProcesses reads the CPU time of every process and says whose it is.
func scanProcesses(serverPID int, db string) map[int]procCPU {
	out := map[int]procCPU{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	self := os.Getpid()
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue
		}
		out[pid] = procCPU{kind: classify(pid, st, serverPID, self, db), cpu: st.cpu}
	}
	return out
}

func classify(pid int, st procStat, serverPID, self int, db string) procKind {
	switch {
	case pid == serverPID:
		return kindServer
	case pid == self:
		return kindBench
	case pid == 2 || st.ppid == 2:
		return kindKthread
	case db != "" && st.comm == "postgres":
		title, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if isBackendOf(title, db) {
			return kindDB
		}
	}
	return kindOther
}

// isBackendOf reports whether a process title is that of a PostgreSQL
// backend connected to database db ("postgres: USER DB HOST(PORT) STATE").
func isBackendOf(title []byte, db string) bool {
	title = bytes.TrimRight(title, "\x00 ")
	return bytes.HasPrefix(title, []byte("postgres: ")) && bytes.Contains(title, []byte(" "+db+" "))
}

// cpuSnap is the CPU time used so far by every process, and by the
// machine as a whole.
type cpuSnap struct {
	at    time.Time
	procs map[int]procCPU
	busy  uint64
}

// CPUUse is the CPU time used over a phase's measured window.
type CPUUse struct {
	Server   time.Duration // the atrium server process
	Bench    time.Duration // this load generator
	DB       time.Duration // PostgreSQL backends of the bench database
	Kthreads time.Duration // kernel threads
	Machine  time.Duration // all cores, busy time
	Seconds  float64
}

// OtherCores is how many cores, on average, were busy with anything else:
// other processes (other work on the machine, PostgreSQL's own background
// processes), processes that ended during the window, and interrupts.
func (u CPUUse) OtherCores() float64 {
	if u.Seconds <= 0 {
		return 0
	}
	other := u.Machine - u.Server - u.Bench - u.DB - u.Kthreads
	return max(other.Seconds(), 0) / u.Seconds
}

// sampler takes CPU snapshots of the server and its database.
type sampler struct {
	pid    int
	dbName string
}

func (s sampler) snap() cpuSnap {
	c := cpuSnap{at: time.Now(), procs: scanProcesses(s.pid, s.dbName)}
	c.busy, _ = machineCPU()
	return c
}

// since returns the CPU used from a to b. A process started in between
// counts in full; one that ended in between is lost to "other".
func (b cpuSnap) since(a cpuSnap) CPUUse {
	u := CPUUse{Machine: time.Duration(b.busy-a.busy) * clockTick, Seconds: b.at.Sub(a.at).Seconds()}
	for pid, p := range b.procs {
		d := p.cpu - a.procs[pid].cpu
		if a.procs[pid].kind != p.kind {
			d = p.cpu // the pid was reused
		}
		switch p.kind {
		case kindServer:
			u.Server += d
		case kindBench:
			u.Bench += d
		case kindDB:
			u.DB += d
		case kindKthread:
			u.Kthreads += d
		}
	}
	return u
}
