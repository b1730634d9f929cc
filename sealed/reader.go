package sealed

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"
)

// Reader reads an object's plaintext from any offset (it is an
// io.ReadSeeker), decrypting only the chunks that hold the bytes read, one
// at a time. A chunk that fails authentication makes Read return
// ErrCorrupt, and every Read after; no byte of it is returned.
type Reader struct {
	src   io.ReaderAt
	c     *subtle.AESGCMHKDF
	id    string
	size  int64 // the object's plaintext size
	off   int64 // the next plaintext offset to return
	index int64 // the chunk in plain, or -1
	ct    []byte
	plain []byte
	err   error
}

// NewReader returns a Reader of object id, of plaintext size size, whose
// stored bytes (storedSize of them) src reads. ErrCorrupt if storedSize is
// not what an object of that size takes.
func NewReader(src io.ReaderAt, storedSize int64, key Key, id string, size int64) (*Reader, error) {
	if size < 0 {
		return nil, fmt.Errorf("sealed: an object of %d bytes", size)
	}
	if storedSize != CipherSize(size) {
		return nil, ErrCorrupt
	}
	c, err := streamCipher(key)
	if err != nil {
		return nil, err
	}
	return &Reader{src: src, c: c, id: id, size: size, index: -1}, nil
}

// Seek sets the offset of the next Read. Offsets past the end read
// nothing.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return r.off, errors.New("sealed: bad whence")
	}
	if offset < 0 {
		return r.off, errors.New("sealed: negative offset")
	}
	r.off = offset
	return offset, nil
}

// Open decrypts the chunk that holds the next byte to read (at or past the
// end, the last chunk), so that a damaged object is known before anything
// is sent.
func (r *Reader) Open() error {
	if r.err != nil {
		return r.err
	}
	i := min(r.off/ChunkPlainSize, chunkCount(r.size)-1)
	if i != r.index {
		r.err = r.load(i)
	}
	return r.err
}

// Err returns the error that stopped reading, if any.
func (r *Reader) Err() error { return r.err }

// Read decrypts the chunk holding the next byte if need be and copies from
// it.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.off >= r.size {
		return 0, io.EOF
	}
	i := r.off / ChunkPlainSize
	if i != r.index {
		if err := r.load(i); err != nil {
			r.err = err
			return 0, err
		}
	}
	start := r.off - i*ChunkPlainSize
	n := copy(p, r.plain[start:])
	r.off += int64(n)
	return n, nil
}

// load reads and decrypts chunk i.
func (r *Reader) load(i int64) error {
	last := i == chunkCount(r.size)-1
	plainLen := int64(ChunkPlainSize)
	if last {
		plainLen = r.size - i*ChunkPlainSize
	}
	ctLen := plainLen + chunkOverhead
	if r.ct == nil {
		r.ct = make([]byte, ChunkCipherSize)
		r.plain = make([]byte, ChunkPlainSize)
	}
	ct := r.ct[:ctLen]
	if k, err := r.src.ReadAt(ct, i*ChunkCipherSize); k < len(ct) {
		if err == nil || errors.Is(err, io.EOF) {
			return ErrCorrupt
		}
		return fmt.Errorf("sealed: reading chunk %d: %w", i, err)
	}
	dr, err := r.c.NewDecryptingReader(bytes.NewReader(ct), chunkAD(r.id, i, last))
	if err != nil {
		return ErrCorrupt
	}
	r.plain = r.plain[:plainLen]
	if _, err := io.ReadFull(dr, r.plain); err != nil {
		r.index = -1
		return ErrCorrupt
	}
	// The chunk must end here. (Reading on also makes Tink authenticate
	// an empty chunk, of which ReadFull read nothing.)
	if k, err := io.Copy(io.Discard, io.LimitReader(dr, 1)); k != 0 || err != nil {
		r.index = -1
		return ErrCorrupt
	}
	r.index = i
	return nil
}
