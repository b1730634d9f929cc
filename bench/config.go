package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Phase names, as --phases takes them.
const (
	PhasePosts    = "posts"
	PhaseDelivery = "delivery"
	PhaseIdle     = "idle"
	// PhaseFiles runs on the first target only: it measures the file
	// store, which does not depend on the database.
	PhaseFiles = "files"
)

// Config is what a benchmark run is told.
type Config struct {
	// Exe is the atrium binary started as the server and for bootstrap;
	// Version is its version string.
	Exe     string
	Version string
	// DB is "sqlite", "postgres" or "both".
	DB string
	// SQLiteSync lists the SQLite synchronous settings to measure
	// ("full", "normal").
	SQLiteSync []string
	// PostgresURL is an administrator's URL, used to create and drop the
	// temporary database.
	PostgresURL string
	// Duration is the measured time of each timed phase; Warmup runs
	// before it, unmeasured.
	Duration time.Duration
	Warmup   time.Duration
	// Clients is the number of concurrent posting clients.
	Clients int
	// Listeners is the number of event-stream listeners in the delivery
	// phase, Rate the posts per second sent to them.
	Listeners int
	Rate      int
	// IdleSockets is the number of idle event streams opened.
	IdleSockets int
	// Phases lists the phases to run (default: all).
	Phases []string
	// Log receives progress lines.
	Log io.Writer
}

// DefaultConfig returns the defaults of the command's flags.
func DefaultConfig() Config {
	return Config{
		DB:          "both",
		SQLiteSync:  []string{"full", "normal"},
		PostgresURL: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		Duration:    10 * time.Second,
		Warmup:      time.Second,
		Clients:     16,
		Listeners:   100,
		Rate:        500,
		IdleSockets: 1000,
		Phases:      []string{PhasePosts, PhaseDelivery, PhaseIdle, PhaseFiles},
		Log:         io.Discard,
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Exe == "":
		return fmt.Errorf("bench: no atrium binary")
	case c.DB != "sqlite" && c.DB != "postgres" && c.DB != "both":
		return fmt.Errorf("bench: --db must be sqlite, postgres or both")
	case c.Duration < time.Second || c.Warmup < 0:
		return fmt.Errorf("bench: --duration must be at least 1s")
	case c.Clients < 1 || c.Listeners < 1 || c.Rate < 1 || c.IdleSockets < 1:
		return fmt.Errorf("bench: --clients, --listeners, --rate and --idle-sockets must be positive")
	}
	for _, s := range c.SQLiteSync {
		if s != "full" && s != "normal" {
			return fmt.Errorf("bench: --sqlite-synchronous takes full and/or normal, not %q", s)
		}
	}
	for _, p := range c.Phases {
		if p != PhasePosts && p != PhaseDelivery && p != PhaseIdle && p != PhaseFiles {
			return fmt.Errorf("bench: unknown phase %q (posts, delivery, idle, files)", p)
		}
	}
	return nil
}

func (c *Config) runs(phase string) bool { return slices.Contains(c.Phases, phase) }

// Target is one server configuration measured.
type Target struct {
	DB   string // "sqlite" or "postgres"
	Sync string // SQLite's synchronous setting
}

// Name labels the target in tables.
func (t Target) Name() string {
	if t.DB == "postgres" {
		return "PostgreSQL"
	}
	return "SQLite sync=" + t.Sync
}

// Targets lists the server configurations the run measures, in order.
func (c *Config) Targets() []Target {
	var ts []Target
	if c.DB == "sqlite" || c.DB == "both" {
		for _, s := range c.SQLiteSync {
			ts = append(ts, Target{DB: "sqlite", Sync: s})
		}
	}
	if c.DB == "postgres" || c.DB == "both" {
		ts = append(ts, Target{DB: "postgres"})
	}
	return ts
}

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (c *Config) logf(format string, args ...any) {
	fmt.Fprintf(c.Log, "bench: "+format+"\n", args...)
}

// commandLine is the command that repeats this run.
func (c *Config) commandLine() string {
	s := fmt.Sprintf("atrium bench --db %s", c.DB)
	if c.DB != "postgres" {
		s += " --sqlite-synchronous " + strings.Join(c.SQLiteSync, ",")
	}
	s += fmt.Sprintf(" --duration %s --warmup %s --clients %d --listeners %d --rate %d --idle-sockets %d",
		c.Duration, c.Warmup, c.Clients, c.Listeners, c.Rate, c.IdleSockets)
	if len(c.Phases) < 4 {
		s += " --phases " + strings.Join(c.Phases, ",")
	}
	return s
}
