package app

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store"
)

// UploadTTL is how long a resumable upload may take from its start.
const UploadTTL = 24 * time.Hour

// MaxUploadParts bounds the parts of one upload (each PATCH, or what
// arrived of it, is a part), so that tiny parts cannot pile up objects.
const MaxUploadParts = 10000

// Upload is a resumable upload as its client sees it.
type Upload struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Length    int64     `json:"length"`
	Offset    int64     `json:"offset"`
	ExpiresAt time.Time `json:"expires_at"`
	// File is the file made of it, once the last byte arrived.
	File *atrium.File `json:"file,omitempty"`
}

func uploadView(u *store.Upload) *Upload {
	return &Upload{ID: u.ID, Name: u.Name, Length: u.Length, Offset: u.Received, ExpiresAt: u.ExpiresAt}
}

// StartUpload begins a resumable upload of length bytes: a new file of
// the binder, or (with fileID) a new version of that file. The same rules
// as a whole upload apply now, before any byte is sent.
func (a *App) StartUpload(ctx context.Context, binderID, fileID, name string, length int64) (*Upload, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	u, err := a.startUpload(ctx, act, binderID, fileID, name, length)
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "file.upload", "binder", binderID)
	}
	return u, nil
}

func (a *App) startUpload(ctx context.Context, act *atrium.Actor, binderID, fileID, name string, length int64) (*Upload, error) {
	fs, err := a.files()
	if err != nil {
		return nil, err
	}
	names := []string{name}
	if fileID != "" {
		f, err := a.visibleFile(ctx, act.User, fileID)
		if err != nil {
			return nil, err
		}
		binderID, names = f.BinderID, append(names, f.Name)
	}
	b, org, limit, err := a.uploadPolicy(ctx, fs, act, binderID, names...)
	if err != nil {
		return nil, err
	}
	switch {
	case length < 0:
		return nil, atrium.Errorf(atrium.EInvalid, "Upload-Length must be a whole number of bytes")
	case length > limit:
		return nil, atrium.Errorf(atrium.ETooLarge, "files may be at most %d bytes", limit)
	}
	if err := withinQuota(ctx, a.store, org, sealed.CipherSize(length)); err != nil {
		return nil, err
	}
	now := a.now()
	u := &store.Upload{ID: atrium.NewID(), OrgID: b.OrgID, BinderID: b.ID, FileID: fileID, UserID: act.User.ID,
		Name: name, Length: length, CreatedAt: now, ExpiresAt: now.Add(UploadTTL)}
	if err := a.write(ctx, func(w *writer) error { return w.CreateUpload(w.ctx, u) }); err != nil {
		return nil, err
	}
	return uploadView(u), nil
}

// ownUpload returns an upload of the actor that has not expired; every
// other id is not found.
func (a *App) ownUpload(ctx context.Context, act *atrium.Actor, id string) (*store.Upload, error) {
	if !atrium.ValidID(id) {
		return nil, atrium.NotFound("upload")
	}
	u, err := a.store.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.UserID != act.User.ID || !a.now().Before(u.ExpiresAt) {
		return nil, atrium.NotFound("upload")
	}
	return u, nil
}

// UploadStatus returns how much of an upload has arrived.
func (a *App) UploadStatus(ctx context.Context, id string) (*Upload, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	u, err := a.ownUpload(ctx, act, id)
	if err != nil {
		return nil, err
	}
	return uploadView(u), nil
}

