package sealed

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"
)

func mustKey(t *testing.T) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func seal(t *testing.T, key Key, id string, plain []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, key, id)
	if err != nil {
		t.Fatal(err)
	}
	// Odd write sizes cross chunk boundaries.
	for p := plain; len(p) > 0; {
		n := min(len(p), 77777)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Size() != int64(len(plain)) {
		t.Fatalf("Size %d, want %d", w.Size(), len(plain))
	}
	return out.Bytes()
}

func open(stored []byte, key Key, id string, size, off, n int64) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(stored), int64(len(stored)), key, id, size)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	if err := r.Open(); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, n))
}

func TestRoundTripAndRanges(t *testing.T) {
	key := mustKey(t)
	const firstSegment = SegmentSize - headerSize - tagSize
	sizes := []int{0, 1, 1000, firstSegment, firstSegment + 1, firstSegment + SegmentSize - tagSize,
		ChunkPlainSize - 1, ChunkPlainSize, ChunkPlainSize + 1, 2*ChunkPlainSize + 12345}
	for _, size := range sizes {
		plain := make([]byte, size)
		rand.Read(plain)
		stored := seal(t, key, "obj", plain)
		if int64(len(stored)) != CipherSize(int64(size)) {
			t.Fatalf("size %d: stored %d bytes, CipherSize says %d", size, len(stored), CipherSize(int64(size)))
		}
		if size == ChunkPlainSize && len(stored) != ChunkCipherSize {
			t.Fatalf("a full chunk takes %d bytes, want %d", len(stored), ChunkCipherSize)
		}
		ranges := [][2]int{{0, size}, {0, 0}, {size / 2, size - size/2}, {size, 0}, {size / 3, size / 3}}
		if size > firstSegment+10 {
			ranges = append(ranges, [2]int{firstSegment - 5, 10})
		}
		if size > ChunkPlainSize+10 {
			ranges = append(ranges, [2]int{ChunkPlainSize - 5, 10}, [2]int{ChunkPlainSize + 1, size - ChunkPlainSize - 1})
		}
		for _, rg := range ranges {
			got, err := open(stored, key, "obj", int64(size), int64(rg[0]), int64(rg[1]))
			if err != nil {
				t.Fatalf("size %d range %v: %v", size, rg, err)
			}
			if !bytes.Equal(got, plain[rg[0]:rg[0]+rg[1]]) {
				t.Fatalf("size %d range %v: wrong bytes", size, rg)
			}
		}
	}
}

// Any change to a stored object is refused: a flipped byte anywhere, chunks
// swapped, dropped or added, another object's id, another key.
func TestTamperingIsRefused(t *testing.T) {
	key := mustKey(t)
	size := 3*ChunkPlainSize + 100
	plain := make([]byte, size)
	rand.Read(plain)
	stored := seal(t, key, "obj", plain)
	type tc = struct {
		stored []byte
		key    Key
		id     string
		size   int64
	}
	cases := map[string]tc{}
	for _, at := range []int{0, 1, 40, ChunkCipherSize / 2, ChunkCipherSize - 1, ChunkCipherSize, 2*ChunkCipherSize + 7, len(stored) - 1} {
		s := bytes.Clone(stored)
		s[at] ^= 0x01
		cases[fmt.Sprintf("flipped byte %d", at)] = tc{s, key, "obj", int64(size)}
	}
	swapped := bytes.Clone(stored)
	copy(swapped[:ChunkCipherSize], stored[ChunkCipherSize:2*ChunkCipherSize])
	copy(swapped[ChunkCipherSize:2*ChunkCipherSize], stored[:ChunkCipherSize])
	cases["chunks swapped"] = tc{swapped, key, "obj", int64(size)}
	cases["last chunk dropped"] = tc{stored[:3*ChunkCipherSize], key, "obj", 3 * ChunkPlainSize}
	cases["bytes appended"] = tc{append(bytes.Clone(stored), 0), key, "obj", int64(size)}
	cases["another object's id"] = tc{stored, key, "other", int64(size)}
	cases["another key"] = tc{stored, mustKey(t), "obj", int64(size)}
	for name, c := range cases {
		got, err := open(c.stored, c.key, c.id, c.size, 0, c.size)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %d bytes, %v; want ErrCorrupt", name, len(got), err)
		}
	}
}

