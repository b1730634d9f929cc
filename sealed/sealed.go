// Package sealed encrypts stored objects (file bodies, thumbnails) so that
// whoever holds the disk or the bucket learns nothing from them and can
// change nothing unnoticed.
//
// Each object has its own random 256-bit data key. Its plaintext is cut
// into chunks of ChunkPlainSize bytes, and each chunk is one ciphertext of
// Tink's streaming AEAD with the AES256_GCM_HKDF_1MB parameters (AES-256-GCM
// under a key derived with HKDF-SHA256 from the data key and a random salt
// per chunk). A chunk's associated data names the object, the chunk's index
// and whether it is the last, so chunks cannot be altered, swapped between
// positions or objects, dropped or appended without decryption failing. A
// chunk is exactly ChunkCipherSize bytes when full, so any byte range of
// the plaintext is read by decrypting only the chunks that hold it.
//
// Data keys are kept wrapped (see Wrap) under a key of the object's
// organisation.
package sealed

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	tinkaead "github.com/tink-crypto/tink-go/v2/aead/subtle"
	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"
)

const (
	// ChunkCipherSize is the stored size of a full chunk: one segment of
	// Tink's AES256_GCM_HKDF_1MB streaming AEAD.
	ChunkCipherSize = 1 << 20
	// chunkOverhead is the header (length byte, 32-byte salt, 7-byte nonce
	// prefix) and the 16-byte GCM tag of one chunk.
	chunkOverhead = 1 + 32 + 7 + 16
	// ChunkPlainSize is the plaintext held by a full chunk.
	ChunkPlainSize = ChunkCipherSize - chunkOverhead
	// KeySize is the size of data keys and of the keys that wrap them.
	KeySize = 32
)

// ErrCorrupt reports a stored object or wrapped key that fails
// authentication: it was changed, truncated or extended, or belongs to
// another object.
var ErrCorrupt = errors.New("sealed: the stored data fails authentication")

// Key is a 256-bit key: an object's data key, or a key that wraps others.
type Key []byte

// NewKey returns a fresh random key.
func NewKey() (Key, error) {
	k := make(Key, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("sealed: random key: %w", err)
	}
	return k, nil
}

// CipherSize returns the stored size of an object of n plaintext bytes. An
// empty object is one empty chunk.
func CipherSize(n int64) int64 {
	chunks := chunkCount(n)
	return n + chunks*chunkOverhead
}

// chunkCount is the number of chunks of an object of n plaintext bytes.
func chunkCount(n int64) int64 {
	if n == 0 {
		return 1
	}
	return (n + ChunkPlainSize - 1) / ChunkPlainSize
}

// streamCipher returns the streaming AEAD for a data key.
func streamCipher(key Key) (*subtle.AESGCMHKDF, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealed: a data key has %d bytes, not %d", len(key), KeySize)
	}
	return subtle.NewAESGCMHKDF(key, "SHA256", KeySize, ChunkCipherSize, 0)
}

// chunkAD is the associated data of chunk i of object id.
func chunkAD(id string, i int64, last bool) []byte {
	ad := make([]byte, 0, len(id)+32)
	ad = append(ad, "atrium/object/v1\x00"...)
	ad = append(ad, id...)
	ad = append(ad, 0)
	ad = binary.BigEndian.AppendUint64(ad, uint64(i))
	if last {
		return append(ad, 1)
	}
	return append(ad, 0)
}

// Wrap encrypts key under kek (AES-256-GCM, Tink's AEAD) with associated
// data naming what the key is for, so a wrapped key cannot be moved to
// another object or organisation.
func Wrap(kek, key Key, ad string) ([]byte, error) {
	a, err := tinkaead.NewAESGCM(kek)
	if err != nil {
		return nil, fmt.Errorf("sealed: wrapping key: %w", err)
	}
	return a.Encrypt(key, []byte(ad))
}

// Unwrap decrypts a key wrapped by Wrap with the same associated data;
// ErrCorrupt if it fails authentication.
func Unwrap(kek Key, wrapped []byte, ad string) (Key, error) {
	a, err := tinkaead.NewAESGCM(kek)
	if err != nil {
		return nil, fmt.Errorf("sealed: wrapping key: %w", err)
	}
	key, err := a.Decrypt(wrapped, []byte(ad))
	if err != nil {
		return nil, ErrCorrupt
	}
	return key, nil
}
