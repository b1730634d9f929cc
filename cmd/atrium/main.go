// Command atrium runs the Atrium server and administers its database.
//
//	atrium serve     run the server
//	atrium migrate   apply pending schema migrations
//	atrium org create / atrium user create   bootstrap from a script
//	atrium events    print the signed-in user's event stream
//	atrium bench     measure posting and delivery
//	atrium version   print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "atrium:", err)
		os.Exit(1)
	}
}

// env is the process's outside world, passed down so commands are testable.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

const usage = `usage: atrium <command> [flags]

commands:
  serve         run the server (--data, --listen, --database-url, TLS flags)
  migrate       apply pending database migrations
  org create    create an organisation and its owner; prints {"org_id","owner_id"}
  user create   create a user in an organisation; prints {"user_id"}
  user deactivate|reactivate  end or restore a user's access (--id); deactivation wipes and logs out their devices
  user delete   delete a user: personal data removed, content kept or erased per the organisation's policy (--id --yes)
  org erase-files  destroy an organisation's key: all its files become unreadable (--org ID --yes)
  keys list     list the master keys and how many organisation keys each wraps
  keys rotate   add a master key and re-wrap every organisation key under it, online (--resume to finish)
  keys retire   remove a master key that wraps nothing any more
  audit checkpoint  sign a checkpoint of every audit chain that grew (the server does so hourly)
  audit verify  check every organisation's audit chain and signed checkpoints (--org ID); exits 1 naming the first bad entry
  events        print your event stream, one JSON frame a line (ATRIUM_TOKEN, --url)
  bench         measure message posting and delivery
  version       print the version

Run "atrium <command> -h" for a command's flags.
`

// run dispatches a command line.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, e, args[1:])
	case "migrate":
		return cmdMigrate(ctx, e, args[1:])
	case "org":
		if len(args) > 1 && args[1] == "create" {
			return cmdOrgCreate(ctx, e, args[2:])
		}
		if len(args) > 1 && args[1] == "erase-files" {
			return cmdOrgEraseFiles(ctx, e, args[2:])
		}
	case "user":
		if len(args) > 1 && args[1] == "create" {
			return cmdUserCreate(ctx, e, args[2:])
		}
		if len(args) > 1 && (args[1] == "deactivate" || args[1] == "reactivate" || args[1] == "delete") {
			return cmdUserStatus(ctx, e, args[1], args[2:])
		}
	case "keys":
		return cmdKeys(ctx, e, args[1:])
	case "audit":
		if len(args) > 1 && args[1] == "verify" {
			return cmdAuditVerify(ctx, e, args[2:])
		}
		if len(args) > 1 && args[1] == "checkpoint" {
			return cmdAuditCheckpoint(ctx, e, args[2:])
		}
	case "events":
		return cmdEvents(ctx, e, args[1:])
	case "bench":
		return cmdBench(ctx, e, args[1:])
	case "version":
		fmt.Fprintln(stdout, "atrium", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
