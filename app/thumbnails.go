package app

import (
	"bytes"
	"context"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"sync"
	"time"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

const (
	// ThumbnailSize bounds a thumbnail's width and height, in pixels.
	ThumbnailSize = 256
	// maxThumbnailSource bounds the files thumbnails are made of, so that
	// one upload cannot hold a core and a lot of memory for long.
	maxThumbnailSource = 50 << 20
	// maxThumbnailPixels bounds the decoded image (a small file can
	// declare a huge picture): at most 8 bytes a pixel (16-bit RGBA),
	// 128 MiB, one image at a time (see decodeSlots).
	maxThumbnailPixels = 16_000_000
)

// decoders are the image formats thumbnails are made of, by media type.
var decoders = map[string]struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}{
	"image/jpeg": {jpeg.DecodeConfig, jpeg.Decode},
	"image/png":  {png.DecodeConfig, png.Decode},
	"image/gif":  {gif.DecodeConfig, gif.Decode},
	"image/webp": {webp.DecodeConfig, webp.Decode},
}

// Thumbnailable reports whether a file of this type and size gets a
// thumbnail.
func Thumbnailable(contentType string, size int64) bool {
	_, ok := decoders[contentType]
	return ok && size > 0 && size <= maxThumbnailSource
}

// thumbnailJob names a file version to make a thumbnail of.
type thumbnailJob struct {
	fileID  string
	version int64
}

// queueThumbnail asks the background worker for a thumbnail of f's current
// version. The queue never blocks an upload: when it is full, the
// thumbnail is made when first asked for.
func (a *App) queueThumbnail(f *atrium.File) {
	if !Thumbnailable(f.ContentType, f.Size) {
		return
	}
	select {
	case a.thumbs <- thumbnailJob{fileID: f.ID, version: f.Version}:
	default:
	}
}

// RunThumbnails makes the thumbnails uploads queue, one at a time, until
// ctx ends.
func (a *App) RunThumbnails(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-a.thumbs:
			if _, err := a.thumbnail(ctx, j.fileID, j.version); err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
				a.log.Warn("making a thumbnail", "file", j.fileID, "version", j.version, "err", err)
			}
		}
	}
}

// thumbnail returns the thumbnail of a file version, making it if it has
// none yet. ENotFound if the version gets none (not an image, too large,
// not decodable).
func (a *App) thumbnail(ctx context.Context, fileID string, version int64) (*store.Thumbnail, error) {
	t, err := a.store.GetThumbnail(ctx, fileID, version)
	if atrium.ErrorCode(err) != atrium.ENotFound {
		return t, err
	}
	f, err := a.store.GetFile(ctx, fileID)
	if err != nil {
		return nil, err
	}
	v, err := a.store.GetFileVersion(ctx, fileID, version)
	if err != nil {
		return nil, err
	}
	job := thumbnailJob{fileID: fileID, version: version}
	if !Thumbnailable(v.ContentType, v.Size) || a.noThumb.has(job) {
		return nil, atrium.NotFound("thumbnail")
	}
	c, err := a.openObject(ctx, f.OrgID, v.BlobID, v.Size)
	if err != nil {
		return nil, err
	}
	// One image is decoded at a time, by the worker or a request.
	select {
	case a.decodeSlot <- struct{}{}:
	case <-ctx.Done():
		c.Close()
		return nil, atrium.Errorf(atrium.EUnavailable, "the thumbnail is being made; try again")
	}
	img, err := decodeBounded(c, v.ContentType)
	<-a.decodeSlot
	c.Close()
	if err != nil {
		if Corrupt(err) {
			return nil, atrium.Internal("app.thumbnail", err)
		}
		// Not an image after all: remembered, so that asking again does
		// not decode it again.
		a.noThumb.add(job)
		return nil, atrium.NotFound("thumbnail")
	}
	data, ctype, err := encodeThumbnail(img, v.ContentType)
	if err != nil {
		return nil, atrium.Internal("app.thumbnail", err)
	}
	return a.storeThumbnail(ctx, f, version, data, ctype)
}

