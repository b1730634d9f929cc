package bench

import (
	"fmt"
	"time"
)

// The goals Atrium is measured against.
const (
	GoalSQLitePostsPerSec   = 3000
	GoalPostgresPostsPerSec = 1500
	GoalServerCPUPerPost    = 500 * time.Microsecond
	GoalDeliveryP99         = 50 * time.Millisecond
	GoalIdleStreamBytes     = 32 << 10
	// GoalDownloadShare is the encrypted download rate over HTTP as a
	// share of the raw single-core AES-256-GCM rate.
	GoalDownloadShare = 0.6
	GoalFileRSSGrowth = 64 << 20
)

// Verdict says whether one goal was met on one target.
type Verdict struct {
	Goal     string
	Target   string
	Measured string
	Met      bool
}

// Verdicts compares the results with the goals.
func (r *Report) Verdicts() []Verdict {
	var out []Verdict
	for _, tr := range r.Results {
		if f := tr.Files; f != nil && len(f.Rows) > 0 {
			out = append(out, fileVerdicts(tr.Target, *f)...)
		}
		out = append(out, postVerdicts(tr)...)
		if d := tr.Delivery; d != nil && d.Expected > 0 {
			out = append(out, deliveryVerdict(tr.Target, *d))
		}
		if i := tr.Idle; i != nil && i.Opened > 0 {
			per := i.HeapStackPerSocket()
			out = append(out, Verdict{Goal: fmt.Sprintf("idle event stream < %s (heap+stack)", fmtKiB(GoalIdleStreamBytes)),
				Target: tr.Target.Name(), Measured: fmtKiB(per), Met: per < GoalIdleStreamBytes})
		}
	}
	return out
}

// postVerdicts judges the throughput of every multi-client phase, and the
// CPU per post of the hardest one: all clients in one binder.
func postVerdicts(tr TargetResult) []Verdict {
	goal := GoalSQLitePostsPerSec
	if tr.Target.DB == "postgres" {
		goal = GoalPostgresPostsPerSec
	}
	var out []Verdict
	for _, p := range tr.Posts {
		if p.Clients == 1 {
			continue
		}
		out = append(out, Verdict{Goal: fmt.Sprintf("≥ %d posts/s, %s", goal, p.Name()), Target: tr.Target.Name(),
			Measured: fmt.Sprintf("%.0f posts/s", p.Rate()), Met: p.Errors == 0 && p.Rate() >= float64(goal)})
		if p.Shared {
			out = append(out, cpuVerdict(tr.Target, p))
		}
	}
	return out
}

func cpuVerdict(t Target, p PostResult) Verdict {
	per := p.ServerCPUPerPost()
	measured := fmtMS(per) + " ms"
	if t.DB == "postgres" {
		measured += fmt.Sprintf(" (+%s ms in PostgreSQL)", fmtMS(p.DBCPUPerPost()))
	}
	return Verdict{Goal: fmt.Sprintf("server CPU ≤ %s ms/post, %s", fmtMS(GoalServerCPUPerPost), p.Name()),
		Target: t.Name(), Measured: measured, Met: p.Posts > 0 && per <= GoalServerCPUPerPost}
}

// deliveryVerdict needs every message delivered at the asked rate, as well
// as the latency.
func deliveryVerdict(t Target, d DeliveryResult) Verdict {
	complete := d.Received == d.Expected && d.Skipped == 0 && d.PostErrors == 0 && d.SentRate() >= 0.95*float64(d.Rate)
	return Verdict{
		Goal:   fmt.Sprintf("delivery p99 < %s ms at %d posts/s to %d listeners", fmtMS(GoalDeliveryP99), d.Rate, d.Listeners),
		Target: t.Name(),
		Measured: fmt.Sprintf("p99 %s ms, %.0f posts/s sent, %.1f%% delivered", fmtMS(d.Latency.P99), d.SentRate(),
			100*float64(d.Received)/float64(d.Expected)),
		Met: complete && d.Latency.P99 < GoalDeliveryP99,
	}
}

// fileVerdicts judges the largest file's download rate against the raw
// AES-GCM rate, and the memory a 2 GiB file takes going up and down.
func fileVerdicts(t Target, f FilesResult) []Verdict {
	big := f.Rows[len(f.Rows)-1]
	share := big.Download / f.RawOpen
	out := []Verdict{{Goal: fmt.Sprintf("encrypted download of %s ≥ %.0f%% of raw AES-256-GCM (one core)", fmtSize(big.Size), 100*GoalDownloadShare),
		Target: t.Name(), Measured: fmt.Sprintf("%.0f of %.0f MiB/s (%.0f%%); per core of server CPU: %.0f MiB/s (%.0f%%); bare GCM over HTTP: %.0f MiB/s (%.0f%%); the most any encrypted download could reach on these %d cores with its client: %.0f MiB/s (%.0f%%)",
			big.Download, f.RawOpen, 100*share, big.ServerRate(), 100*big.ServerRate()/f.RawOpen,
			big.BareGCMHTTP, 100*big.BareGCMHTTP/f.RawOpen,
			f.Cores, big.Ceiling(f.Cores, f.RawOpen), 100*big.Ceiling(f.Cores, f.RawOpen)/f.RawOpen), Met: share >= GoalDownloadShare}}
	if f.BigSize > 0 {
		peak := max(f.RSSUpload, f.RSSDownload)
		out = append(out, Verdict{Goal: fmt.Sprintf("server RSS growth < %d MiB for a %s file up and down", GoalFileRSSGrowth>>20, fmtSize(f.BigSize)),
			Target: t.Name(), Measured: fmt.Sprintf("%.1f MiB up, %.1f MiB down", float64(f.RSSUpload)/(1<<20), float64(f.RSSDownload)/(1<<20)),
			Met: peak < GoalFileRSSGrowth})
	}
	return out
}
