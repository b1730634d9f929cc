package app

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// ExportTTL is how long a finished export can be downloaded.
const ExportTTL = 7 * 24 * time.Hour

// exportInterval is how often a user may have a new export made.
const exportInterval = 24 * time.Hour

// maxExportSize bounds one export archive.
const maxExportSize = 1 << 40

// RequestExport asks for an archive of the actor's own data (GDPR Art.
// 20): profile, memberships, the messages they sent and the file versions
// they uploaded. It is prepared in the background; a request while one
// is being prepared, or within a day of the last ready one, returns that
// one (exports are large: one a day is enough).
func (a *App) RequestExport(ctx context.Context) (*store.Export, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := a.files(); err != nil {
		return nil, err
	}
	var e *store.Export
	err = a.write(ctx, func(w *writer) error {
		if e, err = w.UserRecentExport(w.ctx, act.User.ID, w.now.Add(-exportInterval)); err != nil || e != nil {
			return err
		}
		e = &store.Export{ID: atrium.NewID(), OrgID: act.User.OrgID, UserID: act.User.ID, Status: store.ExportPending,
			CreatedAt: w.now, ExpiresAt: w.now.Add(ExportTTL)}
		if err := w.CreateExport(w.ctx, e); err != nil {
			return err
		}
		return w.audit(act.User.OrgID, "user.export_request", "export", e.ID, "")
	})
	if err != nil {
		return nil, err
	}
	select {
	case a.exports <- struct{}{}:
	default:
	}
	return e, nil
}

// GetExport returns one of the actor's exports.
func (a *App) GetExport(ctx context.Context, id string) (*store.Export, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !atrium.ValidID(id) {
		return nil, atrium.NotFound("export")
	}
	e, err := a.store.GetExport(ctx, id)
	if err == nil && e.UserID != act.User.ID {
		err = atrium.NotFound("export")
	}
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "user.export_read", "export", id)
	}
	return e, nil
}

// OpenExport opens one of the actor's finished exports for download.
func (a *App) OpenExport(ctx context.Context, id string) (*store.Export, *FileContent, error) {
	e, err := a.GetExport(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !a.now().Before(e.ExpiresAt):
		return nil, nil, atrium.Errorf(atrium.EGone, "the export expired; ask for a new one")
	case e.Status == store.ExportPending:
		return nil, nil, atrium.Errorf(atrium.EConflict, "the export is still being prepared")
	case e.Status == store.ExportFailed:
		return nil, nil, atrium.Errorf(atrium.EGone, "the export failed; ask for a new one")
	}
	c, err := a.openObject(ctx, e.OrgID, e.BlobID, e.Size)
	if err != nil {
		return nil, nil, err
	}
	if err := a.write(ctx, func(w *writer) error {
		return w.audit(e.OrgID, "user.export_download", "export", e.ID, "")
	}); err != nil {
		c.Close()
		return nil, nil, err
	}
	return e, c, nil
}

// RunExports prepares requested exports, one at a time, until ctx ends:
// when asked, and every minute for those another node left.
func (a *App) RunExports(ctx context.Context) {
	if !a.cfg.ExportWorker {
		return
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if err := a.PrepareExports(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("preparing exports", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-a.exports:
		case <-t.C:
		}
	}
}

// PrepareExports prepares every pending export.
func (a *App) PrepareExports(ctx context.Context) error {
	pending, err := a.store.PendingExports(ctx, 20)
	if err != nil {
		return err
	}
	for _, e := range pending {
		if err := a.prepareExport(ctx, e); err != nil {
			a.log.Warn("preparing an export", "export", e.ID, "err", err)
		}
	}
	return nil
}

// prepareExport writes one export's archive, encrypted like any object,
// and records it ready (or failed).
func (a *App) prepareExport(ctx context.Context, e *store.Export) error {
	fs, err := a.files()
	if err != nil {
		return err
	}
	orgKey, err := a.orgKey(ctx, fs, e.OrgID)
	if err != nil {
		if ctx.Err() == nil && atrium.ErrorCode(err) != atrium.EUnavailable {
			a.failExport(ctx, e) // the organisation's files were erased, say: it will not get better
		}
		return err
	}
	obj := &atrium.File{OrgID: e.OrgID, BlobID: atrium.NewID()}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(a.writeArchive(ctx, e, pw)) }()
	rec, err := a.storeObject(ctx, fs, orgKey, obj, pr, maxExportSize)
	pr.CloseWithError(err) // stops the writer if storing failed
	status, blobID := store.ExportReady, obj.BlobID
	if err != nil {
		a.log.Warn("an export failed", "export", e.ID, "err", err)
		status, blobID, rec = store.ExportFailed, "", nil
	}
	err = a.write(ctx, func(w *writer) error {
		if rec != nil {
			rec.CreatedAt = w.now
			if err := w.AddBlob(w.ctx, rec); err != nil {
				return err
			}
		}
		ok, err := w.FinishExport(w.ctx, e.ID, status, blobID, obj.Size, w.now)
		if err != nil {
			return err
		}
		if !ok {
			return atrium.Errorf(atrium.EConflict, "another node finished this export")
		}
		return w.audit(e.OrgID, "user.export_"+status, "export", e.ID, fmt.Sprintf("%d bytes", obj.Size))
	})
	if err != nil && rec != nil {
		a.removeUnrecorded(ctx, fs, obj.BlobID)
	}
	return err
}

