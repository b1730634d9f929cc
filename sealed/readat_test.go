package sealed

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func TestReadAtReadsAnyRange(t *testing.T) {
	key := mustKey(t)
	plain := make([]byte, 3*ChunkPlainSize+12345)
	rand.Read(plain)
	stored := seal(t, key, "obj", plain)
	size := int64(len(plain))
	r, err := NewReader(bytes.NewReader(stored), int64(len(stored)), key, "obj", size)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		off, n  int64
		want    int64 // bytes read
		wantEOF bool
	}{
		{"whole object", 0, size, size, false},
		{"first chunk", 0, ChunkPlainSize, ChunkPlainSize, false},
		{"second chunk", ChunkPlainSize, ChunkPlainSize, ChunkPlainSize, false},
		{"across a chunk boundary", ChunkPlainSize - 10, 20, 20, false},
		{"unaligned, three chunks", 1000, 2 * ChunkPlainSize, 2 * ChunkPlainSize, false},
		{"within a segment", 70000, 100, 100, false},
		{"past the end", size - 5, 10, 5, true},
		{"at the end", size, 1, 0, true},
		{"beyond the end", size + 100, 1, 0, true},
		{"nothing", 10, 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := make([]byte, c.n)
			n, err := r.ReadAt(p, c.off)
			if int64(n) != c.want || (err == io.EOF) != c.wantEOF || (err != nil && err != io.EOF) {
				t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d, EOF %v", c.n, c.off, n, err, c.want, c.wantEOF)
			}
			if n > 0 && !bytes.Equal(p[:n], plain[c.off:c.off+int64(n)]) {
				t.Fatal("wrong bytes")
			}
		})
	}
	if r.Err() != nil {
		t.Fatalf("Err %v after sound reads", r.Err())
	}
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatal("a negative offset was read")
	}
}

// TestReadAtConcurrently reads random ranges from several goroutines at
// once (run with -race).
func TestReadAtConcurrently(t *testing.T) {
	key := mustKey(t)
	plain := make([]byte, 4*ChunkPlainSize+777)
	rand.Read(plain)
	stored := seal(t, key, "obj", plain)
	r, err := NewReader(bytes.NewReader(stored), int64(len(stored)), key, "obj", int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 10 {
				off := mrand.Int64N(int64(len(plain)))
				p := make([]byte, mrand.Int64N(2*ChunkPlainSize))
				n, err := r.ReadAt(p, off)
				if err != nil && err != io.EOF {
					errs <- err
					return
				}
				if !bytes.Equal(p[:n], plain[off:off+int64(n)]) {
					errs <- errors.New("wrong bytes")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestReadAtStopsAtDamage(t *testing.T) {
	key := mustKey(t)
	plain := make([]byte, 3*ChunkPlainSize)
	rand.Read(plain)
	stored := seal(t, key, "obj", plain)
	stored[ChunkCipherSize+5*SegmentSize+100] ^= 1 // a segment of the second chunk
	r, err := NewReader(bytes.NewReader(stored), int64(len(stored)), key, "obj", int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, ChunkPlainSize)
	if n, err := r.ReadAt(p, 0); n != len(p) || err != nil || !bytes.Equal(p, plain[:len(p)]) {
		t.Fatalf("the sound first chunk: %d, %v", n, err)
	}
	if n, err := r.ReadAt(p, 2*ChunkPlainSize); n != len(p) || err != nil {
		t.Fatalf("the sound third chunk: %d, %v", n, err)
	}
	// The segments before the damage are sound, but a read that reaches
	// it returns nothing, even from the first chunk.
	p = make([]byte, 2*ChunkPlainSize)
	if n, err := r.ReadAt(p, 0); n != 0 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a read through the damage: %d, %v", n, err)
	}
	if !errors.Is(r.Err(), ErrCorrupt) {
		t.Fatalf("Err %v after the damage", r.Err())
	}
}

// failingReaderAt fails every read from offset from on.
type failingReaderAt struct {
	io.ReaderAt
	from int64
	err  error
}

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.from {
		return 0, f.err
	}
	return f.ReaderAt.ReadAt(p, off)
}

func TestReadAtReportsStoreErrors(t *testing.T) {
	key := mustKey(t)
	plain := make([]byte, 2*ChunkPlainSize)
	stored := seal(t, key, "obj", plain)
	errStore := errors.New("connection reset")
	src := failingReaderAt{bytes.NewReader(stored), ChunkCipherSize, errStore}
	r, err := NewReader(src, int64(len(stored)), key, "obj", int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 2*ChunkPlainSize)
	n, err := r.ReadAt(p, 0)
	if n != ChunkPlainSize || !errors.Is(err, errStore) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadAt = %d, %v; want the first chunk and the store's error", n, err)
	}
	if !errors.Is(r.Err(), errStore) {
		t.Fatalf("Err %v", r.Err())
	}
}

// A download opens its Reader (checking the first bytes before any is
// sent), then reads with ReadAt: the chunk Open loaded is not read from
// the store again, which on S3 would be a request more.
func TestReadAtReusesTheChunkOpenLoaded(t *testing.T) {
	key := mustKey(t)
	plain := make([]byte, 2*ChunkPlainSize+10)
	rand.Read(plain)
	stored := seal(t, key, "obj", plain)
	src := &recordingReaderAt{r: bytes.NewReader(stored)}
	r, err := NewReader(src, int64(len(stored)), key, "obj", int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	r.Seek(ChunkPlainSize+5, io.SeekStart)
	if err := r.Open(); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, ChunkPlainSize+5)
	if n, err := r.ReadAt(p, ChunkPlainSize+5); n != ChunkPlainSize+5 || (err != nil && err != io.EOF) || !bytes.Equal(p, plain[ChunkPlainSize+5:]) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if want := []int64{ChunkCipherSize, 2 * ChunkCipherSize}; !slices.Equal(src.off, want) {
		t.Fatalf("stored offsets read %v, want %v (chunk 1 once, by Open, then chunk 2)", src.off, want)
	}
}
