package app

import (
	"context"
	"io"
	"strings"

	"github.com/atrium-dev/atrium"
)

// changeFile loads, for a change, a live file of a binder the user
// belongs to, with the binder (locked) and the user's membership.
func changeFile(w *writer, u *atrium.User, id string) (*atrium.File, *atrium.Binder, *atrium.Member, error) {
	if !atrium.ValidID(id) {
		return nil, nil, nil, atrium.NotFound("file")
	}
	f, err := w.GetFile(w.ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	b, m, err := lockedBinder(w, u, f.BinderID)
	if err != nil {
		return nil, nil, nil, notFoundAs(err, "file")
	}
	// Read again under the binder's lock: a racing change has committed.
	if f, err = w.GetFile(w.ctx, id); err != nil {
		return nil, nil, nil, err
	}
	return f, b, m, nil
}

// UploadVersion stores a new version of a file (owners and editors); the
// file keeps its name, and the version records the name it came with.
func (a *App) UploadVersion(ctx context.Context, fileID, name string, body io.Reader) (*atrium.File, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	f, err := a.uploadVersion(ctx, act, fileID, name, body, nil)
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "file.version", "file", fileID)
	}
	return f, nil
}

func (a *App) uploadVersion(ctx context.Context, act *atrium.Actor, fileID, name string, body io.Reader, claim *uploadClaim) (*atrium.File, error) {
	f, err := a.visibleFile(ctx, act.User, fileID)
	if err != nil {
		return nil, err
	}
	next := &atrium.File{ID: f.ID, CreatedBy: act.User.ID}
	var out *atrium.File
	// The file keeps its name, so that name must be allowed too.
	err = a.upload(ctx, act, f.BinderID, []string{name, f.Name}, body, next, claim, func(w *writer, b *atrium.Binder) error {
		cur, err := w.GetFile(w.ctx, f.ID)
		if err != nil {
			return err
		}
		next.UpdatedAt = w.now
		if err := w.AddFileVersion(w.ctx, next, name); err != nil {
			return err
		}
		cur.ContentType, cur.Size, cur.SHA256, cur.BlobID, cur.Version, cur.UpdatedAt =
			next.ContentType, next.Size, next.SHA256, next.BlobID, next.Version, w.now
		out = cur
		if err := w.auditIn(b.OrgID, b.ID, "file.version", "file", cur.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventFileUpdated, b.OrgID, b.ID, "", "file", cur)
	})
	if err != nil {
		return nil, err
	}
	a.queueThumbnail(out)
	return out, nil
}

// ListVersions returns a page of a file's versions, newest first, and the
// version to continue before (0 at the end).
func (a *App) ListVersions(ctx context.Context, fileID string, before int64, limit int) ([]*atrium.FileVersion, int64, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, 0, err
	}
	f, err := a.visibleFile(ctx, act.User, fileID)
	if err != nil {
		return nil, 0, a.deny(ctx, err, act.User.OrgID, "file.read", "file", fileID)
	}
	limit = atrium.ClampLimit(limit)
	list, err := a.store.ListFileVersions(ctx, f.ID, before, limit+1)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].Version
	}
	return list, next, nil
}

// OpenFileVersion is OpenFile for one version of the file.
func (a *App) OpenFileVersion(ctx context.Context, fileID string, version int64) (*atrium.FileVersion, *FileContent, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, nil, err
	}
	f, err := a.visibleFile(ctx, act.User, fileID)
	if err == nil {
		err = a.checkFeature(ctx, act, atrium.FeatureFilesDownload)
	}
	if err != nil {
		return nil, nil, a.deny(ctx, err, act.User.OrgID, "file.download", "file", fileID)
	}
	v, err := a.store.GetFileVersion(ctx, f.ID, version)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.openObject(ctx, f.OrgID, v.BlobID, v.Size)
	if err != nil {
		return nil, nil, err
	}
	return v, c, nil
}

// RenameFileInput renames a file.
type RenameFileInput struct {
	Name *string `json:"name,omitempty"`
}

// RenameFile renames a file (owners and editors).
func (a *App) RenameFile(ctx context.Context, id string, in RenameFileInput) (*atrium.File, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, atrium.Errorf(atrium.EInvalid, "nothing to change: give a name")
	}
	name := strings.TrimSpace(*in.Name)
	if err := atrium.ValidateFileName(name); err != nil {
		return nil, err
	}
	var f *atrium.File
	err = a.write(ctx, func(w *writer) error {
		cur, b, m, err := changeFile(w, act.User, id)
		if err != nil {
			return err
		}
		if !atrium.CanChangeFiles(act.User, b, m) {
			return atrium.Errorf(atrium.EForbidden, "viewers cannot rename files")
		}
		org, err := w.GetOrg(ctx, b.OrgID)
		if err != nil {
			return err
		}
		if err := blockedName(org, name); err != nil {
			return err
		}
		if err := w.RenameFile(ctx, cur.ID, name, w.now); err != nil {
			return err
		}
		cur.Name, cur.UpdatedAt = name, w.now
		f = cur
		if err := w.auditIn(b.OrgID, b.ID, "file.rename", "file", cur.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventFileUpdated, b.OrgID, b.ID, "", "file", cur)
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "file.rename", "file", id)
	}
	return f, nil
}

