package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"io"
	"testing"
)

const benchSize = 64 << 20

// BenchmarkRawGCMOpen is the yardstick: Go's AES-256-GCM opening 1 MiB
// segments on one core.
func BenchmarkRawGCMOpen(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	plain := make([]byte, 1<<20)
	sealed := gcm.Seal(nil, nonce, plain, nil)
	buf := make([]byte, 0, len(sealed))
	b.SetBytes(1 << 20)
	for b.Loop() {
		if _, err := gcm.Open(buf[:0], nonce, sealed, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader decrypts a whole object through Reader.
func BenchmarkReader(b *testing.B) {
	key, _ := NewKey()
	var stored bytes.Buffer
	w, _ := NewWriter(&stored, key, "obj")
	io.CopyN(w, rand.Reader, benchSize)
	w.Close()
	src := bytes.NewReader(stored.Bytes())
	buf := make([]byte, 32<<10)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r, _ := NewReader(src, int64(stored.Len()), key, "obj", benchSize)
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriter encrypts a whole object through Writer.
func BenchmarkWriter(b *testing.B) {
	key, _ := NewKey()
	plain := make([]byte, 1<<20)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		w, _ := NewWriter(io.Discard, key, "obj")
		for i := 0; i < benchSize>>20; i++ {
			w.Write(plain)
		}
		w.Close()
	}
}
