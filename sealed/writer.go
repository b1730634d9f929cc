package sealed

import (
	"errors"
	"fmt"
	"io"

	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"
)

// Writer encrypts an object as its plaintext is written. Memory stays at
// one chunk whatever the object's size. Close must be called to write the
// last chunk; until then the stored bytes are not a complete object.
type Writer struct {
	dst    io.Writer
	c      *subtle.AESGCMHKDF
	id     string
	buf    []byte // plaintext of the chunk being filled
	index  int64
	n      int64
	err    error
	closed bool
}

// NewWriter returns a Writer that encrypts object id under key into dst.
func NewWriter(dst io.Writer, key Key, id string) (*Writer, error) {
	c, err := streamCipher(key)
	if err != nil {
		return nil, err
	}
	return &Writer{dst: dst, c: c, id: id, buf: make([]byte, 0, ChunkPlainSize)}, nil
}

// Write encrypts p. A full chunk is written once more plaintext follows it,
// since only then is it known not to be the last.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("sealed: write after close")
	}
	n := 0
	for len(p) > 0 {
		if w.err != nil {
			return n, w.err
		}
		if len(w.buf) == ChunkPlainSize {
			w.err = w.flush(false)
			continue
		}
		k := copy(w.buf[len(w.buf):ChunkPlainSize], p)
		w.buf = w.buf[:len(w.buf)+k]
		p = p[k:]
		n += k
		w.n += int64(k)
	}
	return n, w.err
}

// Size returns the plaintext bytes written so far.
func (w *Writer) Size() int64 { return w.n }

// Close writes the last chunk. It does not close the destination.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil {
		w.err = w.flush(true)
	}
	return w.err
}

// flush encrypts the buffered plaintext as the next chunk.
func (w *Writer) flush(last bool) error {
	ew, err := w.c.NewEncryptingWriter(w.dst, chunkAD(w.id, w.index, last))
	if err != nil {
		return fmt.Errorf("sealed: chunk %d: %w", w.index, err)
	}
	if _, err := ew.Write(w.buf); err != nil {
		return fmt.Errorf("sealed: chunk %d: %w", w.index, err)
	}
	if err := ew.Close(); err != nil {
		return fmt.Errorf("sealed: chunk %d: %w", w.index, err)
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}