// ContinueUpload appends body to an upload at offset, which must be what
// has arrived so far (else EConflict). Whatever part of body arrives is
// kept, encrypted, even if the connection drops (the work goes on without
// the request's cancellation); the client continues from the new offset.
// The part that brings the last byte makes the file (or version), in the
// transaction that removes the upload: until that commits, the offset
// stays short of the length, and if it fails, that part is to be sent
// again.
func (a *App) ContinueUpload(ctx context.Context, id string, offset int64, body io.Reader) (*Upload, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	fs, err := a.files()
	if err != nil {
		return nil, err
	}
	u, err := a.ownUpload(ctx, act, id)
	if err != nil {
		return nil, err
	}
	if offset != u.Received {
		return nil, atrium.Errorf(atrium.EConflict, "the upload has %d bytes: continue from there", u.Received)
	}
	ctx = context.WithoutCancel(ctx)
	orgKey, err := a.orgKey(ctx, fs, u.OrgID)
	if err != nil {
		return nil, err
	}
	part := &atrium.File{OrgID: u.OrgID, BlobID: atrium.NewID()}
	rec, bodyErr, err := a.storeArrived(ctx, fs, orgKey, part, body, u.Length-u.Received)
	if err != nil {
		return nil, err
	}
	view := uploadView(u)
	if u.Received+part.Size == u.Length {
		view.File, err = a.finishUpload(ctx, act, fs, orgKey, u, rec, part.Size)
		if code := atrium.ErrorCode(err); code == atrium.EMalware || code == atrium.ETooLarge {
			// Sending it again cannot help (the scanner refused it):
			// the upload ends here, its parts with it.
			if derr := a.dropUpload(ctx, fs, u.ID); derr != nil {
				a.log.Warn("ending a refused upload", "upload", u.ID, "err", derr)
			}
		}
		if err != nil {
			return nil, err
		}
		view.Offset = u.Length
		return view, nil
	}
	if err := a.recordPart(ctx, fs, u, part, rec); err != nil {
		return nil, err
	}
	if bodyErr != nil {
		return nil, bodyErr
	}
	view.Offset += part.Size
	return view, nil
}

// recordPart records a part that arrived (an empty one is dropped),
// counting it against the organisation's quota.
func (a *App) recordPart(ctx context.Context, fs FileStorage, u *store.Upload, part *atrium.File, rec *store.Blob) error {
	if part.Size == 0 {
		a.removeUnrecorded(ctx, fs, part.BlobID)
		return nil
	}
	org, err := a.store.GetOrg(ctx, u.OrgID)
	if err != nil {
		a.removeUnrecorded(ctx, fs, part.BlobID)
		return err
	}
	err = a.write(ctx, func(w *writer) error {
		if n, err := w.CountUploadParts(w.ctx, u.ID); err != nil || n >= MaxUploadParts-1 {
			if err == nil {
				err = atrium.Errorf(atrium.ETooLarge, "the upload has %d parts: send the rest in one", n)
			}
			return err
		}
		if err := withinQuota(w.ctx, lockedStorage{w.Tx}, org, rec.StoredSize); err != nil {
			return err
		}
		rec.CreatedAt = w.now
		if err := w.AddBlob(w.ctx, rec); err != nil {
			return err
		}
		ok, err := w.AddUploadPart(w.ctx, u.ID, u.Received, store.UploadPart{BlobID: part.BlobID, Size: part.Size})
		if err == nil && !ok {
			err = atrium.Errorf(atrium.EConflict, "another request continued this upload at the same offset")
		}
		return err
	})
	if err != nil {
		a.removeUnrecorded(ctx, fs, part.BlobID)
	}
	return err
}

