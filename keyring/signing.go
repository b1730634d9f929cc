package keyring

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// SigningKey is the Ed25519 key that signs the audit log's checkpoints.
// It is kept in a 0600 file beside the master keys.
type SigningKey struct {
	// ID names the key: the first bytes of its public key's SHA-256.
	ID      string
	private ed25519.PrivateKey
}

type signingFile struct {
	ID   string `json:"id"`
	Seed string `json:"ed25519_seed"` // base64
}

// Sign signs msg.
func (k *SigningKey) Sign(msg []byte) []byte { return ed25519.Sign(k.private, msg) }

// Verify checks a signature by this key.
func (k *SigningKey) Verify(msg, sig []byte) bool {
	return ed25519.Verify(k.private.Public().(ed25519.PublicKey), msg, sig)
}

// PublicKey is the key's public half, for verifiers elsewhere.
func (k *SigningKey) PublicKey() ed25519.PublicKey { return k.private.Public().(ed25519.PublicKey) }

func signingKeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519-" + hex.EncodeToString(sum[:8])
}

// LoadSigningKey reads a signing key file, refusing one others may read.
func LoadSigningKey(path string) (*SigningKey, error) {
	data, _, err := readPrivate(path)
	if err != nil {
		return nil, err
	}
	var f signingFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("keyring: %s: %w", path, err)
	}
	seed, err := base64.StdEncoding.DecodeString(f.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keyring: %s: not an Ed25519 key", path)
	}
	k := &SigningKey{private: ed25519.NewKeyFromSeed(seed)}
	k.ID = signingKeyID(k.PublicKey())
	if f.ID != k.ID {
		return nil, fmt.Errorf("keyring: %s: the key's id %q does not match the key", path, f.ID)
	}
	return k, nil
}

// LoadOrCreateSigningKey reads the signing key file, creating it with a
// fresh key if there is none.
func LoadOrCreateSigningKey(path string) (*SigningKey, bool, error) {
	k, err := LoadSigningKey(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, false, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, false, fmt.Errorf("keyring: %w", err)
	}
	k = &SigningKey{private: ed25519.NewKeyFromSeed(seed)}
	k.ID = signingKeyID(k.PublicKey())
	data, _ := json.MarshalIndent(signingFile{ID: k.ID, Seed: base64.StdEncoding.EncodeToString(seed)}, "", "  ")
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return nil, false, err
	}
	return k, true, nil
}
