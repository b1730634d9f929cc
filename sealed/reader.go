package sealed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"
)

// Reader reads an object's plaintext from any offset (it is an
// io.ReadSeeker), decrypting only the chunks that hold the bytes read, one
// at a time, and of each only the segments up to the last byte read. A
// segment that fails authentication makes Read return ErrCorrupt, and
// every Read after; no byte of it is returned. ReadAt reads the same way
// from several goroutines at once.
type Reader struct {
	src   io.ReaderAt
	c     *subtle.AESGCMHKDF
	id    string
	size  int64 // the object's plaintext size
	off   int64 // the next plaintext offset to return
	index int64 // the chunk dr decrypts, or -1
	dr    io.Reader
	pos   int64 // the offset in chunk index of the next byte of dr
	peek  []byte
	ct    []byte // the stored bytes of chunk index
	err   error
	// failed is the first error a ReadAt met, if any.
	failed atomic.Pointer[error]
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

// Open decrypts the segment that holds the next byte to read (at or past
// the end, the rest of the last chunk), so that a damaged object is known
// before anything is sent.
func (r *Reader) Open() error {
	if r.err != nil {
		return r.err
	}
	i := min(r.off/ChunkPlainSize, chunkCount(r.size)-1)
	at := min(r.off-i*ChunkPlainSize, r.plainLen(i))
	if err := r.position(i, at); err != nil {
		r.err = err
		return err
	}
	if at == r.plainLen(i) {
		// Nothing left to read here: make Tink authenticate the chunk's
		// end, which also checks an empty object.
		if k, err := io.Copy(io.Discard, io.LimitReader(r.dr, 1)); k != 0 || err != nil {
			r.err = ErrCorrupt
		}
		r.index = -1
		return r.err
	}
	if len(r.peek) == 0 {
		var b [1]byte
		if _, err := io.ReadFull(r.dr, b[:]); err != nil {
			r.index = -1
			r.err = ErrCorrupt
			return r.err
		}
		r.peek = append(r.peek[:0], b[0])
	}
	return nil
}

// Err returns the error that stopped reading (Read's, or the corruption
// ReadAt met), if any.
func (r *Reader) Err() error {
	if r.err != nil {
		return r.err
	}
	if err := r.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// Read decrypts the segment holding the next byte if need be and copies
// from it.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	i := r.off / ChunkPlainSize
	at := r.off - i*ChunkPlainSize
	if err := r.position(i, at); err != nil {
		r.err = err
		return 0, err
	}
	p = p[:min(int64(len(p)), r.plainLen(i)-at)]
	n := copy(p, r.peek)
	r.peek = r.peek[:0]
	for n < len(p) {
		k, err := r.dr.Read(p[n:])
		n += k
		if err != nil {
			// The stored chunk, read whole, ended early or failed
			// authentication: nothing of this read is returned.
			r.err = ErrCorrupt
			return 0, r.err
		}
		if k == 0 {
			break
		}
	}
	r.pos += int64(n)
	r.off += int64(n)
	return n, nil
}

// plainLen is the plaintext size of chunk i.
func (r *Reader) plainLen(i int64) int64 {
	return min(ChunkPlainSize, r.size-i*ChunkPlainSize)
}

// position makes dr return byte at of chunk i next: it starts decrypting
// the chunk afresh if need be, then skips what lies before.
func (r *Reader) position(i, at int64) error {
	if i != r.index || at < r.pos {
		if err := r.load(i); err != nil {
			r.index = -1
			return err
		}
	}
	if skip := at - r.pos; skip > 0 {
		if len(r.peek) > 0 {
			r.peek = r.peek[:0]
			r.pos++
			skip--
		}
		if _, err := io.CopyN(io.Discard, r.dr, skip); err != nil {
			r.index = -1
			return ErrCorrupt
		}
		r.pos = at
	}
	return nil
}

// load reads chunk i's stored bytes, in one read since each read of a
// remote store is a request of its own, and starts decrypting them.
func (r *Reader) load(i int64) error {
	last := i == chunkCount(r.size)-1
	if r.ct == nil {
		r.ct = make([]byte, ChunkCipherSize)
	}
	ct := r.ct[:chunkCipherLen(r.plainLen(i))]
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
	r.index, r.dr, r.pos, r.peek = i, dr, 0, r.peek[:0]
	return nil
}
