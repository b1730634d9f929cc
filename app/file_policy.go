package app

import (
	"context"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// uploadPolicy checks, before any byte is read, an upload by u into a
// binder of a file that will carry names: u's right to change the binder's
// files, the feature permission, the names, the organisation's blocked
// extensions, and a quota already used up. It returns the binder, its
// organisation and the size limit.
func (a *App) uploadPolicy(ctx context.Context, fs FileStorage, act *atrium.Actor, binderID string, names ...string) (*atrium.Binder, *atrium.Org, int64, error) {
	u := act.User
	b, m, err := visibleBinder(ctx, a.store.GetBinderForUser, u, binderID)
	if err != nil {
		return nil, nil, 0, err
	}
	if !atrium.CanChangeFiles(u, b, m) {
		return nil, nil, 0, atrium.Errorf(atrium.EForbidden, "viewers cannot upload files to this binder")
	}
	if err := a.checkFeature(ctx, act, atrium.FeatureFilesUpload); err != nil {
		return nil, nil, 0, err
	}
	for _, name := range names {
		if err := atrium.ValidateFileName(name); err != nil {
			return nil, nil, 0, err
		}
	}
	org, err := a.store.GetOrg(ctx, b.OrgID)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := blockedName(org, names...); err != nil {
		return nil, nil, 0, err
	}
	if err := withinQuota(ctx, a.store, org, 0); err != nil {
		return nil, nil, 0, err
	}
	limit := fs.maxSize()
	if mb := org.Settings.MaxFileMB; mb > 0 && mb<<20 < limit {
		limit = mb << 20
	}
	return b, org, limit, nil
}

// blockedName refuses a file name that ends in one of the organisation's
// blocked extensions.
func blockedName(org *atrium.Org, names ...string) error {
	for _, name := range names {
		if ext := org.Settings.Blocked(name); ext != "" {
			return atrium.Errorf(atrium.EUnsupported, "files ending in %s are not allowed in this organisation", ext)
		}
	}
	return nil
}

// withinQuota returns EQuota if storing more bytes would take org over its
// storage quota (or, with more 0, if the quota is used up). Inside the
// write transaction, pass lockedStorage{w.Tx} so that it is exact.
func withinQuota(ctx context.Context, q interface {
	OrgStoredBytes(context.Context, string) (int64, error)
}, org *atrium.Org, more int64) error {
	quota := org.Settings.StorageQuotaMB << 20
	if quota == 0 {
		return nil
	}
	used, err := q.OrgStoredBytes(ctx, org.ID)
	if err != nil {
		return err
	}
	if used+more > quota || (more == 0 && used >= quota) {
		return atrium.Errorf(atrium.EQuota, "the organisation's storage quota of %d MiB is used up", org.Settings.StorageQuotaMB)
	}
	return nil
}

// lockedStorage counts an organisation's stored bytes in a write
// transaction, taking turns with other transactions that add to them.
type lockedStorage struct{ tx *store.Tx }

func (l lockedStorage) OrgStoredBytes(ctx context.Context, orgID string) (int64, error) {
	return l.tx.OrgStoredBytesLocked(ctx, orgID)
}
