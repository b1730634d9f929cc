package keyring

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/sealed"
)

func TestCreateRotateRetire(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "master.keys")
	k, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring file mode %v", fi.Mode().Perm())
	}
	key, _ := sealed.NewKey()
	first, wrapped, err := k.Wrap(ctx, key, "org A")
	if err != nil {
		t.Fatal(err)
	}
	second, err := k.Rotate()
	if err != nil || second == first || k.Current() != second {
		t.Fatalf("rotate: %q %v", second, err)
	}
	// Reloaded, both keys are there and the old one still unwraps.
	k, created, err = LoadOrCreate(path)
	if err != nil || created || k.Current() != second || len(k.IDs()) != 2 {
		t.Fatalf("reload: %v %v %v", k.IDs(), created, err)
	}
	if got, err := k.Unwrap(ctx, first, wrapped, "org A"); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap under the old key: %v", err)
	}
	if err := k.Retire(second); err == nil {
		t.Fatal("the current key was retired")
	}
	if err := k.Retire(first); err != nil {
		t.Fatal(err)
	}
	k, _ = Load(path)
	if _, err := k.Unwrap(ctx, first, wrapped, "org A"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unwrap under a retired key: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.keys")
	if _, _, err := LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	if _, err := Load(path); err == nil {
		t.Fatal("a world-readable keyring was loaded")
	}
	for name, data := range map[string]string{
		"not JSON":         "nope",
		"short key":        `{"current":"a","keys":[{"id":"a","key":"AAAA"}]}`,
		"missing current":  `{"current":"b","keys":[{"id":"a","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}`,
		"repeated key ids": `{"current":"a","keys":[{"id":"a","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},{"id":"a","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}`,
	} {
		if _, err := Parse([]byte(data)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	k, err := Parse([]byte(`{"current":"a","keys":[{"id":"a","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Rotate(); err == nil {
		t.Fatal("a keyring from the environment was rotated")
	}
}

// A server's keyring follows a rotation and a retirement made by another
// process: it wraps under the new key at once, and still unwraps what the
// old key wrapped until it is retired.
func TestAnotherProcessRotates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "master.keys")
	server, _, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := sealed.NewKey()
	old, wrapped, _ := server.Wrap(ctx, key, "org A")
	admin, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := admin.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := server.Wrap(ctx, key, "org B"); err != nil || got != fresh {
		t.Fatalf("the server wrapped under %q, not the new key %q: %v", got, fresh, err)
	}
	if _, err := server.Unwrap(ctx, old, wrapped, "org A"); err != nil {
		t.Fatalf("the old key before retirement: %v", err)
	}
	if err := admin.Retire(old); err != nil {
		t.Fatal(err)
	}
	if server.Has(old) {
		t.Fatal("the server still has a retired key")
	}
	if err := os.WriteFile(path, []byte("damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Unwrap(ctx, "mk-unknown", wrapped, "org A"); err == nil || errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a keyring file that cannot be read again: %v", err)
	}
}

func TestSigningKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit-signing.key")
	k, created, err := LoadOrCreateSigningKey(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	again, created, err := LoadOrCreateSigningKey(path)
	if err != nil || created || again.ID != k.ID {
		t.Fatalf("reload: %v %v", created, err)
	}
	sig := k.Sign([]byte("head"))
	if !again.Verify([]byte("head"), sig) || again.Verify([]byte("heads"), sig) {
		t.Fatal("signatures do not verify as they should")
	}
	os.Chmod(path, 0o644)
	if _, err := LoadSigningKey(path); err == nil {
		t.Fatal("a key others may read was loaded")
	}
	os.WriteFile(path, []byte(`{"id":"ed25519-0000000000000000","ed25519_seed":"`+strings.Repeat("A", 43)+`="}`), 0o600)
	if _, err := LoadSigningKey(path); err == nil {
		t.Fatal("a key whose id does not match was loaded")
	}
}