// failExport records an export that cannot be prepared.
func (a *App) failExport(ctx context.Context, e *store.Export) {
	err := a.write(ctx, func(w *writer) error {
		if ok, err := w.FinishExport(w.ctx, e.ID, store.ExportFailed, "", 0, w.now); err != nil || !ok {
			return err
		}
		return w.audit(e.OrgID, "user.export_failed", "export", e.ID, "")
	})
	if err != nil {
		a.log.Warn("recording a failed export", "export", e.ID, "err", err)
	}
}

// writeArchive writes a user's data as a ZIP archive to w.
func (a *App) writeArchive(ctx context.Context, e *store.Export, w io.Writer) error {
	z := zip.NewWriter(w)
	u, err := a.store.GetUser(ctx, e.UserID)
	if err != nil {
		return err
	}
	if err := writeJSONEntry(z, "profile.json", u); err != nil {
		return err
	}
	if err := a.archiveMemberships(ctx, z, u.ID); err != nil {
		return err
	}
	if err := a.archiveMessages(ctx, z, u.ID); err != nil {
		return err
	}
	if err := a.archiveFiles(ctx, z, u.ID); err != nil {
		return err
	}
	return z.Close()
}

func writeJSONEntry(z *zip.Writer, name string, v any) error {
	f, err := z.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// archiveMemberships writes the binders the user belongs to.
func (a *App) archiveMemberships(ctx context.Context, z *zip.Writer, userID string) error {
	var all []*atrium.Binder
	after := ""
	for {
		page, err := a.store.ListBindersForUser(ctx, userID, after, 500)
		if err != nil {
			return err
		}
		all = append(all, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	if all == nil {
		all = []*atrium.Binder{}
	}
	return writeJSONEntry(z, "memberships.json", all)
}

// archiveMessages writes the messages the user sent, one JSON object a
// line.
func (a *App) archiveMessages(ctx context.Context, z *zip.Writer, userID string) error {
	f, err := z.Create("messages.jsonl")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	after := ""
	for {
		page, err := a.store.MessagesBySender(ctx, userID, after, 500)
		if err != nil {
			return err
		}
		for _, m := range page {
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
		if len(page) < 500 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// archiveFiles writes every version the user uploaded of a file that is
// not deleted, under files/, with an index. Versions others uploaded,
// even of files the user created, are theirs and stay out.
func (a *App) archiveFiles(ctx context.Context, z *zip.Writer, userID string) error {
	index := []*atrium.FileVersion{}
	after := int64(0)
	afterFile := ""
	for {
		page, err := a.store.VersionsUploadedBy(ctx, userID, afterFile, after, 200)
		if err != nil {
			return err
		}
		for _, v := range page {
			if err := a.archiveVersion(ctx, z, v); err != nil {
				return err
			}
			index = append(index, &v.FileVersion)
		}
		if len(page) < 200 {
			break
		}
		afterFile, after = page[len(page)-1].FileID, page[len(page)-1].Version
	}
	return writeJSONEntry(z, "files.json", index)
}

func (a *App) archiveVersion(ctx context.Context, z *zip.Writer, v *store.OrgFileVersion) error {
	c, err := a.openObject(ctx, v.OrgID, v.BlobID, v.Size)
	if err != nil {
		return err
	}
	defer c.Close()
	// The file's id and version keep names unique; the name is made safe
	// to unpack.
	name := strings.NewReplacer("/", "_", "\\", "_").Replace(path.Base(v.Name))
	w, err := z.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("files/%s-v%d-%s", v.FileID, v.Version, name),
		Method: zip.Store, Modified: v.CreatedAt})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, c)
	return err
}

// expireExports deletes exports past their time, with their objects.
func (a *App) expireExports(ctx context.Context) error {
	fs, err := a.files()
	if err != nil {
		return nil
	}
	old, err := a.store.ExpiredExports(ctx, a.now(), purgeBatch)
	if err != nil {
		return err
	}
	for _, e := range old {
		var blobID string
		err := a.write(ctx, func(w *writer) (err error) {
			blobID, err = w.DeleteExport(w.ctx, e.ID)
			return err
		})
		if atrium.ErrorCode(err) == atrium.ENotFound {
			continue
		}
		if err != nil {
			return err
		}
		if blobID != "" {
			if err := fs.Blobs.Delete(ctx, blobID); err != nil {
				a.log.Warn("expiring an export: its object stays behind", "blob", blobID, "err", err)
			}
		}
	}
	return nil
}
