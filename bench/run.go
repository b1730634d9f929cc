package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Report is the outcome of a run.
type Report struct {
	Config    Config
	Machine   Machine
	Started   time.Time
	Elapsed   time.Duration
	LoadAfter string // /proc/loadavg at the end
	Results   []TargetResult
}

// TargetResult is what was measured on one server configuration.
type TargetResult struct {
	Target   Target
	Posts    []PostResult
	Delivery *DeliveryResult
	Idle     *IdleResult
	Files    *FilesResult
	Err      string // why the target's run stopped early, if it did
}

// Failed reports whether any target stopped early.
func (r *Report) Failed() bool {
	return slices.ContainsFunc(r.Results, func(t TargetResult) bool { return t.Err != "" })
}

// Run measures every target the configuration names, one after another.
// A target that fails is reported with its error and the run goes on.
func Run(ctx context.Context, c Config) (*Report, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	raiseFileLimit(c.IdleSockets+c.Listeners+4*c.Clients+256, &c)
	tmp, err := os.MkdirTemp("", "atrium-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	rep := &Report{Config: c, Machine: probeMachine(tmp, c.Version), Started: time.Now()}
	for i, t := range c.Targets() {
		if ctx.Err() != nil {
			break
		}
		res := TargetResult{Target: t}
		if err := measureTarget(ctx, &c, t, tmp, i == 0, &res); err != nil {
			res.Err = err.Error()
			c.logf("%s: %v", t.Name(), err)
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Elapsed = time.Since(rep.Started)
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.LoadAfter = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return rep, ctx.Err()
}

// measureTarget sets up one server configuration from nothing, runs the
// phases on it and tears it down.
func measureTarget(ctx context.Context, c *Config, t Target, tmp string, first bool, res *TargetResult) error {
	dir, err := os.MkdirTemp(tmp, t.DB+"-")
	if err != nil {
		return err
	}
	var db tempDatabase
	if t.DB == "postgres" {
		pg, err := createDatabase(ctx, c.PostgresURL)
		if err != nil {
			return err
		}
		defer pg.drop(ctx)
		db = *pg
	}
	args := dbArgs(t, dir, db.URL)
	password := randomPassword()
	c.logf("%s: creating the organisation and %d users", t.Name(), c.Clients+c.Listeners)
	owner, users, err := bootstrap(ctx, c.Exe, args, password, c.Clients+c.Listeners, runtime.NumCPU())
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, c.Exe, args)
	if err != nil {
		return err
	}
	defer srv.stop()
	c.logf("%s: server pid %d at %s; signing %d users in", t.Name(), srv.pid, srv.url, len(users)+1)
	a := newAPI(srv.url, max(256, c.Clients))
	w, err := buildWorld(ctx, a, owner, users, c.Clients, password)
	if err != nil {
		return err
	}
	if err := runPhases(ctx, c, a, sampler{pid: srv.pid, dbName: db.Name}, w, res); err != nil {
		return err
	}
	if first && c.runs(PhaseFiles) {
		c.logf("%s: files", t.Name())
		f, err := runFiles(ctx, c, a, srv.pid, w, dir)
		res.Files = &f
		return err
	}
	return nil
}

func runPhases(ctx context.Context, c *Config, a *api, smp sampler, w *world, res *TargetResult) error {
	name := res.Target.Name()
	if c.runs(PhasePosts) {
		for _, ph := range postPhases(w) {
			c.logf("%s: posting, %d client(s), %d s", name, len(ph.ss), int(c.Duration.Seconds()))
			res.Posts = append(res.Posts, runPosts(ctx, c, a, smp, ph.ss, ph.binders))
		}
	}
	if c.runs(PhaseDelivery) {
		c.logf("%s: delivery to %d listeners at %d posts/s", name, len(w.listeners), c.Rate)
		d, err := runDelivery(ctx, c, a, smp, w)
		res.Delivery = &d
		if err != nil {
			return err
		}
	}
	if c.runs(PhaseIdle) {
		c.logf("%s: %d idle event streams", name, c.IdleSockets)
		idle, err := runIdle(ctx, a, smp.pid, w.sessions(), c.IdleSockets)
		res.Idle = &idle
		return err
	}
	return nil
}

type postPhase struct {
	ss      []session
	binders []string
}

// postPhases are one client alone, every client in one binder, and every
// client in its own binder.
func postPhases(w *world) []postPhase {
	one := postPhase{ss: w.posters[:1], binders: []string{w.shared}}
	if len(w.posters) == 1 {
		return []postPhase{one}
	}
	shared := postPhase{ss: w.posters, binders: make([]string, len(w.posters))}
	for i := range shared.binders {
		shared.binders[i] = w.shared
	}
	return []postPhase{one, shared, {ss: w.posters, binders: w.own}}
}

func randomPassword() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "bench-" + hex.EncodeToString(b[:])
}

// raiseFileLimit lifts the open-file limit to its hard maximum, which the
// server started later inherits, and warns when even that is below need.
func raiseFileLimit(need int, c *Config) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	if l.Cur < uint64(need) {
		c.logf("warning: the open-file limit is %d; this run needs about %d", l.Cur, need)
	}
}
