package httpapi

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
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
