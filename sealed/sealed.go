// Package sealed encrypts stored objects (file bodies, thumbnails) so that
// whoever holds the disk or the bucket learns nothing from them and can
// change nothing unnoticed.
//
// Each object has its own random 256-bit data key. Its plaintext is cut
// into chunks of ChunkPlainSize bytes, and each chunk is one ciphertext of
// Tink's streaming AEAD AES-GCM-HKDF (AES-256-GCM under a key derived with
// HKDF-SHA256 from the data key and a random salt per chunk) in segments of
// SegmentSize bytes, sixteen to a full chunk. A chunk's associated data
// names the object, the chunk's index and whether it is the last, so chunks
// cannot be altered, swapped between positions or objects, dropped or
// appended without decryption failing; within a chunk, Tink's segment
// nonces do the same for segments. A chunk is exactly ChunkCipherSize
// bytes when full, so any byte range of the plaintext is read by
// decrypting only the chunks that hold it, and of the first of them only
// the segments up to the range's end.
//
// Segments of 64 KiB rather than Tink's 1 MiB keep the buffers Tink
// allocates for each chunk small: a download spends its time decrypting,
// not clearing fresh memory.
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
	// SegmentSize is the stored size of one segment of Tink's streaming
	// AEAD, the unit that is authenticated and decrypted at once.
	SegmentSize = 64 << 10
	// segmentsPerChunk is the number of segments of a full chunk.
	segmentsPerChunk = 16
	// ChunkCipherSize is the stored size of a full chunk.
	ChunkCipherSize = segmentsPerChunk * SegmentSize
	// headerSize is a chunk's Tink header: a length byte, a 32-byte salt
	// and a 7-byte nonce prefix.
	headerSize = 1 + 32 + 7
	// tagSize is the GCM tag that ends each segment.
	tagSize = 16
	// ChunkPlainSize is the plaintext held by a full chunk.
	ChunkPlainSize = ChunkCipherSize - headerSize - segmentsPerChunk*tagSize
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
	return (chunks-1)*ChunkCipherSize + chunkCipherLen(n-(chunks-1)*ChunkPlainSize)
}

// chunkCipherLen is the stored size of a chunk of n plaintext bytes: its
// header, its bytes and a tag per segment. The first segment holds the
// header too; a chunk has at least one segment, even when empty.
func chunkCipherLen(n int64) int64 {
	const first = SegmentSize - headerSize - tagSize
	segments := int64(1)
	if n > first {
		segments += (n - first + SegmentSize - tagSize - 1) / (SegmentSize - tagSize)
	}
	return headerSize + n + segments*tagSize
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
	return subtle.NewAESGCMHKDF(key, "SHA256", KeySize, SegmentSize, 0)
}

// chunkAD is the associated data of chunk i of object id.
func chunkAD(id string, i int64, last bool) []byte {
	ad := make([]byte, 0, len(id)+32)
	ad = append(ad, "atrium/object/v2\x00"...)
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
