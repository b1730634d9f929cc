// Package clamdtest runs a real clamd (Debian's clamav-daemon) for tests,
// with a signature database of its own that matches Marker, so that no
// real malware, nor the EICAR string, is needed.
package clamdtest

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/clamd"
)

// Marker is the byte string that the test database's signature matches
// anywhere in a stream.
const Marker = "ATRIUM-MALWARE-SCANNER-TEST-PATTERN-0f3b9c"

// Signature is the name clamd reports for Marker.
const Signature = "Atrium.Test.Marker.UNOFFICIAL"

// Options tunes the daemon.
type Options struct {
	// MaxStream is clamd's StreamMaxLength, e.g. "1M"; "" keeps 100M.
	MaxStream string
}

// binary finds clamd.
func binary() (string, error) {
	if p, err := exec.LookPath("clamd"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/clamd", "/usr/local/sbin/clamd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("clamd not found: install Debian's clamav-daemon package (.ci/run does)")
}

// Start runs a clamd until the test ends and returns a client of it.
func Start(t testing.TB, o Options) *clamd.Client {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	if o.MaxStream == "" {
		o.MaxStream = "100M"
	}
	// A Unix socket path must be short: not under t.TempDir's long name.
	dir, err := os.MkdirTemp("", "clamd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	sig := Signature[:len(Signature)-len(".UNOFFICIAL")] + ":0:*:" + hex.EncodeToString([]byte(Marker)) + "\n"
	if err := os.WriteFile(filepath.Join(db, "atrium-test.ndb"), []byte(sig), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "clamd.sock")
	conf := fmt.Sprintf("LocalSocket %s\nDatabaseDirectory %s\nForeground yes\nLogFile %s\nStreamMaxLength %s\nTemporaryDirectory %s\n",
		sock, db, filepath.Join(dir, "clamd.log"), o.MaxStream, dir)
	confPath := filepath.Join(dir, "clamd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", confPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	c, err := clamd.New("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx)
		cancel()
		if err == nil {
			return c
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "clamd.log"))
			t.Fatalf("clamd exited: %v\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("clamd did not answer within a minute: %v", err)
		}
	}
}