// DeleteFile deletes a file softly: its versions are kept, and an
// administrator can restore it until the retention period ends. Its
// uploader (while an editor) or a binder owner may delete it.
func (a *App) DeleteFile(ctx context.Context, id string) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	err = a.write(ctx, func(w *writer) error {
		f, b, m, err := changeFile(w, act.User, id)
		if err != nil {
			return err
		}
		if !atrium.CanDeleteFile(act.User, b, m, f) {
			return atrium.Errorf(atrium.EForbidden, "only the file's uploader or a binder owner can delete it")
		}
		now := w.now
		if err := w.SetFileDeleted(ctx, f.ID, &now, now); err != nil {
			return err
		}
		if err := w.auditIn(b.OrgID, b.ID, "file.delete", "file", f.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventFileDeleted, b.OrgID, b.ID, "", "file", fileRemoved{ID: f.ID, BinderID: b.ID})
	})
	return a.deny(ctx, err, act.User.OrgID, "file.delete", "file", id)
}

// fileRemoved is what the event of a deleted file carries.
type fileRemoved struct {
	ID       string `json:"id"`
	BinderID string `json:"binder_id"`
}

// RestoreFile brings back a deleted file (organisation administrators),
// until the retention period after its deletion ends (then EGone).
func (a *App) RestoreFile(ctx context.Context, id string) (*atrium.File, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	var f *atrium.File
	err = a.write(ctx, func(w *writer) error {
		if !atrium.ValidID(id) {
			return atrium.NotFound("file")
		}
		cur, err := w.GetFileAny(ctx, id)
		if err != nil {
			return err
		}
		if cur.OrgID != act.User.OrgID {
			return atrium.NotFound("file")
		}
		if !atrium.CanRestoreFile(act.User, cur.OrgID) {
			return atrium.Errorf(atrium.EForbidden, "only administrators can restore files")
		}
		if cur.DeletedAt == nil {
			return atrium.Errorf(atrium.EConflict, "the file is not deleted")
		}
		if w.now.Sub(*cur.DeletedAt) > a.cfg.FileRetention {
			return atrium.Errorf(atrium.EGone, "the file was deleted longer ago than the retention period")
		}
		b, _, err := w.GetBinderForUserLocked(ctx, cur.BinderID, act.User.ID)
		if atrium.ErrorCode(err) == atrium.ENotFound {
			return atrium.Errorf(atrium.EConflict, "the file's binder is deleted")
		}
		if err != nil {
			return err
		}
		if err := w.SetFileDeleted(ctx, cur.ID, nil, w.now); err != nil {
			return err
		}
		cur.DeletedAt, cur.UpdatedAt = nil, w.now
		f = cur
		if err := w.auditIn(b.OrgID, b.ID, "file.restore", "file", cur.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventFileRestored, b.OrgID, b.ID, "", "file", cur)
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "file.restore", "file", id)
	}
	return f, nil
}

// purgeBatch bounds the files one housekeeping pass purges.
const purgeBatch = 100

// PurgeDeletedFiles removes for good the files deleted longer ago than the
// retention period: their records (audited in their organisation), then
// their stored objects. It returns how many files it purged. An object
// whose deletion fails stays behind unreferenced; nothing can read it.
func (a *App) PurgeDeletedFiles(ctx context.Context) (int, error) {
	fs, err := a.files()
	if err != nil || a.cfg.FileRetention <= 0 {
		return 0, nil
	}
	cutoff := a.now().Add(-a.cfg.FileRetention)
	files, err := a.store.FilesDeletedBefore(ctx, cutoff, purgeBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		var blobs []string
		err := a.write(ctx, func(w *writer) (err error) {
			if blobs, err = w.PurgeFile(w.ctx, f.ID, cutoff); err != nil {
				return err
			}
			return w.auditIn(f.OrgID, f.BinderID, "file.purge", "file", f.ID, "")
		})
		if atrium.ErrorCode(err) == atrium.ENotFound {
			continue // restored (or deleted again) meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
		for _, b := range blobs {
			if err := fs.Blobs.Delete(ctx, b); err != nil {
				a.log.Warn("purging a file: an object stays behind", "blob", b, "err", err)
			}
		}
	}
	return n, nil
}
