package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"github.com/gabriel-vasile/mimetype"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/blob"
	"github.com/atrium-dev/atrium/clamd"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store"
)

// DefaultMaxFileSize is the largest file accepted unless configured
// otherwise: 2 GiB.
const DefaultMaxFileSize = 2 << 30

// FileStorage is where file bodies are kept and how their keys are
// wrapped.
type FileStorage struct {
	Blobs blob.Store
	Keys  keyring.Wrapper
	// MaxFileSize bounds one file (DefaultMaxFileSize if 0).
	MaxFileSize int64
	// Scanner, if set, scans every new file and version for malware as
	// it arrives; infected ones are quarantined (see scan.go).
	Scanner *clamd.Client
}

func (fs FileStorage) maxSize() int64 {
	if fs.MaxFileSize > 0 {
		return fs.MaxFileSize
	}
	return DefaultMaxFileSize
}

// sniffLen is how much of a file's start is read to tell its type.
const sniffLen = 3072

// orgKeyAD and dataKeyAD bind a wrapped key to what it is for.
func orgKeyAD(orgID string) string   { return "atrium/org-key/v1/" + orgID }
func dataKeyAD(blobID string) string { return "atrium/data-key/v1/" + blobID }

// MaxFileSize is the largest file accepted.
func (a *App) MaxFileSize() int64 { return a.cfg.Files.maxSize() }

func (a *App) files() (FileStorage, error) {
	if a.cfg.Files.Blobs == nil || a.cfg.Files.Keys == nil {
		return FileStorage{}, atrium.Errorf(atrium.EUnavailable, "file storage is not configured")
	}
	return a.cfg.Files, nil
}

// CheckMasterKeys returns an error naming any master key that wraps an
// organisation's key but is missing from the keyring: the server must not
// start without it.
func (a *App) CheckMasterKeys(ctx context.Context) error {
	fs, err := a.files()
	if err != nil {
		return err
	}
	ids, err := a.store.MasterKeysInUse(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !fs.Keys.Has(id) {
			return atrium.Errorf(atrium.EUnavailable, "master key %q wraps organisation keys but is not in the keyring; restore it before starting", id)
		}
	}
	return nil
}

// orgKey returns an organisation's key, creating it at first use.
func (a *App) orgKey(ctx context.Context, fs FileStorage, orgID string) (sealed.Key, error) {
	k, err := a.store.GetOrgKey(ctx, orgID)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		k, err = a.createOrgKey(ctx, fs, orgID)
	}
	if err != nil {
		return nil, err
	}
	if k.Destroyed {
		return nil, atrium.Errorf(atrium.EGone, "the organisation's files were erased")
	}
	key, err := fs.Keys.Unwrap(ctx, k.KEKID, k.Wrapped, orgKeyAD(orgID))
	if err != nil {
		return nil, atrium.Internal("app.orgKey", err)
	}
	return key, nil
}

func (a *App) createOrgKey(ctx context.Context, fs FileStorage, orgID string) (*store.OrgKey, error) {
	key, err := sealed.NewKey()
	if err != nil {
		return nil, atrium.Internal("app.createOrgKey", err)
	}
	kek, wrapped, err := fs.Keys.Wrap(ctx, key, orgKeyAD(orgID))
	if err != nil {
		return nil, atrium.Internal("app.createOrgKey", err)
	}
	err = a.write(ctx, func(w *writer) error {
		return w.AddOrgKey(ctx, &store.OrgKey{OrgID: orgID, KEKID: kek, Wrapped: wrapped, CreatedAt: w.now})
	})
	if err != nil {
		return nil, err
	}
	// Another request may have created it first: theirs stands.
	k, err := a.store.GetOrgKey(ctx, orgID)
	if err != nil || k.KEKID != kek || !bytes.Equal(k.Wrapped, wrapped) || fs.Keys.Has(kek) {
		return k, err
	}
	// The master key was retired while this one was wrapped under it:
	// wrap it again under the current key while it is still at hand.
	kek2, wrapped2, err := fs.Keys.Wrap(ctx, key, orgKeyAD(orgID))
	if err != nil {
		return nil, atrium.Internal("app.createOrgKey", err)
	}
	err = a.write(ctx, func(w *writer) error {
		_, err := w.RewrapOrgKey(ctx, orgID, kek, kek2, wrapped2)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a.store.GetOrgKey(ctx, orgID)
}

// UploadFile stores a new file in a binder (owners and editors). The body
// is encrypted as it streams in, under a data key of its own; the file is
// recorded only once its object is durable.
func (a *App) UploadFile(ctx context.Context, binderID, name string, body io.Reader) (*atrium.File, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	f, err := a.uploadFile(ctx, act, binderID, name, body, nil)
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "file.upload", "binder", binderID)
	}
	return f, nil
}

