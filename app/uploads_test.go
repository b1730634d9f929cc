package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store/storetest"
)

// brokenReader yields its data, then fails like a dropped connection,
// cancelling the request's context as net/http does.
type brokenReader struct {
	r      io.Reader
	cancel func()
}

func (b *brokenReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.cancel()
		return n, errors.New("connection reset by peer")
	}
	return n, err
}

// A resumable upload keeps what arrived before a connection dropped,
// continues from there, and makes the file when the last byte arrives;
// only its owner sees it, and an offset other than what arrived is
// refused.
func TestResumableUpload(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a := w.a
			content := make([]byte, sealed.ChunkPlainSize+5000)
			rand.Read(content)
			u, err := a.StartUpload(w.owner, w.binder.ID, "", "scan.bin", int64(len(content)))
			must(t, err)
			first := 700_000
			dropped, cancel := context.WithCancel(w.owner)
			_, err = a.ContinueUpload(dropped, u.ID, 0, &brokenReader{r: bytes.NewReader(content[:first]), cancel: cancel})
			if err == nil {
				t.Fatal("a dropped connection reported no error")
			}
			st, err := a.UploadStatus(w.owner, u.ID)
			if err != nil || st.Offset != int64(first) {
				t.Fatalf("after the drop: %+v %v", st, err)
			}
			if _, err := a.ContinueUpload(w.owner, u.ID, 0, bytes.NewReader(content)); atrium.ErrorCode(err) != atrium.EConflict {
				t.Fatalf("a wrong offset: %v", err)
			}
			if _, err := a.UploadStatus(w.viewer, u.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("another user's view: %v", err)
			}
			done, err := a.ContinueUpload(w.owner, u.ID, int64(first), bytes.NewReader(content[first:]))
			if err != nil || done.File == nil || done.Offset != int64(len(content)) {
				t.Fatalf("the rest: %+v %v", done, err)
			}
			got, err := w.download(t, w.viewer, done.File.ID)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("the file made: %d bytes, %v", len(got), err)
			}
			if _, err := a.UploadStatus(w.owner, u.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("a finished upload is still there: %v", err)
			}

			// A new version, by upload; then refusals and cancelling.
			v, err := a.StartUpload(w.owner, "", done.File.ID, "scan-v2.bin", 3)
			must(t, err)
			res, err := a.ContinueUpload(w.owner, v.ID, 0, bytes.NewReader([]byte("abc")))
			if err != nil || res.File == nil || res.File.Version != 2 || res.File.Name != "scan.bin" {
				t.Fatalf("a version by upload: %+v %v", res, err)
			}
			if _, err := a.StartUpload(w.viewer, w.binder.ID, "", "v.txt", 3); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a viewer starts an upload: %v", err)
			}
			if _, err := a.StartUpload(w.owner, w.binder.ID, "", "big.bin", app.DefaultMaxFileSize+1); atrium.ErrorCode(err) != atrium.ETooLarge {
				t.Fatalf("an upload over the limit: %v", err)
			}
			if _, err := a.StartUpload(w.owner, w.binder.ID, "", "run.exe", 3); atrium.ErrorCode(err) != atrium.EUnsupported {
				t.Fatalf("a blocked name: %v", err)
			}
			c, err := a.StartUpload(w.owner, w.binder.ID, "", "c.bin", 10)
			must(t, err)
			_, err = a.ContinueUpload(w.owner, c.ID, 0, bytes.NewReader(make([]byte, 11)))
			if atrium.ErrorCode(err) != atrium.ETooLarge {
				t.Fatalf("more bytes than announced: %v", err)
			}
			_, err = a.ContinueUpload(w.owner, c.ID, 0, bytes.NewReader(make([]byte, 4)))
			must(t, err)
			must(t, a.CancelUpload(w.owner, c.ID))
			if _, err := a.UploadStatus(w.owner, c.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("a cancelled upload: %v", err)
			}
			list, _, _ := a.ListFiles(w.owner, w.binder.ID, app.Page{})
			if len(list) != 1 {
				t.Fatalf("%d files, want the one uploaded", len(list))
			}
			// The parts are gone: only the two versions' objects remain.
			objects, _ := filepath.Glob(filepath.Join(w.dir, "blobs", "objects", "*", "*"))
			if len(objects) != 2 {
				t.Fatalf("%d stored objects, want 2", len(objects))
			}
		})
	}
}
