// Package blob stores the encrypted bodies of files: opaque objects
// written once and read by byte ranges. The local backend keeps them in the
// data dir; the interface leaves room for S3-compatible storage.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Store keeps objects by key.
type Store interface {
	// Create starts a new object. Nothing is visible under key until the
	// returned Pending commits.
	Create(ctx context.Context, key string) (Pending, error)
	// Open returns an object for reading; ErrNotFound if there is none.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes an object; deleting a missing one is no error.
	Delete(ctx context.Context, key string) error
}

// Pending is an object being written.
type Pending interface {
	io.Writer
	// Commit makes the object durable and visible under its key.
	Commit() error
	// Abort discards it. After Commit it does nothing.
	Abort() error
}

// Object is a stored object open for reading.
type Object interface {
	io.ReaderAt
	// Size is the object's stored size.
	Size() int64
	Close() error
}

// ErrNotFound reports a key with no object.
var ErrNotFound = errors.New("blob: no such object")

// validKey limits keys to what Atrium generates (ids), so a key can never
// name a path outside the store.
var validKey = regexp.MustCompile(`^[0-9a-z][0-9a-z-]{7,63}$`)

// Local keeps objects as files under a directory: objects/ab/<key>, where
// ab is the key's last two characters. A new object is written to tmp/,
// synced, and renamed into place, so a crash never leaves a partial object
// visible.
type Local struct {
	dir string
}

// staleTemp is the age past which a temporary file is an upload that a
// crash interrupted (no upload stalls that long: see the server's read
// deadlines).
const staleTemp = 24 * time.Hour

// NewLocal returns a Local store in dir, creating it if need be, and
// removes the temporary files of uploads that a crash interrupted.
func NewLocal(dir string) (*Local, error) {
	for _, d := range []string{filepath.Join(dir, "objects"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	}
	l := &Local{dir: dir}
	l.removeStaleTemp(time.Now().Add(-staleTemp))
	return l, nil
}

// removeStaleTemp removes temporary files last written before t.
func (l *Local) removeStaleTemp(t time.Time) {
	entries, _ := os.ReadDir(filepath.Join(l.dir, "tmp"))
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(t) {
			_ = os.Remove(filepath.Join(l.dir, "tmp", e.Name()))
		}
	}
}

func (l *Local) path(key string) (string, error) {
	if !validKey.MatchString(key) {
		return "", fmt.Errorf("blob: invalid key %q", key)
	}
	return filepath.Join(l.dir, "objects", key[len(key)-2:], key), nil
}

// Create starts writing an object in tmp/.
func (l *Local) Create(_ context.Context, key string) (Pending, error) {
	path, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Join(l.dir, "tmp"), key+".*")
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &localPending{f: f, path: path}, nil
}

// Open opens a stored object.
func (l *Local) Open(_ context.Context, key string) (Object, error) {
	path, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &localObject{File: f, size: fi.Size()}, nil
}

// Delete removes a stored object.
func (l *Local) Delete(_ context.Context, key string) error {
	path, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

type localObject struct {
	*os.File
	size int64
}

func (o *localObject) Size() int64 { return o.size }

type localPending struct {
	f    *os.File
	path string
	done bool
}

func (p *localPending) Write(b []byte) (int, error) { return p.f.Write(b) }

// Commit syncs the temporary file, renames it into place and syncs the
// directory, so the object survives a crash once Commit returns.
func (p *localPending) Commit() error {
	if p.done {
		return errors.New("blob: already committed or aborted")
	}
	p.done = true
	tmp := p.f.Name()
	err := p.f.Sync()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(p.path), 0o700)
	}
	if err == nil {
		err = os.Rename(tmp, p.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("blob: %w", err)
	}
	return syncDir(filepath.Dir(p.path))
}

// Abort removes the temporary file.
func (p *localPending) Abort() error {
	if p.done {
		return nil
	}
	p.done = true
	p.f.Close()
	return os.Remove(p.f.Name())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}
