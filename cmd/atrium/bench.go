package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/atrium-dev/atrium/bench"
)

// cmdBench measures posting, delivery and idle-stream memory against a
// server it starts itself; the load logic is in package bench.
func cmdBench(ctx context.Context, e env, args []string) error {
	c := bench.DefaultConfig()
	var syncs, phases, out string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&c.DB, "db", c.DB, "database to measure: sqlite, postgres or both")
	fs.StringVar(&syncs, "sqlite-synchronous", "full,normal", "SQLite synchronous settings to measure, comma-separated")
	fs.StringVar(&c.PostgresURL, "postgres-url", c.PostgresURL, "administrator's URL, to create and drop a temporary database")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured time of each phase")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "unmeasured time before each phase's measurement")
	fs.IntVar(&c.Clients, "clients", c.Clients, "concurrent posting clients, each with its own session")
	fs.IntVar(&c.Listeners, "listeners", c.Listeners, "event-stream listeners in the delivery phase, each its own user")
	fs.IntVar(&c.Rate, "rate", c.Rate, "posts per second in the delivery phase")
	fs.IntVar(&c.IdleSockets, "idle-sockets", c.IdleSockets, "idle event streams opened in the memory phase")
	fs.StringVar(&phases, "phases", strings.Join(bench.DefaultConfig().Phases, ","), "phases to run, comma-separated (files runs on the first database only)")
	fs.StringVar(&out, "out", "", "also write the results as a Markdown section to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	c.SQLiteSync, c.Phases, c.Log = bench.SplitList(syncs), bench.SplitList(phases), e.stderr
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: find the atrium binary: %w", err)
	}
	c.Exe, c.Version = exe, version
	return runBench(ctx, e, c, out)
}

func runBench(ctx context.Context, e env, c bench.Config, out string) error {
	rep, err := bench.Run(ctx, c)
	if rep == nil {
		return err
	}
	rep.WriteText(e.stdout)
	if out != "" {
		f, ferr := os.Create(out)
		if ferr != nil {
			return ferr
		}
		rep.WriteMarkdown(f)
		if ferr := f.Close(); ferr != nil {
			return ferr
		}
	}
	if err == nil && rep.Failed() {
		err = fmt.Errorf("bench: a measurement failed (see the errors above)")
	}
	return err
}