func (a *App) uploadFile(ctx context.Context, act *atrium.Actor, binderID, name string, body io.Reader, claim *uploadClaim) (*atrium.File, error) {
	f := &atrium.File{ID: atrium.NewID(), Name: name, Version: 1, CreatedBy: act.User.ID}
	err := a.upload(ctx, act, binderID, []string{name}, body, f, claim, func(w *writer, b *atrium.Binder) error {
		f.CreatedAt, f.UpdatedAt = w.now, w.now
		if err := w.CreateFile(w.ctx, f); err != nil {
			return err
		}
		if err := w.auditIn(b.OrgID, b.ID, "file.upload", "file", f.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventFileCreated, b.OrgID, b.ID, "", "file", f)
	})
	if err != nil {
		return nil, err
	}
	a.queueThumbnail(f)
	return f, nil
}

// uploadClaim ties a file made of a resumable upload to the upload's end:
// the transaction that records the file also removes the upload, if it
// still has the bytes the file was made of, so the file is made once.
type uploadClaim struct {
	id       string
	received int64
	blobs    []string // the parts' objects, to delete once the file is recorded
}

// upload is what a new file and a new version share. Before the body is
// read: the binder, the user's right to change its files and the
// organisation's rules. Then the body is stored encrypted as a new object
// (f gets its organisation, binder, object id, size, hash and type). Then,
// in the write transaction, with the binder locked: the right again, the
// organisation's key still alive, the claim on the upload it comes from
// (if any), the quota, the object's record, and record, which writes the
// rest. If the transaction fails, the object is removed.
func (a *App) upload(ctx context.Context, act *atrium.Actor, binderID string, names []string, body io.Reader, f *atrium.File,
	claim *uploadClaim, record func(w *writer, b *atrium.Binder) error) error {
	fs, err := a.files()
	if err != nil {
		return err
	}
	b, org, limit, err := a.uploadPolicy(ctx, fs, act, binderID, names...)
	if err != nil {
		return err
	}
	orgKey, err := a.orgKey(ctx, fs, b.OrgID)
	if err != nil {
		return err
	}
	f.OrgID, f.BinderID, f.BlobID = b.OrgID, b.ID, atrium.NewID()
	scan, err := startScan(ctx, fs)
	if err != nil {
		return err
	}
	if scan != nil {
		defer scan.Close()
		body = io.TeeReader(body, scan)
	}
	rec, err := a.storeObject(ctx, fs, orgKey, f, body, limit)
	if err != nil {
		return err
	}
	if scan != nil {
		signature, err := scanVerdict(scan)
		if err == nil && signature != "" {
			err = a.quarantine(ctx, act, f, names[0], rec, signature)
		}
		if err != nil {
			a.removeUnrecorded(ctx, fs, f.BlobID)
			return err
		}
	}
	err = a.write(ctx, func(w *writer) error {
		b, m, err := lockedBinder(w, act.User, binderID)
		if err != nil {
			return err
		}
		if !atrium.CanChangeFiles(act.User, b, m) {
			return atrium.Errorf(atrium.EForbidden, "viewers cannot upload files to this binder")
		}
		if k, err := w.GetOrgKey(w.ctx, org.ID); err != nil || k.Destroyed {
			return atrium.Errorf(atrium.EGone, "the organisation's files were erased")
		}
		if claim != nil {
			// The upload's parts leave the quota's count with it.
			if claim.blobs, err = w.ClaimUpload(w.ctx, claim.id, claim.received); err != nil {
				return err
			}
		}
		if err := withinQuota(w.ctx, lockedStorage{w.Tx}, org, rec.StoredSize); err != nil {
			return err
		}
		rec.CreatedAt = w.now
		if err := w.AddBlob(w.ctx, rec); err != nil {
			return err
		}
		return record(w, b)
	})
	if err != nil {
		a.removeUnrecorded(ctx, fs, f.BlobID)
	}
	return err
}

