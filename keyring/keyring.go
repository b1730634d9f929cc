// Package keyring holds Atrium's master keys: the key-encryption keys that
// wrap each organisation's key. Every key has an id, stored beside what it
// wraps, so that after a rotation the old keys keep unwrapping what they
// wrapped until everything is re-wrapped and they are retired.
//
// By default the keyring is a JSON file of mode 0600 in the data dir,
// created at first start. An operator may keep it elsewhere (a file named
// by a flag) or pass its JSON in an environment variable. The Wrapper
// interface leaves room for an external key-management service.
package keyring

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/atrium-dev/atrium/sealed"
)

// Wrapper wraps and unwraps keys under master keys. Keyring implements it;
// a key-management service could too.
type Wrapper interface {
	// Wrap encrypts key under the current master key, with associated
	// data ad, and names the master key used.
	Wrap(ctx context.Context, key sealed.Key, ad string) (kekID string, wrapped []byte, err error)
	// Unwrap decrypts a key wrapped under master key kekID.
	Unwrap(ctx context.Context, kekID string, wrapped []byte, ad string) (sealed.Key, error)
	// Has reports whether master key kekID is available.
	Has(kekID string) bool
	// Current names the master key that Wrap uses.
	Current() string
}

// ErrUnknownKey reports a master key that is not in the keyring.
var ErrUnknownKey = errors.New("keyring: no such master key")

// Keyring is a set of master keys, one of them current. It is safe for
// concurrent use. A keyring read from a file reads it again when the file
// has changed, before it wraps and when it is asked for a key it does not
// hold, so a server follows `atrium keys rotate` and `keys retire` while
// it runs.
type Keyring struct {
	mu      sync.RWMutex
	file    fileFormat
	byID    map[string]sealed.Key
	path    string // where it is saved, or "" if it came from elsewhere
	stamp   stamp  // the file's state when it was read or written
	current string
}

// stamp tells a changed keyring file.
type stamp struct {
	mod  time.Time
	size int64
}

func fileStamp(path string) (stamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}, fmt.Errorf("keyring: %w", err)
	}
	return stamp{mod: fi.ModTime(), size: fi.Size()}, nil
}

// fileFormat is the keyring's JSON form.
type fileFormat struct {
	Current string     `json:"current"`
	Keys    []keyEntry `json:"keys"`
}

type keyEntry struct {
	ID        string    `json:"id"`
	Key       []byte    `json:"key"` // base64 in JSON
	CreatedAt time.Time `json:"created_at"`
}

// Parse reads a keyring from its JSON form.
func Parse(data []byte) (*Keyring, error) {
	var f fileFormat
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	k := &Keyring{file: f, byID: map[string]sealed.Key{}, current: f.Current}
	for _, e := range f.Keys {
		if len(e.Key) != sealed.KeySize {
			return nil, fmt.Errorf("keyring: master key %q has %d bytes, not %d", e.ID, len(e.Key), sealed.KeySize)
		}
		if e.ID == "" || k.byID[e.ID] != nil {
			return nil, fmt.Errorf("keyring: master key id %q is empty or repeated", e.ID)
		}
		k.byID[e.ID] = e.Key
	}
	if k.byID[f.Current] == nil {
		return nil, fmt.Errorf("keyring: the current master key %q is not in the keyring", f.Current)
	}
	return k, nil
}

// Load reads the keyring file at path. It refuses a file that others than
// its owner may read.
func Load(path string) (*Keyring, error) {
	data, fi, err := readPrivate(path)
	if err != nil {
		return nil, err
	}
	k, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	k.path, k.stamp = path, stamp{mod: fi.ModTime(), size: fi.Size()}
	return k, nil
}

// LoadOrCreate loads the keyring file at path, creating it with one new
// master key if there is none.
func LoadOrCreate(path string) (k *Keyring, created bool, err error) {
	k, err = Load(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, false, err
	}
	k = &Keyring{byID: map[string]sealed.Key{}, path: path}
	if _, err := k.add(); err != nil {
		return nil, false, err
	}
	if err := k.save(); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// Current names the master key that Wrap uses.
func (k *Keyring) Current() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

// IDs lists the master keys, oldest first.
func (k *Keyring) IDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, len(k.file.Keys))
	for i, e := range k.file.Keys {
		ids[i] = e.ID
	}
	return ids
}

