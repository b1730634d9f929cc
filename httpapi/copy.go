package httpapi

import (
	"errors"
	"io"
	"math"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/atrium-dev/atrium/sealed"
)

// bigWrites is a ResponseWriter whose ReadFrom (which io.Copy prefers)
// copies with large writes, fewer system calls per byte sent, and reads
// (decrypts) the next buffers while the last one is being sent: on several
// goroutines at once when the body can be read at any offset (a decrypting
// reader, which http.ServeContent hands over inside an io.LimitedReader),
// on one otherwise. Each write may wait at most stall for the client (no
// limit if zero).
type bigWrites struct {
	http.ResponseWriter
	stall time.Duration
}

func (b bigWrites) ReadFrom(r io.Reader) (int64, error) {
	var w io.Writer = struct{ io.Writer }{b.ResponseWriter}
	if b.stall > 0 {
		sw, lift := newStallWriter(b.ResponseWriter, b.stall)
		defer lift()
		w = sw
	}
	if lr, ok := r.(*io.LimitedReader); ok {
		if src, ok := lr.R.(readSeekerAt); ok {
			return copyLimitedAt(w, lr, src)
		}
	}
	return pipelinedCopy(w, r)
}

// stallWriter extends the connection's write deadline before each write,
// so that a client that stops reading is cut after stall.
type stallWriter struct {
	w     io.Writer
	rc    *http.ResponseController
	stall time.Duration
}

// newStallWriter returns a writer of w's body that cuts a client taking no
// bytes for stall, and a function that lifts the deadline once the
// response is written (the connection may serve another request).
func newStallWriter(w http.ResponseWriter, stall time.Duration) (*stallWriter, func()) {
	rc := http.NewResponseController(w)
	return &stallWriter{w: w, rc: rc, stall: stall}, func() { _ = rc.SetWriteDeadline(time.Time{}) }
}

func (s *stallWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.stall))
	return s.w.Write(p)
}

// readSeekerAt is a body that can be read at any offset from several
// goroutines at once, and whose Seek says where reading stands.
type readSeekerAt interface {
	io.ReaderAt
	io.Seeker
}

// errBodyDone is what a read of a servedBody gets once the handler is done.
var errBodyDone = errors.New("httpapi: the response is over")

// servedBody is the body handed to http.ServeContent. For a request of
// several ranges, ServeContent reads it on a goroutine of its own, which
// may still be inside a Read when ServeContent returns (the client gone);
// finish waits for that Read and fails any after it, so that the handler
// may then check and close the body. ReadAt (the one-range path, on the
// handler's goroutine) passes straight through.
type servedBody struct {
	mu sync.Mutex
	b  interface {
		io.ReadSeeker
		io.ReaderAt
	}
	done bool
}

func (s *servedBody) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return 0, errBodyDone
	}
	return s.b.Read(p)
}

func (s *servedBody) Seek(offset int64, whence int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return 0, errBodyDone
	}
	return s.b.Seek(offset, whence)
}

func (s *servedBody) ReadAt(p []byte, off int64) (int, error) { return s.b.ReadAt(p, off) }

// finish waits for a Read or Seek under way and fails those that follow.
func (s *servedBody) finish() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

// copyLimitedAt copies lr, whose reader is src, to w with parallelCopy,
// and leaves lr and src as io.Copy would.
func copyLimitedAt(w io.Writer, lr *io.LimitedReader, src readSeekerAt) (int64, error) {
	off, err := src.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	n, err := parallelCopy(w, src, off, lr.N, copyWorkers())
	lr.N -= n
	if _, serr := src.Seek(off+n, io.SeekStart); err == nil {
		err = serr
	}
	return n, err
}

// readPiece is the most parallelCopy reads at once: a chunk of a stored
// object, which is decrypted whole with nothing skipped when the read is
// aligned on it.
const readPiece = sealed.ChunkPlainSize

// maxCopyWorkers bounds the goroutines reading one download, and so its
// buffers: one piece each.
const maxCopyWorkers = 4

// copyWorkers is how many goroutines read a download: one per core, within
// maxCopyWorkers.
func copyWorkers() int { return min(runtime.GOMAXPROCS(0), maxCopyWorkers) }

// piece is one read of parallelCopy, to be written in its turn.
type piece struct {
	buf *[]byte
	n   int
	err error
}