// removeUnrecorded deletes an object whose recording transaction failed,
// unless the database knows it after all (a commit that failed to answer
// may have committed).
func (a *App) removeUnrecorded(ctx context.Context, fs FileStorage, blobID string) {
	ctx = context.WithoutCancel(ctx)
	if _, err := a.store.GetBlob(ctx, blobID); atrium.ErrorCode(err) != atrium.ENotFound {
		return
	}
	if err := fs.Blobs.Delete(ctx, blobID); err != nil {
		a.log.Warn("file upload: removing an unrecorded object", "blob", blobID, "err", err)
	}
}

// storeObject encrypts body into a new object f.BlobID under a fresh data
// key, filling f's size, hash and type, and returns the object's record.
func (a *App) storeObject(ctx context.Context, fs FileStorage, orgKey sealed.Key, f *atrium.File, body io.Reader, limit int64) (*store.Blob, error) {
	dataKey, err := sealed.NewKey()
	if err != nil {
		return nil, atrium.Internal("app.storeObject", err)
	}
	wrapped, err := sealed.Wrap(orgKey, dataKey, dataKeyAD(f.BlobID))
	if err != nil {
		return nil, atrium.Internal("app.storeObject", err)
	}
	pending, err := fs.Blobs.Create(ctx, f.BlobID)
	if err != nil {
		return nil, unavailable("storing the file", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = pending.Abort()
		}
	}()
	dst := &errWriter{w: pending}
	sw, err := sealed.NewWriter(dst, dataKey, f.BlobID)
	if err != nil {
		return nil, atrium.Internal("app.storeObject", err)
	}
	h := sha256.New()
	head := &prefixBuffer{max: sniffLen}
	n, err := io.Copy(io.MultiWriter(sw, h, head), io.LimitReader(body, limit+1))
	switch {
	case dst.err != nil:
		return nil, unavailable("storing the file", dst.err)
	case err != nil && atrium.ErrorCode(err) != atrium.EInternal:
		return nil, err // the request body's own error (too large, say)
	case err != nil:
		return nil, atrium.Errorf(atrium.EInvalid, "the upload did not arrive whole: %v", err)
	case n > limit:
		return nil, atrium.Errorf(atrium.ETooLarge, "files may be at most %d bytes", limit)
	}
	if err := sw.Close(); err != nil {
		return nil, unavailable("storing the file", err)
	}
	if err := pending.Commit(); err != nil {
		return nil, unavailable("storing the file", err)
	}
	committed = true
	f.Size, f.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	f.ContentType = mimetype.Detect(head.buf.Bytes()).String()
	return &store.Blob{ID: f.BlobID, OrgID: f.OrgID, StoredSize: sealed.CipherSize(n), WrappedKey: wrapped}, nil
}

// notFoundAs reports a binder that is not found as the object asked for
// (a file, say) not found; other errors pass as they are.
func notFoundAs(err error, what string) error {
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return atrium.NotFound(what)
	}
	return err
}

// unavailable reports a failing storage backend: the client may retry.
func unavailable(what string, err error) error {
	return &atrium.Error{Code: atrium.EUnavailable, Message: what + " failed; try again", Err: err, RetryAfter: 5}
}

// errWriter remembers its destination's error, to tell a failing store
// from a failing request body.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	n, err := e.w.Write(b)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// prefixBuffer keeps the first max bytes written to it.
type prefixBuffer struct {
	buf bytes.Buffer
	max int
}

