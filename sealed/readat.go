package sealed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// chunkBufs holds the buffers ReadAt reads stored chunks into.
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, ChunkCipherSize); return &b }}

// ReadAt reads len(p) bytes of plaintext from offset off (io.ReaderAt).
// Unlike Read it keeps no state of its own: several goroutines may call it
// at once, each decrypting the chunks it needs, which is how a download
// uses more than one core. It reuses the stored chunk that Open or Read
// last loaded rather than read it again, so it must not run alongside
// them. A read aligned on ChunkPlainSize decrypts whole chunks and skips
// nothing.
//
// A segment that fails authentication makes ReadAt return ErrCorrupt with
// no byte read (of this call, whatever part was sound). Err reports the
// first error ReadAt met, other than io.EOF, from then on.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("sealed: negative offset")
	}
	n := 0
	for n < len(p) {
		if off >= r.size {
			return n, io.EOF
		}
		i := off / ChunkPlainSize
		at := off - i*ChunkPlainSize
		k, err := r.readChunkAt(p[n:], i, at)
		if err != nil {
			r.failed.CompareAndSwap(nil, &err)
			if errors.Is(err, ErrCorrupt) {
				return 0, err
			}
			return n, err
		}
		n += k
		off += int64(k)
	}
	return n, nil
}

// readChunkAt decrypts chunk i from plaintext offset at into p, as much of
// it as p holds, and returns how many bytes it read.
func (r *Reader) readChunkAt(p []byte, i, at int64) (int, error) {
	ct, err := r.storedChunk(i)
	if err != nil {
		return 0, err
	}
	if ct.pooled != nil {
		defer chunkBufs.Put(ct.pooled)
	}
	dr, err := r.c.NewDecryptingReader(bytes.NewReader(ct.bytes), chunkAD(r.id, i, i == chunkCount(r.size)-1))
	if err != nil {
		return 0, ErrCorrupt
	}
	if at > 0 {
		if _, err := io.CopyN(io.Discard, dr, at); err != nil {
			return 0, ErrCorrupt
		}
	}
	want := min(int64(len(p)), r.plainLen(i)-at)
	if _, err := io.ReadFull(dr, p[:want]); err != nil {
		return 0, ErrCorrupt
	}
	return int(want), nil
}

// storedBytes is a stored chunk read for ReadAt: in a pooled buffer, or
// the one Open or Read loaded.
type storedBytes struct {
	bytes  []byte
	pooled *[]byte // to return to chunkBufs, if the buffer came from it
}

// storedChunk returns chunk i's stored bytes: those the Reader holds if it
// loaded that chunk (Open did, for the first bytes of a download), else
// read whole into a pooled buffer.
func (r *Reader) storedChunk(i int64) (storedBytes, error) {
	n := chunkCipherLen(r.plainLen(i))
	if i == r.index && r.ct != nil {
		return storedBytes{bytes: r.ct[:n]}, nil
	}
	buf := chunkBufs.Get().(*[]byte)
	ct := (*buf)[:n]
	if k, err := r.src.ReadAt(ct, i*ChunkCipherSize); k < len(ct) {
		chunkBufs.Put(buf)
		if err == nil || errors.Is(err, io.EOF) {
			return storedBytes{}, ErrCorrupt
		}
		return storedBytes{}, fmt.Errorf("sealed: reading chunk %d: %w", i, err)
	}
	return storedBytes{bytes: ct, pooled: buf}, nil
}