func TestWrappedKeysAreBoundToTheirUse(t *testing.T) {
	kek, key := mustKey(t), mustKey(t)
	w, err := Wrap(kek, key, "data key of A")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Unwrap(kek, w, "data key of A"); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap: %v", err)
	}
	if _, err := Unwrap(kek, w, "data key of B"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unwrap for another object: %v", err)
	}
	w[len(w)-1] ^= 1
	if _, err := Unwrap(kek, w, "data key of A"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unwrap of a changed key: %v", err)
	}
}

// recordingReaderAt notes the offsets read.
type recordingReaderAt struct {
	r   *bytes.Reader
	off []int64
}

func (r *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.off = append(r.off, off)
	return r.r.ReadAt(p, off)
}

// A range read decrypts only the chunks holding it; a damaged chunk met
// partway stops the read with ErrCorrupt, after the good chunks' bytes.
func TestRangeReadsOnlyItsChunksAndStopsAtDamage(t *testing.T) {
	key := mustKey(t)
	size := 3*ChunkPlainSize + 10
	plain := make([]byte, size)
	rand.Read(plain)
	stored := seal(t, key, "obj", plain)
	src := &recordingReaderAt{r: bytes.NewReader(stored)}
	r, err := NewReader(src, int64(len(stored)), key, "obj", int64(size))
	if err != nil {
		t.Fatal(err)
	}
	r.Seek(2*ChunkPlainSize+3, io.SeekStart)
	got, err := io.ReadAll(io.LimitReader(r, 100))
	if err != nil || !bytes.Equal(got, plain[2*ChunkPlainSize+3:2*ChunkPlainSize+103]) {
		t.Fatalf("range: %v", err)
	}
	if len(src.off) != 1 || src.off[0] != 2*ChunkCipherSize {
		t.Fatalf("read stored offsets %v, want only chunk 2's", src.off)
	}

	damaged := bytes.Clone(stored)
	damaged[ChunkCipherSize+100] ^= 0x80
	r, _ = NewReader(bytes.NewReader(damaged), int64(len(damaged)), key, "obj", int64(size))
	if err := r.Open(); err != nil {
		t.Fatalf("the first chunk is intact: %v", err)
	}
	got, err = io.ReadAll(r)
	if !errors.Is(err, ErrCorrupt) || !bytes.Equal(got, plain[:ChunkPlainSize]) {
		t.Fatalf("read %d bytes, %v; want the first chunk and ErrCorrupt", len(got), err)
	}
	if n, err := r.Read(make([]byte, 10)); n != 0 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read after damage: %d, %v", n, err)
	}
}

// Reads in any order within and across chunks return the right bytes:
// a seek back within a chunk starts its decryption again, a seek forward
// skips what lies between.
func TestSeeksWithinAndAcrossChunks(t *testing.T) {
	key := mustKey(t)
	size := 2*ChunkPlainSize + 999
	plain := make([]byte, size)
	rand.Read(plain)
	stored := seal(t, key, "obj", plain)
	r, err := NewReader(bytes.NewReader(stored), int64(len(stored)), key, "obj", int64(size))
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{500000, 100, 300000, 700000, ChunkPlainSize + 5, 3, 2*ChunkPlainSize + 10, ChunkPlainSize - 1} {
		if _, err := r.Seek(int64(off), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if off%2 == 0 {
			if err := r.Open(); err != nil {
				t.Fatalf("open at %d: %v", off, err)
			}
			if n, err := r.Read(nil); n != 0 || err != nil { // an empty read changes nothing
				t.Fatalf("an empty read at %d: %d, %v", off, n, err)
			}
		}
		got := make([]byte, 200)
		if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, plain[off:off+200]) {
			t.Fatalf("at %d: %v or wrong bytes", off, err)
		}
	}
}