// storeArrived is storeObject for a body that may break off: the bytes
// that arrived are stored all the same, and the body's error returned
// beside. More than limit bytes is ETooLarge, and nothing is kept.
func (a *App) storeArrived(ctx context.Context, fs FileStorage, orgKey sealed.Key, f *atrium.File, body io.Reader, limit int64) (*store.Blob, error, error) {
	var bodyErr error
	r := readerFunc(func(p []byte) (int, error) {
		n, err := body.Read(p)
		if err != nil && !errors.Is(err, io.EOF) {
			bodyErr = err
			return n, io.EOF // end the object here
		}
		return n, err
	})
	rec, err := a.storeObject(ctx, fs, orgKey, f, r, limit)
	if err != nil {
		return nil, bodyErr, err
	}
	return rec, bodyErr, nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// finishUpload makes the file (or version) of an upload's recorded parts
// and its last part (stored, not recorded), removing the upload in the
// same transaction; then it deletes the parts' objects.
func (a *App) finishUpload(ctx context.Context, act *atrium.Actor, fs FileStorage, orgKey sealed.Key, u *store.Upload,
	last *store.Blob, lastSize int64) (*atrium.File, error) {
	defer a.removeUnrecorded(ctx, fs, last.ID)
	parts, err := a.store.UploadParts(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	body := &partsReader{ctx: ctx, a: a, fs: fs, orgKey: orgKey, orgID: u.OrgID, parts: parts, last: last, lastSize: lastSize}
	defer body.Close()
	claim := &uploadClaim{id: u.ID, received: u.Received}
	var f *atrium.File
	if u.FileID != "" {
		f, err = a.uploadVersion(ctx, act, u.FileID, u.Name, body, claim)
	} else {
		f, err = a.uploadFile(ctx, act, u.BinderID, u.Name, body, claim)
	}
	if body.err != nil {
		// A part that cannot be read back (damaged in the store, say).
		err = atrium.Internal("app.finishUpload", body.err)
	}
	if err != nil {
		return nil, err
	}
	for _, b := range claim.blobs {
		if err := fs.Blobs.Delete(ctx, b); err != nil {
			a.log.Warn("finishing an upload: a part's object stays behind", "blob", b, "err", err)
		}
	}
	return f, nil
}

// dropUpload forgets an upload and deletes its parts' objects.
func (a *App) dropUpload(ctx context.Context, fs FileStorage, id string) error {
	ctx = context.WithoutCancel(ctx)
	var blobs []string
	err := a.write(ctx, func(w *writer) (err error) {
		blobs, err = w.DeleteUpload(w.ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	for _, b := range blobs {
		if err := fs.Blobs.Delete(ctx, b); err != nil {
			a.log.Warn("forgetting an upload: an object stays behind", "blob", b, "err", err)
		}
	}
	return nil
}

// CancelUpload abandons an upload (the client's DELETE).
func (a *App) CancelUpload(ctx context.Context, id string) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	fs, err := a.files()
	if err != nil {
		return err
	}
	if _, err := a.ownUpload(ctx, act, id); err != nil {
		return err
	}
	return a.dropUpload(ctx, fs, id)
}

// expireUploads forgets uploads past their time, with their parts.
func (a *App) expireUploads(ctx context.Context) error {
	fs, err := a.files()
	if err != nil {
		return nil
	}
	ids, err := a.store.UploadsExpiredBefore(ctx, a.now(), purgeBatch)
	for _, id := range ids {
		if err := a.dropUpload(ctx, fs, id); err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
			a.log.Warn("forgetting an expired upload", "upload", id, "err", err)
		}
	}
	return err
}

// partsReader reads an upload's recorded parts one after another, then
// its last part (stored but not recorded), decrypting each.
type partsReader struct {
	ctx      context.Context
	a        *App
	fs       FileStorage
	orgKey   sealed.Key
	orgID    string
	parts    []store.UploadPart
	last     *store.Blob
	lastSize int64
	cur      *FileContent
	err      error
}

// next opens the next part, or returns nil after the last.
func (r *partsReader) next() (*FileContent, error) {
	if len(r.parts) > 0 {
		p := r.parts[0]
		r.parts = r.parts[1:]
		return r.a.openObject(r.ctx, r.orgID, p.BlobID, p.Size)
	}
	if r.last != nil {
		last := r.last
		r.last = nil
		return r.a.openRecord(r.ctx, r.fs, r.orgKey, last, r.lastSize)
	}
	return nil, nil
}

func (r *partsReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			c, err := r.next()
			if err != nil {
				r.err = err
				return 0, err
			}
			if c == nil {
				return 0, io.EOF
			}
			r.cur = c
		}
		n, err := r.cur.Read(p)
		if errors.Is(err, io.EOF) {
			r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			r.err = err
		}
		return n, err
	}
}

func (r *partsReader) Close() {
	if r.cur != nil {
		r.cur.Close()
	}
}
