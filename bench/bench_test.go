package bench

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample", []time.Duration{ms(3)}, 99, ms(3)},
		{"p50 of 1..100", hundred, 50, ms(50)},
		{"p99 of 1..100", hundred, 99, ms(99)},
		{"p100 is the max", hundred, 100, ms(100)},
		{"tiny p is the min", hundred, 0.001, ms(1)},
		{"p50 of two", []time.Duration{ms(1), ms(2)}, 50, ms(1)},
		{"p99 of ten", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeSorts(t *testing.T) {
	s := Summarize([]time.Duration{ms(5), ms(1), ms(9), ms(3)})
	if s.N != 4 || s.P50 != ms(3) || s.P99 != ms(9) || s.Max != ms(9) {
		t.Errorf("Summarize = %+v", s)
	}
}

func TestParseStat(t *testing.T) {
	// The command name holds a space and a parenthesis, as it may.
	line := "4242 (atrium (x) y) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 70 0 0 20 0 9 0 100 0 0"
	st, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.comm != "atrium (x) y" || st.ppid != 1 || st.cpu != 3200*time.Millisecond {
		t.Errorf("parseStat = %+v", st)
	}
	for _, bad := range []string{"", "12 (x) S 1", "1 (x) S one 2 3 4 5 6 7 8 9 10 11 12 13"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
}

func TestParseMachineCPU(t *testing.T) {
	busy, total, err := parseMachineCPU("cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if busy != 161 || total != 1181 {
		t.Errorf("busy, total = %d, %d; want 161, 1181", busy, total)
	}
	if _, _, err := parseMachineCPU("intr 1 2 3"); err == nil {
		t.Error("parseMachineCPU accepted a line that is not cpu")
	}
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tatrium\nVmPeak:\t  9000 kB\nVmRSS:\t  2048 kB\n"
	if got, err := parseStatusKB(status, "VmRSS"); err != nil || got != 2<<20 {
		t.Errorf("VmRSS = %d, %v", got, err)
	}
	if _, err := parseStatusKB(status, "VmSwap"); err == nil {
		t.Error("a missing field was found")
	}
}

func TestIsBackendOf(t *testing.T) {
	tests := []struct {
		title string
		want  bool
	}{
		{"postgres: postgres atrium_bench_ab 127.0.0.1(5000) idle\x00\x00", true},
		{"postgres: postgres atrium_bench_abc 127.0.0.1(5000) idle", false},
		{"postgres: walwriter ", false},
		{"/usr/bin/atrium_bench_ab", false},
	}
	for _, tt := range tests {
		if got := isBackendOf([]byte(tt.title), "atrium_bench_ab"); got != tt.want {
			t.Errorf("isBackendOf(%q) = %v", tt.title, got)
		}
	}
}

func TestSentTime(t *testing.T) {
	sent := time.Unix(1700000000, 123456789)
	frame := []byte(`{"type":"message.created","message":{"text":"` + probeText(7, sent) + `"}}`)
	got, ok := sentTime(frame)
	if !ok || !got.Equal(sent) {
		t.Errorf("sentTime = %v, %v; want %v", got, ok, sent)
	}
	if _, ok := sentTime([]byte(`{"type":"read.updated"}`)); ok {
		t.Error("sentTime found a time in a frame without a probe")
	}
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics("# HELP go_goroutines x\ngo_goroutines 13\ngo_memstats_heap_inuse_bytes 1.9e+06\n" +
		"go_sql_idle_connections{db_name=\"w\"} 1\n")
	if m["go_goroutines"] != 13 || m["go_memstats_heap_inuse_bytes"] != 1.9e6 || len(m) != 2 {
		t.Errorf("parseMetrics = %v", m)
	}
}

func TestWindow(t *testing.T) {
	w := window{start: time.Unix(10, 0), end: time.Unix(20, 0)}
	for _, tc := range []struct {
		at   int64
		want bool
	}{{9, false}, {10, true}, {19, true}, {20, false}} {
		if got := w.holds(time.Unix(tc.at, 0)); got != tc.want {
			t.Errorf("holds(%d) = %v", tc.at, got)
		}
	}
	if w.seconds() != 10 {
		t.Errorf("seconds = %v", w.seconds())
	}
}

func TestConfigTargets(t *testing.T) {
	c := DefaultConfig()
	c.Exe = "/bin/atrium"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range c.Targets() {
		names = append(names, tg.Name())
	}
	if got := strings.Join(names, ", "); got != "SQLite sync=full, SQLite sync=normal, PostgreSQL" {
		t.Errorf("targets = %s", got)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.DB = "mysql" },
		func(c *Config) { c.SQLiteSync = []string{"off"} },
		func(c *Config) { c.Phases = []string{"posts", "soak"} },
		func(c *Config) { c.Clients = 0 },
		func(c *Config) { c.Duration = time.Millisecond },
	} {
		c := DefaultConfig()
		c.Exe = "/bin/atrium"
		bad(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("Validate accepted %+v", c)
		}
	}
	if got := SplitList(" full, ,normal,"); strings.Join(got, "|") != "full|normal" {
		t.Errorf("SplitList = %q", got)
	}
}

// sampleReport is a run with one SQLite target that meets some goals.
func sampleReport() *Report {
	c := DefaultConfig()
	cpu := CPUUse{Server: 4 * time.Second, Bench: time.Second, Kthreads: 0, Machine: 6 * time.Second, Seconds: 10}
	return &Report{
		Config:  c,
		Machine: Machine{Cores: 2, CPU: "Test CPU", Memory: 4 << 30, Go: "go1.26", OS: "Linux", Build: "abc123"},
		Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		Results: []TargetResult{{
			Target: Target{DB: "sqlite", Sync: "full"},
			Posts: []PostResult{
				{Clients: 1, Posts: 5000, Seconds: 10, Latency: Summary{N: 5000, P50: ms(1.5), P99: ms(4)}, CPU: cpu},
				{Clients: 16, Shared: true, Posts: 40000, Seconds: 10, Latency: Summary{N: 40000, P50: ms(4), P99: ms(12.5)}, CPU: cpu},
			},
			Delivery: &DeliveryResult{Listeners: 100, Rate: 500, Seconds: 10, Posted: 5000, Expected: 500000,
				Received: 500000, Latency: Summary{N: 500000, P50: ms(3), P99: ms(20), Max: ms(41)}, CPU: cpu},
			Idle: &IdleResult{Sockets: 1000, Opened: 1000,
				Before: MemSample{HeapInuse: 1 << 20, StackInuse: 1 << 19, Goroutines: 10},
				After:  MemSample{HeapInuse: 21 << 20, StackInuse: 9 << 20, Goroutines: 2010}},
		}},
	}
}

func TestVerdicts(t *testing.T) {
	got := map[string]bool{}
	for _, v := range sampleReport().Verdicts() {
		got[v.Goal] = v.Met
	}
	want := map[string]bool{
		"≥ 3000 posts/s, 16 clients, one binder":                 true, // 4000/s
		"server CPU ≤ 0.50 ms/post, 16 clients, one binder":      true, // 4 s / 40000 = 0.1 ms
		"delivery p99 < 50.0 ms at 500 posts/s to 100 listeners": true, // 20 ms, all delivered
		"idle event stream < 32.0 KiB (heap+stack)":              true, // (30 − 1.5) MiB / 1000 = 29.2 KiB
	}
	if len(got) != len(want) {
		t.Fatalf("verdicts = %v", got)
	}
	for goal, met := range want {
		if got[goal] != met {
			t.Errorf("%s: met = %v, want %v", goal, got[goal], met)
		}
	}
}

func TestVerdictNeedsCompleteDelivery(t *testing.T) {
	r := sampleReport()
	r.Results[0].Delivery.Received = 499999
	for _, v := range r.Verdicts() {
		if strings.HasPrefix(v.Goal, "delivery") && v.Met {
			t.Error("a delivery with a lost message met the goal")
		}
	}
}

func TestReportText(t *testing.T) {
	var b bytes.Buffer
	sampleReport().WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"Bench of abc123: 2 cores (Test CPU), 4.0 GiB",
		"SQLite sync=full  16 clients, one binder  4000",
		"500000/500000",
		"29.2 KiB",
		"Targets",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

func TestReportMarkdown(t *testing.T) {
	var b bytes.Buffer
	sampleReport().WriteMarkdown(&b)
	out := b.String()
	for _, want := range []string{
		"### Results of 2026-01-02 03:04 UTC",
		"`atrium bench --db both --sqlite-synchronous full,normal --duration 10s --warmup 1s --clients 16 --listeners 100 --rate 500 --idle-sockets 1000`",
		"| database | clients | posts/s |",
		"|---|---:|---:|",
		"| SQLite sync=full | 1 client | 500 | 1.50 | 4.00 | 0.80 | - |",
		"| ≥ 3000 posts/s, 16 clients, one binder | SQLite sync=full | 4000 posts/s | yes |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown report lacks %q:\n%s", want, out)
		}
	}
}

func TestFmtMS(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{ms(0.123), "0.12"}, {ms(12.34), "12.3"}, {ms(345.6), "346"}} {
		if got := fmtMS(tc.d); got != tc.want {
			t.Errorf("fmtMS(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestParallel(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]bool{}
	err := parallel(context.Background(), 50, 4, func(i int) error {
		mu.Lock()
		defer mu.Unlock()
		seen[i] = true
		return nil
	})
	if err != nil || len(seen) != 50 {
		t.Fatalf("parallel = %v, ran %d of 50", err, len(seen))
	}
	boom := errors.New("boom")
	var ran atomic.Int64
	err = parallel(context.Background(), 1000, 1, func(i int) error {
		ran.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || ran.Load() > 5 {
		t.Errorf("parallel = %v after %d calls; want boom after about 4", err, ran.Load())
	}
}
