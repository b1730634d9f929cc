package cache_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/atrium-dev/atrium/client/cache"
)

func key(t *testing.T) []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func TestCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	k := key(t)
	c, err := cache.Open(dir, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put("binder/1/messages", []byte("secret minutes")); err != nil {
		t.Fatal(err)
	}
	if err := c.Put("binder/2/messages", []byte("other")); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get("binder/1/messages"); err != nil || string(v) != "secret minutes" {
		t.Fatalf("get: %q %v", v, err)
	}
	if _, err := c.Get("nothing"); !errors.Is(err, cache.ErrNotFound) {
		t.Fatalf("a missing entry: %v", err)
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		data, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		if bytes.Contains(data, []byte("secret")) || bytes.Contains([]byte(f.Name()), []byte("binder")) {
			t.Fatalf("%s holds plaintext", f.Name())
		}
	}
	// Under another key (a destroyed device key replaced) nothing reads.
	other, _ := cache.Open(dir, key(t))
	if _, err := other.Get("binder/1/messages"); !errors.Is(err, cache.ErrUnreadable) {
		t.Fatalf("read under another key: %v", err)
	}
	// Entries swapped on disk do not read either.
	a, b := filepath.Join(dir, files[0].Name()), filepath.Join(dir, files[1].Name())
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	os.WriteFile(a, db, 0o600)
	os.WriteFile(b, da, 0o600)
	if _, err := c.Get("binder/1/messages"); !errors.Is(err, cache.ErrUnreadable) {
		t.Fatalf("a swapped entry: %v", err)
	}
	if err := c.Erase(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after erase: %v", err)
	}
	if _, err := cache.Open(dir, []byte("short")); err == nil {
		t.Fatal("a short key was taken")
	}
}
