package httpapi

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"testing/iotest"
)

// failingWriter accepts limit bytes, then fails.
type failingWriter struct {
	bytes.Buffer
	limit int
}

var errWrite = errors.New("connection reset")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.Len()+len(p) > w.limit {
		return 0, errWrite
	}
	return w.Buffer.Write(p)
}

func TestPipelinedCopy(t *testing.T) {
	data := make([]byte, 3*copyBufSize+12345)
	rand.Read(data)
	errRead := errors.New("stored object fails authentication")
	cases := []struct {
		name      string
		src       io.Reader
		limit     int
		wantBytes []byte
		wantErr   error
	}{
		{"whole", bytes.NewReader(data), len(data), data, nil},
		{"empty", bytes.NewReader(nil), 0, nil, nil},
		{"small reads", iotest.HalfReader(bytes.NewReader(data)), len(data), data, nil},
		{"read fails partway", io.MultiReader(bytes.NewReader(data[:copyBufSize+10]), iotest.ErrReader(errRead)),
			len(data), data[:copyBufSize+10], errRead},
		{"write fails partway", bytes.NewReader(data), 2 * copyBufSize, data[:2*copyBufSize], errWrite},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &failingWriter{limit: c.limit}
			n, err := pipelinedCopy(w, c.src)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
			if n != int64(len(c.wantBytes)) || !bytes.Equal(w.Bytes(), c.wantBytes) {
				t.Fatalf("copied %d bytes (%d written), want %d", n, w.Len(), len(c.wantBytes))
			}
		})
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+1": "'+1", "-2": "'-2", "@a": "'@a",
		"\tx": "'\tx", "plain": "plain", "": "", "0190a1b2-c3d4": "0190a1b2-c3d4"} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// failingAt is a ReaderAt whose reads that reach offset from fail, after
// reading the bytes before it.
type failingAt struct {
	io.ReaderAt
	from int64
	err  error
}

func (f failingAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.from {
		n, _ := f.ReaderAt.ReadAt(p[:max(0, f.from-off)], off)
		return n, f.err
	}
	return f.ReaderAt.ReadAt(p, off)
}

// shortAt is a ReaderAt whose reads that reach offset from stop there
// with no error, which the io.ReaderAt contract forbids.
type shortAt struct {
	io.ReaderAt
	from int64
}

func (s shortAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > s.from {
		return s.ReaderAt.ReadAt(p[:max(0, s.from-off)], off)
	}
	return s.ReaderAt.ReadAt(p, off)
}

// shortWriter writes at most half of each write, with no error.
type shortWriter struct{ bytes.Buffer }

func (w *shortWriter) Write(p []byte) (int, error) { return w.Buffer.Write(p[:len(p)/2]) }

func TestParallelCopy(t *testing.T) {
	data := make([]byte, 5*readPiece+12345)
	rand.Read(data)
	size := int64(len(data))
	errRead := errors.New("stored object fails authentication")
	cases := []struct {
		name    string
		src     io.ReaderAt
		off, n  int64
		limit   int
		want    []byte
		wantErr error
	}{
		{"whole", bytes.NewReader(data), 0, size, len(data), data, nil},
		{"nothing", bytes.NewReader(data), 10, 0, len(data), nil, nil},
		{"within a piece", bytes.NewReader(data), 100, 1000, len(data), data[100:1100], nil},
		{"unaligned range", bytes.NewReader(data), readPiece - 7, 3*readPiece + 11, len(data), data[readPiece-7 : 4*readPiece+4], nil},
		{"to the end", bytes.NewReader(data), 2*readPiece + 3, size - 2*readPiece - 3, len(data), data[2*readPiece+3:], nil},
		{"source shorter than asked", bytes.NewReader(data), readPiece, size, len(data), data[readPiece:], nil},
		{"read fails partway", failingAt{bytes.NewReader(data), 3*readPiece + 10, errRead}, 0, size, len(data), data[:3*readPiece], errRead},
		{"first read fails", failingAt{bytes.NewReader(data), 0, errRead}, 0, size, len(data), nil, errRead},
		{"a read ends short, without an error", shortAt{bytes.NewReader(data), 2*readPiece + 10}, 0, size, len(data), data[:2*readPiece], io.ErrUnexpectedEOF},
		{"write fails partway", bytes.NewReader(data), 0, size, 2*readPiece + 5, data[:2*readPiece], errWrite},
	}
	for _, c := range cases {
		for _, workers := range []int{1, 2, 4, 7} {
			t.Run(fmt.Sprintf("%s/%d workers", c.name, workers), func(t *testing.T) {
				w := &failingWriter{limit: c.limit}
				n, err := parallelCopy(w, c.src, c.off, c.n, workers)
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("error %v, want %v", err, c.wantErr)
				}
				if n != int64(len(c.want)) || !bytes.Equal(w.Bytes(), c.want) {
					t.Fatalf("copied %d bytes (%d written), want %d", n, w.Len(), len(c.want))
				}
			})
		}
	}
}