// decodeBounded decodes an image whose declared size is within bounds.
func decodeBounded(r io.ReadSeeker, contentType string) (image.Image, error) {
	d := decoders[contentType]
	cfg, err := d.config(r)
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxThumbnailPixels {
		return nil, atrium.Errorf(atrium.EInvalid, "image of %d×%d pixels", cfg.Width, cfg.Height)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return d.decode(r)
}

// encodeThumbnail scales img to fit ThumbnailSize and encodes it: JPEG for
// JPEG sources, PNG (which keeps transparency) for the others.
func encodeThumbnail(img image.Image, contentType string) ([]byte, string, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > ThumbnailSize || h > ThumbnailSize {
		if w >= h {
			w, h = ThumbnailSize, max(1, h*ThumbnailSize/w)
		} else {
			w, h = max(1, w*ThumbnailSize/h), ThumbnailSize
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	var buf bytes.Buffer
	if contentType == "image/jpeg" {
		err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80})
		return buf.Bytes(), "image/jpeg", err
	}
	err := png.Encode(&buf, dst)
	return buf.Bytes(), "image/png", err
}

// storeThumbnail stores a thumbnail encrypted like any object and records
// it; if another node recorded one first, theirs stands.
func (a *App) storeThumbnail(ctx context.Context, f *atrium.File, version int64, data []byte, ctype string) (*store.Thumbnail, error) {
	fs, err := a.files()
	if err != nil {
		return nil, err
	}
	orgKey, err := a.orgKey(ctx, fs, f.OrgID)
	if err != nil {
		return nil, err
	}
	obj := &atrium.File{OrgID: f.OrgID, BlobID: atrium.NewID()}
	rec, err := a.storeObject(ctx, fs, orgKey, obj, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	t := &store.Thumbnail{FileID: f.ID, Version: version, BlobID: obj.BlobID, ContentType: ctype,
		Size: obj.Size, SHA256: obj.SHA256}
	err = a.write(ctx, func(w *writer) error {
		rec.CreatedAt, t.CreatedAt = w.now, w.now
		if err := w.AddBlob(w.ctx, rec); err != nil {
			return err
		}
		_, err := w.AddThumbnail(w.ctx, t)
		return err
	})
	if err != nil {
		a.removeUnrecorded(ctx, fs, obj.BlobID)
		return nil, err
	}
	return a.store.GetThumbnail(ctx, f.ID, version)
}

// OpenThumbnail returns the thumbnail of a file's current version, for a
// member of its binder, making it if need be. ENotFound if the file has
// none (not an image, or too large).
func (a *App) OpenThumbnail(ctx context.Context, fileID string) (*store.Thumbnail, *FileContent, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, nil, err
	}
	f, err := a.visibleFile(ctx, act.User, fileID)
	if err == nil {
		err = a.checkFeature(ctx, act, atrium.FeatureFilesDownload)
	}
	if err != nil {
		return nil, nil, a.deny(ctx, err, act.User.OrgID, "file.thumbnail", "file", fileID)
	}
	made, cancel := context.WithTimeout(ctx, time.Minute)
	t, err := a.thumbnail(made, f.ID, f.Version)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	// The caller reads it after this returns: open it under the request's
	// context, not the one that bounded making it.
	c, err := a.openObject(ctx, f.OrgID, t.BlobID, t.Size)
	if err != nil {
		return nil, nil, err
	}
	return t, c, nil
}

// maxRemembered bounds the versions a versionSet holds.
const maxRemembered = 10_000

// versionSet is a bounded set of file versions, kept in memory: once full,
// it starts afresh.
type versionSet struct {
	mu sync.Mutex
	m  map[thumbnailJob]struct{}
}

func (s *versionSet) add(j thumbnailJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= maxRemembered {
		s.m = make(map[thumbnailJob]struct{})
	}
	s.m[j] = struct{}{}
}

func (s *versionSet) has(j thumbnailJob) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[j]
	return ok
}