// Has reports whether master key id is in the keyring as its file says
// now (a key retired meanwhile is not).
func (k *Keyring) Has(id string) bool {
	if err := k.refresh(); err != nil {
		return false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.byID[id] != nil
}

// Wrap encrypts key under the current master key, as the keyring file
// says now.
func (k *Keyring) Wrap(_ context.Context, key sealed.Key, ad string) (string, []byte, error) {
	if err := k.refresh(); err != nil {
		return "", nil, err
	}
	k.mu.RLock()
	id, kek := k.current, k.byID[k.current]
	k.mu.RUnlock()
	w, err := sealed.Wrap(kek, key, ad)
	return id, w, err
}

// Unwrap decrypts a key wrapped under master key id.
func (k *Keyring) Unwrap(_ context.Context, id string, wrapped []byte, ad string) (sealed.Key, error) {
	kek, err := k.key(id)
	if err != nil {
		return nil, err
	}
	if kek == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, id)
	}
	return sealed.Unwrap(kek, wrapped, ad)
}

// key returns master key id (nil if there is none), reading the keyring
// file again if it is not held and the file changed.
func (k *Keyring) key(id string) (sealed.Key, error) {
	k.mu.RLock()
	kek := k.byID[id]
	k.mu.RUnlock()
	if kek != nil {
		return kek, nil
	}
	if err := k.refresh(); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.byID[id], nil
}

// refresh reads the keyring file again if it changed since it was read or
// written here. Reloads are serialised, so an older read never replaces a
// newer one.
func (k *Keyring) refresh() error {
	if k.path == "" {
		return nil
	}
	st, err := fileStamp(k.path)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if st == k.stamp {
		return nil
	}
	fresh, err := Load(k.path)
	if err != nil {
		return err
	}
	k.file, k.byID, k.current, k.stamp = fresh.file, fresh.byID, fresh.current, fresh.stamp
	return nil
}

// Rotate adds a new master key, makes it current and saves the keyring.
func (k *Keyring) Rotate() (string, error) {
	if err := k.refresh(); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.path == "" {
		return "", errors.New("keyring: this keyring was not read from a file; add the new key where it is kept")
	}
	id, err := k.add()
	if err != nil {
		return "", err
	}
	return id, k.save()
}

// Retire removes master key id and saves the keyring. The caller checks
// first that nothing is wrapped under it; the current key cannot go.
func (k *Keyring) Retire(id string) error {
	if err := k.refresh(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.path == "" {
		return errors.New("keyring: this keyring was not read from a file; remove the key where it is kept")
	}
	if k.byID[id] == nil {
		return fmt.Errorf("%w: %q", ErrUnknownKey, id)
	}
	if id == k.current {
		return fmt.Errorf("keyring: %q is the current master key; rotate first", id)
	}
	delete(k.byID, id)
	k.file.Keys = slices.DeleteFunc(k.file.Keys, func(e keyEntry) bool { return e.ID == id })
	return k.save()
}

// add creates a master key and makes it current.
func (k *Keyring) add() (string, error) {
	key, err := sealed.NewKey()
	if err != nil {
		return "", err
	}
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	now := time.Now().UTC()
	id := "mk-" + now.Format("20060102") + "-" + hex.EncodeToString(suffix[:])
	k.file.Keys = append(k.file.Keys, keyEntry{ID: id, Key: key, CreatedAt: now})
	k.file.Current, k.current = id, id
	k.byID[id] = key
	return id, nil
}

// save writes the keyring file atomically: a temporary file of mode 0600,
// synced, then renamed over the old one.
func (k *Keyring) save() error {
	data, err := json.MarshalIndent(k.file, "", "  ")
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if err := writeFileAtomic(k.path, append(data, '\n')); err != nil {
		return err
	}
	if st, err := fileStamp(k.path); err == nil {
		k.stamp = st
	}
	return nil
}

// writeFileAtomic writes a file of mode 0600 atomically: a temporary file,
// synced, then renamed over the old one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keyring-*")
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// readPrivate reads a key file, refusing one that others than its owner
// may read.
func readPrivate(path string) ([]byte, os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, nil, fmt.Errorf("keyring: %s is readable by others (mode %v); make it 0600", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: %w", err)
	}
	return data, fi, nil
}
