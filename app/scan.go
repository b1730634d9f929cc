package app

import (
	"context"
	"errors"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/clamd"
	"github.com/atrium-dev/atrium/store"
)

// startScan opens a malware scan of an upload when a scanner is
// configured (nil otherwise). An unreachable scanner refuses the upload
// before its body is read: nothing is stored unscanned.
func startScan(ctx context.Context, fs FileStorage) (*clamd.Stream, error) {
	if fs.Scanner == nil {
		return nil, nil
	}
	s, err := fs.Scanner.Stream(ctx)
	if err != nil {
		return nil, unavailable("scanning the file for malware", err)
	}
	return s, nil
}

// scanVerdict ends a scan: the signature found, or "" for a clean file.
// A file longer than the scanner takes is refused (413), as is one the
// scanner failed on (503): files are never kept unscanned.
func scanVerdict(s *clamd.Stream) (string, error) {
	v, err := s.Verdict()
	switch {
	case errors.Is(err, clamd.ErrTooLarge):
		return "", atrium.Errorf(atrium.ETooLarge, "the file is larger than the malware scanner accepts")
	case err != nil:
		return "", unavailable("scanning the file for malware", err)
	}
	return v.Signature, nil
}

// quarantine records an infected upload named name, whose object
// f.BlobID is stored: the object's record and the quarantine's, with an
// audit entry, but no file and no event, so nothing serves it and no
// member sees it. It returns the refusal the uploader gets.
func (a *App) quarantine(ctx context.Context, act *atrium.Actor, f *atrium.File, name string, rec *store.Blob, signature string) error {
	fileID := ""
	if f.Version != 1 { // a new version of file f.ID; a new file comes as version 1
		fileID = f.ID
	}
	q := &store.Quarantined{ID: atrium.NewID(), OrgID: f.OrgID, BinderID: f.BinderID, FileID: fileID, BlobID: f.BlobID,
		Name: name, Size: f.Size, SHA256: f.SHA256, Signature: truncate(signature, 200), UploadedBy: act.User.ID}
	kept := true
	err := a.write(context.WithoutCancel(ctx), func(w *writer) error {
		rec.CreatedAt, q.CreatedAt = w.now, w.now
		org, err := w.GetOrg(w.ctx, f.OrgID)
		if err != nil {
			return err
		}
		// Quarantine counts against the quota like any stored byte; over
		// it, the bytes are not kept, only the record of the attempt.
		kept = withinQuota(w.ctx, lockedStorage{w.Tx}, org, rec.StoredSize) == nil
		detail := q.Signature + " in " + truncate(name, 200)
		if !kept {
			return w.auditIn(f.OrgID, f.BinderID, "file.quarantine", "quarantined_file", q.ID, detail+" (not kept: the storage quota is used up)")
		}
		if err := w.AddBlob(w.ctx, rec); err != nil {
			return err
		}
		if err := w.AddQuarantined(w.ctx, q); err != nil {
			return err
		}
		return w.auditIn(f.OrgID, f.BinderID, "file.quarantine", "quarantined_file", q.ID, detail)
	})
	if err != nil {
		return err
	}
	// (upload removes the object when it was not recorded.)
	a.log.Warn("upload quarantined", "org", f.OrgID, "binder", f.BinderID, "quarantined", q.ID, "signature", q.Signature)
	return atrium.Errorf(atrium.EMalware, "the file contains malware (%s); it was quarantined", q.Signature)
}

// PurgeQuarantined removes for good the quarantined uploads older than the
// file retention, and their objects; it returns how many.
func (a *App) PurgeQuarantined(ctx context.Context) (int, error) {
	fs, err := a.files()
	if err != nil || a.cfg.FileRetention <= 0 {
		return 0, nil
	}
	old, err := a.store.QuarantinedBefore(ctx, a.now().Add(-a.cfg.FileRetention), purgeBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, q := range old {
		err := a.write(ctx, func(w *writer) error {
			if err := w.PurgeQuarantined(w.ctx, q.ID, q.BlobID); err != nil {
				return err
			}
			return w.audit(q.OrgID, "file.quarantine_purge", "quarantined_file", q.ID, "")
		})
		if atrium.ErrorCode(err) == atrium.ENotFound {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
		if err := fs.Blobs.Delete(ctx, q.BlobID); err != nil {
			a.log.Warn("purging a quarantined upload: its object stays behind", "blob", q.BlobID, "err", err)
		}
	}
	return n, nil
}
