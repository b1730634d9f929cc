package app_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store/storetest"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, h/2, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	must(t, png.Encode(&b, img))
	return b.Bytes()
}

// Images get a thumbnail that fits 256×256, made in the background (or on
// first request), stored encrypted; other files get none.
func TestThumbnails(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { w.a.RunThumbnails(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			f, err := w.a.UploadFile(w.owner, w.binder.ID, "wide.png", bytes.NewReader(pngOf(t, 600, 300)))
			must(t, err)
			// The background worker makes it; wait until it is recorded.
			for deadline := time.Now().Add(30 * time.Second); ; {
				if _, err := w.a.Store().GetThumbnail(context.Background(), f.ID, 1); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no thumbnail was made in the background")
				}
				time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
			}
			th, c, err := w.a.OpenThumbnail(w.viewer, f.ID)
			must(t, err)
			img, err := png.Decode(c)
			c.Close()
			must(t, err)
			if b := img.Bounds(); b.Dx() != app.ThumbnailSize || b.Dy() != app.ThumbnailSize/2 || th.ContentType != "image/png" {
				t.Fatalf("thumbnail %v %s", b, th.ContentType)
			}

			// A new version gets its own, made on demand here.
			cancel()
			<-done
			_, err = w.a.UploadVersion(w.owner, f.ID, "tall.png", bytes.NewReader(pngOf(t, 100, 400)))
			must(t, err)
			_, c, err = w.a.OpenThumbnail(w.viewer, f.ID)
			must(t, err)
			img, err = png.Decode(c)
			c.Close()
			must(t, err)
			if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 256 {
				t.Fatalf("thumbnail of the new version: %v", b)
			}

			txt, err := w.a.UploadFile(w.owner, w.binder.ID, "notes.txt", strings.NewReader("plain text"))
			must(t, err)
			if _, _, err := w.a.OpenThumbnail(w.viewer, txt.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("a text file's thumbnail: %v", err)
			}
			if _, _, err := w.a.OpenThumbnail(w.outside, f.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("an outsider's thumbnail: %v", err)
			}
			// A PNG that declares a huge picture gets none.
			huge := pngOf(t, 1, 1)
			copy(huge[16:24], []byte{0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20}) // 20000×20000 in IHDR
			bomb, err := w.a.UploadFile(w.owner, w.binder.ID, "bomb.png", bytes.NewReader(huge))
			must(t, err)
			if _, _, err := w.a.OpenThumbnail(w.viewer, bomb.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("a decompression bomb's thumbnail: %v", err)
			}
			// That is remembered: asked again, its object is not read
			// (here it is gone, which reading would report as a fault).
			must(t, os.Remove(filepath.Join(w.dir, "blobs", "objects", bomb.BlobID[len(bomb.BlobID)-2:], bomb.BlobID)))
			if _, _, err := w.a.OpenThumbnail(w.viewer, bomb.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("a decompression bomb's thumbnail, asked again: %v", err)
			}
		})
	}
}
