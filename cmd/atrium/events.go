package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/atrium-dev/atrium/client"
)

// cmdEvents prints a user's event stream, one JSON frame a line, resuming
// by itself after a dropped connection. It is the WebSocket client of the
// README's walk-through.
func cmdEvents(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	base := fs.String("url", envOr("ATRIUM_URL", "http://127.0.0.1:8080"), "the server's base URL [ATRIUM_URL]")
	since := fs.String("since", "", "resume after the event with this cursor")
	fromStdin := fs.Bool("token-stdin", false, "read the bearer token from standard input instead of ATRIUM_TOKEN")
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := os.Getenv("ATRIUM_TOKEN")
	if *fromStdin {
		var err error
		if token, err = readSecret(e.stdin); err != nil {
			return fmt.Errorf("events: %w", err)
		}
	}
	if token == "" {
		return fmt.Errorf("events: give a token in ATRIUM_TOKEN or with --token-stdin")
	}
	c, err := client.New(*base, client.WithToken(token))
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	stream, err := c.Subscribe(ctx, client.SubscribeOptions{Since: *since})
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	defer stream.Close()
	fmt.Fprintf(e.stderr, "listening from cursor %s\n", stream.Cursor())
	for {
		ev, err := stream.Next(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("events: %w", err)
		}
		if _, err := fmt.Fprintf(e.stdout, "%s\n", ev.Raw); err != nil {
			return err
		}
	}
}