func TestCopiesRefuseShortWrites(t *testing.T) {
	data := make([]byte, 2*readPiece)
	if _, err := parallelCopy(&shortWriter{}, bytes.NewReader(data), 0, int64(len(data)), 2); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("parallelCopy: %v, want io.ErrShortWrite", err)
	}
	if _, err := pipelinedCopy(&shortWriter{}, bytes.NewReader(data)); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("pipelinedCopy: %v, want io.ErrShortWrite", err)
	}
}

// readAtOnly is a body that can only be read at offsets: its Read fails.
type readAtOnly struct {
	*bytes.Reader
}

func (readAtOnly) Read([]byte) (int, error) { return 0, errors.New("read sequentially") }

// ServeContent hands bigWrites a LimitedReader over the body: a body that
// reads at offsets is copied from where it was sought, by parallelCopy,
// and left sought past what was copied.
func TestBigWritesReadsAtOffsets(t *testing.T) {
	data := make([]byte, 3*readPiece+7)
	rand.Read(data)
	src := readAtOnly{bytes.NewReader(data)}
	src.Seek(readPiece-3, io.SeekStart)
	lr := &io.LimitedReader{R: src, N: readPiece + 10}
	rec := httptest.NewRecorder()
	n, err := bigWrites{ResponseWriter: rec}.ReadFrom(lr)
	if err != nil || n != readPiece+10 || !bytes.Equal(rec.Body.Bytes(), data[readPiece-3:2*readPiece+7]) {
		t.Fatalf("ReadFrom = %d, %v; %d bytes written", n, err, rec.Body.Len())
	}
	if pos, _ := src.Seek(0, io.SeekCurrent); lr.N != 0 || pos != 2*readPiece+7 {
		t.Fatalf("left N %d, offset %d", lr.N, pos)
	}
}

// blockingBody's Read waits for release, telling entered when it has
// begun and noting "read" in events as it ends.
type blockingBody struct {
	*bytes.Reader
	entered, release chan struct{}
	events           chan string
}

func (b *blockingBody) Read(p []byte) (int, error) {
	close(b.entered)
	<-b.release
	b.events <- "read"
	return b.Reader.Read(p)
}

// A Read under way on ServeContent's own goroutine (a request of several
// ranges) ends before finish returns, and none follows it.
func TestServedBodyFinishWaitsForARead(t *testing.T) {
	b := &blockingBody{Reader: bytes.NewReader(make([]byte, 10)), entered: make(chan struct{}),
		release: make(chan struct{}), events: make(chan string, 2)}
	body := &servedBody{b: b}
	go body.Read(make([]byte, 4))
	<-b.entered
	if body.mu.TryLock() {
		t.Fatal("a Read under way does not hold the body")
	}
	finished := make(chan struct{})
	go func() {
		body.finish()
		b.events <- "finish"
		close(finished)
	}()
	close(b.release)
	<-finished
	if first, second := <-b.events, <-b.events; first != "read" || second != "finish" {
		t.Fatalf("events %s, %s; want the read to end before finish returns", first, second)
	}
	if _, err := body.Read(make([]byte, 1)); !errors.Is(err, errBodyDone) {
		t.Fatalf("Read after finish: %v", err)
	}
	if _, err := body.Seek(0, io.SeekStart); !errors.Is(err, errBodyDone) {
		t.Fatalf("Seek after finish: %v", err)
	}
}