func (p *prefixBuffer) Write(b []byte) (int, error) {
	if room := p.max - p.buf.Len(); room > 0 {
		p.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// GetFile returns a file of a binder the actor belongs to.
func (a *App) GetFile(ctx context.Context, id string) (*atrium.File, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	f, err := a.visibleFile(ctx, act.User, id)
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "file.read", "file", id)
	}
	return f, nil
}

// visibleFile loads a file the user may see: one of a binder they belong
// to. Every other file id is "not found".
func (a *App) visibleFile(ctx context.Context, u *atrium.User, id string) (*atrium.File, error) {
	if !atrium.ValidID(id) {
		return nil, atrium.NotFound("file")
	}
	f, err := a.store.GetFile(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, _, err := visibleBinder(ctx, a.store.GetBinderForUser, u, f.BinderID); err != nil {
		return nil, notFoundAs(err, "file")
	}
	return f, nil
}

// ListFiles returns a page of a binder's files (members only).
func (a *App) ListFiles(ctx context.Context, binderID string, p Page) ([]*atrium.File, string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	if _, _, err := visibleBinder(ctx, a.store.GetBinderForUser, act.User, binderID); err != nil {
		return nil, "", a.deny(ctx, err, act.User.OrgID, "file.list", "binder", binderID)
	}
	return pageAfterID(p, func(after string, limit int) ([]*atrium.File, error) {
		return a.store.ListFiles(ctx, binderID, after, limit)
	}, func(f *atrium.File) string { return f.ID })
}

// FileContent is a file's body opened for reading: a decrypting
// io.ReadSeeker over its stored object.
type FileContent struct {
	*sealed.Reader
	obj blob.Object
}

// Close releases the stored object.
func (c *FileContent) Close() error { return c.obj.Close() }

// Corrupt reports whether err means the stored object failed
// authentication.
func Corrupt(err error) bool { return errors.Is(err, sealed.ErrCorrupt) }

// OpenFile returns a file the actor may see (viewers included) with its
// body opened for reading. The caller closes it. A stored object or key
// that fails authentication is an internal error: no byte of it is served.
func (a *App) OpenFile(ctx context.Context, id string) (*atrium.File, *FileContent, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, nil, err
	}
	f, err := a.visibleFile(ctx, act.User, id)
	if err == nil {
		err = a.checkFeature(ctx, act, atrium.FeatureFilesDownload)
	}
	if err != nil {
		return nil, nil, a.deny(ctx, err, act.User.OrgID, "file.download", "file", id)
	}
	c, err := a.openObject(ctx, f.OrgID, f.BlobID, f.Size)
	if err != nil {
		return nil, nil, err
	}
	return f, c, nil
}

// openObject opens stored object blobID of organisation orgID, of
// plaintext size size, for decrypting reads.
func (a *App) openObject(ctx context.Context, orgID, blobID string, size int64) (*FileContent, error) {
	fs, err := a.files()
	if err != nil {
		return nil, err
	}
	orgKey, err := a.orgKey(ctx, fs, orgID)
	if err != nil {
		return nil, err
	}
	rec, err := a.store.GetBlob(ctx, blobID)
	if err != nil {
		return nil, atrium.Internal("app.openObject", err)
	}
	return a.openRecord(ctx, fs, orgKey, rec, size)
}

// openRecord opens a stored object whose record is rec.
func (a *App) openRecord(ctx context.Context, fs FileStorage, orgKey sealed.Key, rec *store.Blob, size int64) (*FileContent, error) {
	dataKey, err := sealed.Unwrap(orgKey, rec.WrappedKey, dataKeyAD(rec.ID))
	if err != nil {
		return nil, atrium.Internal("app.openObject", err)
	}
	obj, err := fs.Blobs.Open(ctx, rec.ID)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, atrium.Internal("app.openObject", err)
	}
	if err != nil {
		return nil, unavailable("reading the file", err)
	}
	r, err := sealed.NewReader(obj, obj.Size(), dataKey, rec.ID, size)
	if err != nil {
		obj.Close()
		return nil, atrium.Internal("app.openObject", err)
	}
	return &FileContent{Reader: r, obj: obj}, nil
}
