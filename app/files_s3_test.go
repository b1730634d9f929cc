package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/blob"
	"github.com/atrium-dev/atrium/blob/blobtest"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store/storetest"
)

// Files on an S3-compatible server: uploads and range reads work; the
// bucket holds no plaintext, and an object changed there is refused; while
// the server is down uploads get EUnavailable with a retry hint, and what
// was stored before is all there once it is back.
func TestFilesOnS3(t *testing.T) {
	srv := blobtest.Start(t)
	ctx := context.Background()
	blobs, err := blob.NewS3(ctx, srv.URL)
	must(t, err)
	keys, _, err := keyring.LoadOrCreate(filepath.Join(t.TempDir(), "master.keys"))
	must(t, err)
	cfg := app.DefaultConfig()
	cfg.Files = app.FileStorage{Blobs: blobs, Keys: keys}
	a := app.New(storetest.Open(t, "postgres"), auth.NewHasher(auth.TestParams, 2), slog.New(slog.NewTextHandler(io.Discard, nil)), cfg, nil)
	_, _, err = a.CreateOrg(ctx, app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
	must(t, err)
	owner := as(t, a, "o@acme.test", "198.51.100.1")
	b, err := a.CreateBinder(owner, app.CreateBinderInput{Title: "Deal"})
	must(t, err)

	body := make([]byte, 2*sealed.ChunkPlainSize+500)
	rand.Read(body)
	f, err := a.UploadFile(owner, b.ID, "scan.bin", bytes.NewReader(body))
	must(t, err)
	_, c, err := a.OpenFile(owner, f.ID)
	must(t, err)
	c.Seek(sealed.ChunkPlainSize-10, io.SeekStart)
	part := make([]byte, 20)
	if _, err := io.ReadFull(c, part); err != nil || !bytes.Equal(part, body[sealed.ChunkPlainSize-10:sealed.ChunkPlainSize+10]) {
		t.Fatalf("range across chunks: %v", err)
	}
	// Downloads read chunks from several goroutines at once (ReadAt).
	chunks := make([][]byte, 3)
	var wg sync.WaitGroup
	for i := range chunks {
		wg.Go(func() {
			chunks[i] = make([]byte, sealed.ChunkPlainSize)
			n, err := c.ReadAt(chunks[i], int64(i)*sealed.ChunkPlainSize)
			if err != nil && err != io.EOF {
				t.Errorf("chunk %d: %v", i, err)
			}
			chunks[i] = chunks[i][:n]
		})
	}
	wg.Wait()
	if got := bytes.Join(chunks, nil); !bytes.Equal(got, body) {
		t.Fatalf("concurrent chunk reads: %d bytes, want the %d of the file", len(got), len(body))
	}
	c.Close()

	// The bucket holds no plaintext; change one byte there.
	s3 := srv.Client()
	obj, err := s3.GetObject(ctx, "atrium", f.BlobID, minio.GetObjectOptions{})
	must(t, err)
	stored, err := io.ReadAll(obj)
	must(t, err)
	if bytes.Contains(stored, body[:64]) {
		t.Fatal("the bucket holds plaintext")
	}
	stored[10] ^= 1
	_, err = s3.PutObject(ctx, "atrium", f.BlobID, bytes.NewReader(stored), int64(len(stored)), minio.PutObjectOptions{})
	must(t, err)
	_, c, err = a.OpenFile(owner, f.ID)
	must(t, err)
	if err := c.Open(); !app.Corrupt(err) {
		t.Fatalf("an object changed in the bucket: %v", err)
	}
	c.Close()

	kept, err := a.UploadFile(owner, b.ID, "kept.txt", strings.NewReader("acknowledged before the outage"))
	must(t, err)
	srv.Stop()
	_, err = a.UploadFile(owner, b.ID, "during.txt", strings.NewReader("x"))
	var aerr *atrium.Error
	if atrium.ErrorCode(err) != atrium.EUnavailable || !errors.As(err, &aerr) || aerr.RetryAfter <= 0 {
		t.Fatalf("upload while the store is down: %v", err)
	}
	if _, _, err := a.OpenFile(owner, kept.ID); atrium.ErrorCode(err) != atrium.EUnavailable {
		t.Fatalf("download while the store is down: %v", err)
	}
	srv.Restart()
	_, c, err = a.OpenFile(owner, kept.ID)
	must(t, err)
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "acknowledged before the outage" {
		t.Fatalf("after the outage: %q %v", got, err)
	}
	list, _, err := a.ListFiles(owner, b.ID, app.Page{})
	if err != nil || len(list) != 2 {
		t.Fatalf("files after the outage: %d %v (the failed upload must not be listed)", len(list), err)
	}
}
