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
