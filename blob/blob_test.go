package blob

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLocal(t *testing.T) {
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, l)
	if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
}

// testStore checks what every Store does.
func testStore(t *testing.T, l Store) {
	ctx := context.Background()
	const key = "0190aabb-ccdd-7eef-8001-0123456789ab"
	p, err := l.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(p, "sealed bytes"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Open(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an uncommitted object is visible: %v", err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	o, err := l.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if n, err := o.ReadAt(buf, 7); n != 5 || string(buf) != "bytes" || o.Size() != 12 {
		t.Fatalf("ReadAt: %d %q %v size %d", n, buf, err, o.Size())
	}
	o.Close()

	aborted, _ := l.Create(ctx, "0190aabb-ccdd-7eef-8001-0123456789ac")
	io.WriteString(aborted, "half")
	aborted.Abort()
	if _, err := l.Open(ctx, "0190aabb-ccdd-7eef-8001-0123456789ac"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an aborted object is visible: %v", err)
	}
	if err := l.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Open(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted object: %v", err)
	}
	for _, bad := range []string{"../../etc/passwd", "", "a/b", "ABC", "x"} {
		if _, err := l.Create(ctx, bad); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}

// Temporary files that a crash left behind are removed when the store
// opens; recent ones (an upload of another process) are not.
func TestLocalRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewLocal(dir); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(dir, "tmp", "a.1"), filepath.Join(dir, "tmp", "b.2")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocal(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("a stale temporary file stays: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a recent temporary file was removed: %v", err)
	}
}
