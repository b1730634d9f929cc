package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// table is one block of results, rendered as text or as Markdown.
type table struct {
	title  string
	header []string
	rows   [][]string
}

func (t table) text(w io.Writer) {
	fmt.Fprintf(w, "%s\n", t.title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func (t table) markdown(w io.Writer) {
	fmt.Fprintf(w, "#### %s\n\n", t.title)
	fmt.Fprintf(w, "| %s |\n", strings.Join(t.header, " | "))
	seps := make([]string, len(t.header))
	for i := range seps {
		seps[i] = "---"
		if i > 0 {
			seps[i] = "---:"
		}
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
}

// fmtMS formats a duration in milliseconds with sensible precision.
func fmtMS(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.0f", ms)
}

func fmtKiB(bytes float64) string { return fmt.Sprintf("%.1f KiB", bytes/1024) }

func fmtCores(u CPUUse, d time.Duration) string {
	if u.Seconds <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", d.Seconds()/u.Seconds)
}

// fmtLat formats one latency of a summary, "-" when it has no samples.
func fmtLat(s Summary, d time.Duration) string {
	if s.N == 0 {
		return "-"
	}
	return fmtMS(d)
}

// fmtDB formats the PostgreSQL backends' CPU per post, "-" on SQLite.
func fmtDB(t Target, d time.Duration) string {
	if t.DB != "postgres" {
		return "-"
	}
	return fmtMS(d)
}

func (r *Report) postTable() table {
	t := table{title: "Posting (closed loop, each client its own session)",
		header: []string{"database", "clients", "posts/s", "p50 ms", "p99 ms", "server CPU ms/post",
			"PG CPU ms/post", "server cores", "bench cores", "kthread cores", "other cores", "errors"}}
	for _, tr := range r.Results {
		for _, p := range tr.Posts {
			t.rows = append(t.rows, []string{tr.Target.Name(), p.Name(), fmt.Sprintf("%.0f", p.Rate()),
				fmtLat(p.Latency, p.Latency.P50), fmtLat(p.Latency, p.Latency.P99), fmtMS(p.ServerCPUPerPost()),
				fmtDB(tr.Target, p.DBCPUPerPost()), fmtCores(p.CPU, p.CPU.Server), fmtCores(p.CPU, p.CPU.Bench),
				fmtCores(p.CPU, p.CPU.Kthreads), fmt.Sprintf("%.2f", p.CPU.OtherCores()), fmt.Sprint(p.Errors)})
		}
	}
	return t
}

func (r *Report) deliveryTable() table {
	t := table{title: "Delivery (open loop, post → event-stream receipt)",
		header: []string{"database", "listeners", "posts/s asked", "posts/s sent", "delivered",
			"p50 ms", "p99 ms", "max ms", "post p99 ms", "server CPU ms/post", "server cores", "bench cores",
			"kthread cores", "other cores", "posts failed/skipped", "streams dropped"}}
	for _, tr := range r.Results {
		if d := tr.Delivery; d != nil {
			t.rows = append(t.rows, []string{tr.Target.Name(), fmt.Sprint(d.Listeners), fmt.Sprint(d.Rate),
				fmt.Sprintf("%.0f", d.SentRate()), deliveredShare(*d), fmtLat(d.Latency, d.Latency.P50),
				fmtLat(d.Latency, d.Latency.P99), fmtLat(d.Latency, d.Latency.Max), fmtLat(d.PostLatency, d.PostLatency.P99), fmtMS(d.ServerCPUPerPost()),
				fmtCores(d.CPU, d.CPU.Server), fmtCores(d.CPU, d.CPU.Bench), fmtCores(d.CPU, d.CPU.Kthreads),
				fmt.Sprintf("%.2f", d.CPU.OtherCores()), fmt.Sprintf("%d/%d", d.PostErrors, d.Skipped), fmt.Sprint(d.Disconnects)})
		}
	}
	return t
}

func deliveredShare(d DeliveryResult) string {
	if d.Expected == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", d.Received, d.Expected)
}

func (r *Report) idleTable() table {
	t := table{title: "Idle event streams (server memory growth per stream, read after garbage collections)",
		header: []string{"database", "streams", "heap+stack/stream", "heap", "stacks", "RSS/stream", "goroutines/stream"}}
	for _, tr := range r.Results {
		if i := tr.Idle; i != nil && i.Opened > 0 {
			t.rows = append(t.rows, []string{tr.Target.Name(), fmt.Sprint(i.Opened), fmtKiB(i.HeapStackPerSocket()),
				fmtKiB(i.HeapPerSocket()), fmtKiB(i.StackPerSocket()), fmtKiB(i.RSSPerSocket()), fmt.Sprintf("%.1f", i.GoroutinesPerSocket())})
		}
	}
	return t
}

func (r *Report) filesTable() table {
	t := table{title: "Files (encrypted at rest, over HTTP on loopback; MiB/s)",
		header: []string{"database", "file size", "files", "upload", "download", "download per server core", "CPU s/GiB down: server / client",
			"plain write+fsync", "plain read", "plain over HTTP", "CPU s/GiB, plain over HTTP", "bare GCM over HTTP", "raw AES-256-GCM seal / open (one core)"}}
	for _, tr := range r.Results {
		if f := tr.Files; f != nil {
			for _, row := range f.Rows {
				gib := float64(row.Size*int64(row.Count)) / (1 << 30)
				t.rows = append(t.rows, []string{tr.Target.Name(), fmtSize(row.Size), fmt.Sprint(row.Count),
					fmt.Sprintf("%.0f", row.Upload), fmt.Sprintf("%.0f", row.Download), fmt.Sprintf("%.0f", row.ServerRate()),
					fmt.Sprintf("%.2f / %.2f", row.ServerCPU.Seconds()/gib, row.ClientCPU.Seconds()/gib),
					fmt.Sprintf("%.0f", row.PlainWrite), fmt.Sprintf("%.0f", row.PlainRead), fmt.Sprintf("%.0f", row.PlainHTTP), fmt.Sprintf("%.2f", row.PlainCPU.Seconds()), fmt.Sprintf("%.0f", row.BareGCMHTTP),
					fmt.Sprintf("%.0f / %.0f", f.RawSeal, f.RawOpen)})
			}
		}
	}
	return t
}

func (r *Report) verdictTable() table {
	t := table{title: "Targets", header: []string{"goal", "database", "measured", "met"}}
	for _, v := range r.Verdicts() {
		met := "no"
		if v.Met {
			met = "yes"
		}
		t.rows = append(t.rows, []string{v.Goal, v.Target, v.Measured, met})
	}
	return t
}

func (r *Report) tables() []table {
	var out []table
	for _, t := range []table{r.postTable(), r.deliveryTable(), r.idleTable(), r.filesTable(), r.verdictTable()} {
		if len(t.rows) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// errors lists why targets stopped early, and a sample of the failed
// posts and dropped streams.
func (r *Report) errors() []string {
	var out []string
	add := func(t Target, what, msg string) {
		if msg != "" {
			out = append(out, t.Name()+": "+what+msg)
		}
	}
	for _, tr := range r.Results {
		add(tr.Target, "", tr.Err)
		for _, p := range tr.Posts {
			add(tr.Target, p.Name()+": a failed post: ", p.LastErr)
		}
		if d := tr.Delivery; d != nil {
			add(tr.Target, "delivery: a failed post: ", d.LastErr)
			add(tr.Target, "delivery: a dropped stream: ", d.CloseReason)
		}
	}
	return out
}

// WriteText writes the results as plain-text tables.
func (r *Report) WriteText(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "Bench of %s: %d cores (%s), %.1f GiB, %s, %s; fsync p50 %s ms\n", m.Build, m.Cores, m.CPU,
		float64(m.Memory)/(1<<30), m.Go, m.OS, fmtMS(m.FsyncP50))
	fmt.Fprintf(w, "load average %s at start, %s at end; %s per phase, %s warm-up; took %s\n\n", m.LoadAvg, r.LoadAfter,
		r.Config.Duration, r.Config.Warmup, r.Elapsed.Round(time.Second))
	for _, t := range r.tables() {
		t.text(w)
	}
	for _, e := range r.errors() {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

// WriteMarkdown writes the results as a Markdown section.
func (r *Report) WriteMarkdown(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "### Results of %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- Machine: %d cores, %s, %.1f GiB memory; %s; %s\n", m.Cores, m.CPU, float64(m.Memory)/(1<<30), m.OS, m.Kernel)
	fmt.Fprintf(w, "- Measured: %s\n", m.Build)
	fmt.Fprintf(w, "- Go: %s; fsync of a 4 KiB append in %s: p50 %s ms\n", m.Go, m.FsyncDir, fmtMS(m.FsyncP50))
	fmt.Fprintf(w, "- Load average: %s at the start, %s at the end\n", m.LoadAvg, r.LoadAfter)
	fmt.Fprintf(w, "- Run: `%s` (took %s)\n\n", r.Config.commandLine(), r.Elapsed.Round(time.Second))
	for _, t := range r.tables() {
		t.markdown(w)
	}
	for _, e := range r.errors() {
		fmt.Fprintf(w, "- **Error:** %s\n", e)
	}
}