// parallelCopy copies n bytes of src from offset off to w, in pieces
// aligned on readPiece read by workers goroutines and written in order. A
// piece whose read fails is not written: what precedes it is, and the
// error is returned. If src ends first, it stops there with no error, as
// io.Copy does. It returns once every worker has stopped.
func parallelCopy(w io.Writer, src io.ReaderAt, off, n int64, workers int) (int64, error) {
	if n <= 0 || off < 0 {
		return 0, nil
	}
	end := off + min(n, math.MaxInt64-off) // no overflow past the largest offset
	// Piece k covers [bound(k), bound(k+1)): the first runs from off to the
	// next multiple of readPiece, each next one a whole readPiece.
	first := off / readPiece
	bound := func(k int64) int64 { return min(end, max(off, (first+k)*readPiece)) }
	count := (end-1)/readPiece - first + 1
	workers = int(min(int64(max(workers, 1)), count))

	// Each worker has one buffer of its own: it reads the next piece into
	// it once the last one it read is written. (With buffers shared, all of
	// them could be taken by workers ahead of the one whose piece is written
	// next.) One buffer per worker is enough to keep the socket busy: while
	// one worker's piece is written, the others read theirs. A lone worker
	// has two, to read the next piece while the last is written.
	perWorker := 1
	if workers == 1 {
		perWorker = 2
	}
	frees := make([]chan *[]byte, workers)
	outs := make([]chan piece, workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		frees[i] = make(chan *[]byte, perWorker)
		for range perWorker {
			frees[i] <- copyBufs.Get().(*[]byte)
		}
		outs[i] = make(chan piece, 1)
		wg.Go(func() {
			for k := int64(i); k < count; k += int64(workers) {
				var buf *[]byte
				select {
				case buf = <-frees[i]:
				case <-stop:
					return
				}
				from, to := bound(k), bound(k+1)
				m, err := src.ReadAt((*buf)[:to-from], from)
				if err == io.EOF && int64(m) == to-from {
					err = nil
				} else if err == nil && int64(m) < to-from {
					err = io.ErrUnexpectedEOF
				}
				select {
				case outs[i] <- piece{buf, m, err}:
				case <-stop:
					frees[i] <- buf
					return
				}
				if err != nil {
					return
				}
			}
		})
	}

	var written int64
	var err error
	for k := int64(0); k < count && err == nil; k++ {
		i := k % int64(workers)
		p := <-outs[i]
		err = p.err
		if err == nil || err == io.EOF {
			var m int
			var werr error
			m, werr = w.Write((*p.buf)[:p.n])
			written += int64(m)
			if werr == nil && m < p.n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				err = werr
			}
		}
		frees[i] <- p.buf
		if err == io.EOF {
			// src is shorter than n: like io.Copy, stop without an error.
			err = nil
			break
		}
	}
	close(stop)
	wg.Wait()
	for i := range workers {
		close(outs[i])
		for p := range outs[i] {
			frees[i] <- p.buf
		}
		close(frees[i])
		for buf := range frees[i] {
			copyBufs.Put(buf)
		}
	}
	return written, err
}

// copyBufSize is the size of the writes of a download: a whole chunk of
// plaintext, where net/http's own copy would write 32 KiB at a time.
const copyBufSize = 1 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// filled is a buffer read by pipelinedCopy's reader.
type filled struct {
	buf *[]byte
	n   int
	err error
}

// pipelinedCopy copies r to w like io.Copy, with two buffers: one is
// read on another goroutine while the other is written. It returns once
// that goroutine has stopped.
func pipelinedCopy(w io.Writer, r io.Reader) (int64, error) {
	full := make(chan filled, 1)
	empty := make(chan *[]byte, 2)
	for range 2 {
		empty <- copyBufs.Get().(*[]byte)
	}
	stop := make(chan struct{})
	go func() {
		defer close(full)
		for {
			var buf *[]byte
			select {
			case buf = <-empty:
			case <-stop:
				return
			}
			n, err := io.ReadFull(r, *buf)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			select {
			case full <- filled{buf, n, err}:
			case <-stop:
				copyBufs.Put(buf)
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var written int64
	var err error
	for f := range full {
		if f.n > 0 {
			var k int
			k, err = w.Write((*f.buf)[:f.n])
			written += int64(k)
			if err == nil && k < f.n {
				err = io.ErrShortWrite
			}
		}
		if err == nil && f.err != io.EOF {
			err = f.err
		}
		if err != nil || f.err != nil {
			copyBufs.Put(f.buf)
			break
		}
		empty <- f.buf
	}
	close(stop)
	for f := range full {
		copyBufs.Put(f.buf)
	}
	for len(empty) > 0 {
		copyBufs.Put(<-empty)
	}
	return written, err
}
