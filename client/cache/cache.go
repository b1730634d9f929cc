// Package cache keeps an app's local copy of Atrium data (messages, file
// metadata, anything it likes) in a directory, encrypted under the
// session's device key (Client.DeviceKey), which the device holds only in
// memory. The server destroys that key at logout and at a remote wipe, so
// a lost device that never connects again still cannot read its cache;
// one that does connect gets the wipe command and erases it (Erase, via
// Client.Wipe).
//
// Each entry is one file, sealed with AES-256-GCM (Tink's AEAD) with the
// entry's name as associated data, so entries cannot be altered or
// swapped unnoticed.
package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/tink-crypto/tink-go/v2/aead/subtle"
)

// ErrNotFound reports an entry that is not in the cache.
var ErrNotFound = errors.New("cache: no such entry")

// ErrUnreadable reports an entry that does not decrypt under the key:
// written under another device key, or changed.
var ErrUnreadable = errors.New("cache: the entry cannot be read with this device key")

// Cache is an encrypted directory of entries.
type Cache struct {
	mu   sync.Mutex
	dir  string
	aead *subtle.AESGCM
}

// Open opens (creating if need be) a cache in dir under a 32-byte device
// key.
func Open(dir string, key []byte) (*Cache, error) {
	a, err := subtle.NewAESGCM(key)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Cache{dir: dir, aead: a}, nil
}

// path is where an entry lives: its name's hash, so names leak nothing.
func (c *Cache) path(name string) string {
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:]))
}

// Put stores value under name, replacing what was there.
func (c *Cache) Put(name string, value []byte) error {
	sealed, err := c.aead.Encrypt(value, []byte("atrium/cache/v1/"+name))
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(sealed); err != nil {
		tmp.Close()
		return fmt.Errorf("cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path(name)); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Get returns the value stored under name: ErrNotFound if there is none,
// ErrUnreadable if it does not decrypt under this cache's key.
func (c *Cache) Get(name string) ([]byte, error) {
	c.mu.Lock()
	data, err := os.ReadFile(c.path(name))
	c.mu.Unlock()
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	v, err := c.aead.Decrypt(data, []byte("atrium/cache/v1/"+name))
	if err != nil {
		return nil, ErrUnreadable
	}
	return v, nil
}

// Erase removes every entry and the directory itself.
func (c *Cache) Erase() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("cache: erasing: %w", err)
	}
	return nil
}
