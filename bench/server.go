package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is an `atrium serve` process started by the benchmark.
type server struct {
	cmd  *exec.Cmd
	url  string
	pid  int
	logs *tailLog
	exit chan error
}

// dbArgs are the database flags every atrium command of a target takes.
func dbArgs(t Target, dataDir, dbURL string) []string {
	args := []string{"--data", dataDir}
	if t.DB == "postgres" {
		return append(args, "--database-url", dbURL)
	}
	return append(args, "--sqlite-synchronous", t.Sync)
}

// command returns exe with args, in this process's environment less any
// ATRIUM_* variable, so that only the flags configure the server. Only
// ATRIUM_DEBUG_LISTEN passes, to profile the server under load.
func command(ctx context.Context, exe string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, exe, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ATRIUM_") || strings.HasPrefix(kv, "ATRIUM_DEBUG_LISTEN=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}

// startServer runs `atrium serve` on a free loopback port and waits until
// it says where it listens.
func startServer(ctx context.Context, exe string, db []string) (*server, error) {
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--log-level", "info"}, db...)
	cmd := command(context.WithoutCancel(ctx), exe, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid, logs: &tailLog{}, exit: make(chan error, 1)}
	ready := make(chan string, 1)
	go s.readLog(stderr, ready)
	go func() { s.exit <- cmd.Wait() }()
	select {
	case s.url = <-ready:
		return s, nil
	case err := <-s.exit:
		return nil, fmt.Errorf("server exited at start (%v): %s", err, s.logs)
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("server did not start within a minute: %s", s.logs)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// readLog keeps reading the server's log, so it never blocks on a full
// pipe, and reports the URL from the "atrium serving" line.
func (s *server) readLog(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		s.logs.add(sc.Text())
		var line struct {
			Msg string `json:"msg"`
			URL string `json:"url"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "atrium serving" && line.URL != "" {
			select {
			case ready <- line.URL:
			default:
			}
		}
	}
}

// stop asks the server to shut down and waits for it; after 20 seconds it
// kills it.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exit:
		return err
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("server did not stop within 20s; killed")
	}
}

// tailLog keeps the last lines of a log for error messages.
type tailLog struct {
	mu    sync.Mutex
	lines []string
}

func (t *tailLog) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > 20 {
		t.lines = t.lines[len(t.lines)-20:]
	}
}

func (t *tailLog) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// account is a bootstrapped user.
type account struct {
	ID    string
	Email string
}

// bootstrap creates the organisation, its owner and n more users with the
// atrium commands, running as many at once as there are cores.
func bootstrap(ctx context.Context, exe string, db []string, password string, n, par int) (account, []account, error) {
	owner := account{Email: "owner@bench.example.com"}
	var org struct {
		OrgID   string `json:"org_id"`
		OwnerID string `json:"owner_id"`
	}
	args := append([]string{"org", "create"}, db...)
	args = append(args, "--name", "Atrium bench", "--owner-email", owner.Email, "--owner-password-stdin")
	if err := runJSON(ctx, exe, args, password, &org); err != nil {
		return owner, nil, err
	}
	owner.ID = org.OwnerID
	users := make([]account, n)
	err := parallel(ctx, n, par, func(i int) error {
		users[i].Email = fmt.Sprintf("user%04d@bench.example.com", i)
		var out struct {
			UserID string `json:"user_id"`
		}
		args := append([]string{"user", "create"}, db...)
		args = append(args, "--org", org.OrgID, "--email", users[i].Email, "--kind", "internal", "--password-stdin")
		err := runJSON(ctx, exe, args, password, &out)
		users[i].ID = out.UserID
		return err
	})
	return owner, users, err
}

// runJSON runs an atrium command with the password on its standard input
// and decodes the JSON it prints.
func runJSON(ctx context.Context, exe string, args []string, password string, out any) error {
	cmd := command(ctx, exe, args...)
	cmd.Stdin = strings.NewReader(password + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("atrium %s %s: %v: %s", args[0], args[1], err, strings.TrimSpace(stderr.String()))
	}
	return json.Unmarshal(b, out)
}

// parallel calls fn(0) … fn(n-1), par at a time, and returns the first
// error; after an error no more calls start.
func parallel(ctx context.Context, n, par int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return first != nil }
	sem := make(chan struct{}, max(par, 1))
	for i := 0; i < n && ctx.Err() == nil && !failed(); i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return cmp.Or(first, ctx.Err())
}
