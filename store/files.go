package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-dev/atrium"
)

// OrgKey is an organisation's key, wrapped under master key KEKID.
type OrgKey struct {
	OrgID     string
	KEKID     string
	Wrapped   []byte
	CreatedAt time.Time
	Destroyed bool
}

// GetOrgKey returns an organisation's key; ENotFound if it has none yet.
func (q Queries) GetOrgKey(ctx context.Context, orgID string) (*OrgKey, error) {
	var k OrgKey
	var created int64
	var destroyed sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT org_id, kek_id, wrapped_key, created_at, destroyed_at
		FROM org_keys WHERE org_id = $1`, orgID).Scan(&k.OrgID, &k.KEKID, &k.Wrapped, &created, &destroyed)
	if err != nil {
		return nil, notFound(err, "organisation key", "store.GetOrgKey")
	}
	k.CreatedAt, k.Destroyed = fromMS(created), destroyed.Valid
	return &k, nil
}

// AddOrgKey stores an organisation's first key, unless another writer
// stored one first; the caller reads it back either way.
func (q Queries) AddOrgKey(ctx context.Context, k *OrgKey) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO org_keys (org_id, kek_id, wrapped_key, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO NOTHING`, k.OrgID, k.KEKID, k.Wrapped, ms(k.CreatedAt))
	return atrium.Internal("store.AddOrgKey", err)
}

// MasterKeysInUse lists the master keys that wrap a live organisation key.
func (q Queries) MasterKeysInUse(ctx context.Context) ([]string, error) {
	return q.queryStrings(ctx, "store.MasterKeysInUse",
		`SELECT kek_id FROM org_keys WHERE destroyed_at IS NULL UNION SELECT kek_id FROM server_secrets ORDER BY 1`)
}

// Blob is a stored object's record: its stored size and its data key,
// wrapped under its organisation's key.
type Blob struct {
	ID         string
	OrgID      string
	StoredSize int64
	WrappedKey []byte
	CreatedAt  time.Time
}

// AddBlob records a stored object.
func (q Queries) AddBlob(ctx context.Context, b *Blob) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO blobs (id, org_id, stored_size, wrapped_key, created_at)
		VALUES ($1, $2, $3, $4, $5)`, b.ID, b.OrgID, b.StoredSize, b.WrappedKey, ms(b.CreatedAt))
	return atrium.Internal("store.AddBlob", err)
}

// GetBlob returns a stored object's record.
func (q Queries) GetBlob(ctx context.Context, id string) (*Blob, error) {
	var b Blob
	var created int64
	err := q.q.QueryRowContext(ctx, `SELECT id, org_id, stored_size, wrapped_key, created_at FROM blobs WHERE id = $1`, id).
		Scan(&b.ID, &b.OrgID, &b.StoredSize, &b.WrappedKey, &created)
	if err != nil {
		return nil, notFound(err, "blob", "store.GetBlob")
	}
	b.CreatedAt = fromMS(created)
	return &b, nil
}

const fileCols = `id, org_id, binder_id, name, content_type, size, sha256, version, blob_id, created_by, created_at, updated_at, deleted_at`

func scanFile(row interface{ Scan(...any) error }) (*atrium.File, error) {
	var f atrium.File
	var created, updated int64
	var deleted sql.NullInt64
	if err := row.Scan(&f.ID, &f.OrgID, &f.BinderID, &f.Name, &f.ContentType, &f.Size, &f.SHA256, &f.Version,
		&f.BlobID, &f.CreatedBy, &created, &updated, &deleted); err != nil {
		return nil, err
	}
	f.CreatedAt, f.UpdatedAt, f.DeletedAt = fromMS(created), fromMS(updated), fromNullMS(deleted)
	return &f, nil
}

// CreateFile inserts a file and its first version.
func (q Queries) CreateFile(ctx context.Context, f *atrium.File) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO files (`+fileCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL)`,
		f.ID, f.OrgID, f.BinderID, f.Name, f.ContentType, f.Size, f.SHA256, f.Version, f.BlobID, f.CreatedBy,
		ms(f.CreatedAt), ms(f.UpdatedAt))
	if err != nil {
		return atrium.Internal("store.CreateFile", err)
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO file_versions
		(file_id, version, name, content_type, size, sha256, blob_id, uploaded_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		f.ID, f.Version, f.Name, f.ContentType, f.Size, f.SHA256, f.BlobID, f.CreatedBy, ms(f.CreatedAt))
	return atrium.Internal("store.CreateFile", err)
}

// GetFile returns a file that is not deleted; ENotFound otherwise.
func (q Queries) GetFile(ctx context.Context, id string) (*atrium.File, error) {
	f, err := scanFile(q.q.QueryRowContext(ctx, `SELECT `+fileCols+` FROM files WHERE id = $1 AND deleted_at IS NULL`, id))
	if err != nil {
		return nil, notFound(err, "file", "store.GetFile")
	}
	return f, nil
}

// ListFiles returns up to limit files of a binder with ids after `after`.
func (q Queries) ListFiles(ctx context.Context, binderID, after string, limit int) ([]*atrium.File, error) {
	return queryAll(ctx, q.q, "store.ListFiles", scanFile, `SELECT `+fileCols+` FROM files
		WHERE binder_id = $1 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT $3`, binderID, after, limit)
}

// OrgKeysNotUnder returns up to limit live organisation keys wrapped under
// a master key other than kekID, with organisation ids after `after`.
func (q Queries) OrgKeysNotUnder(ctx context.Context, kekID, after string, limit int) ([]*OrgKey, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT org_id, kek_id, wrapped_key, created_at FROM org_keys
		WHERE kek_id <> $1 AND destroyed_at IS NULL AND org_id > $2 ORDER BY org_id LIMIT $3`, kekID, after, limit)
	if err != nil {
		return nil, atrium.Internal("store.OrgKeysNotUnder", err)
	}
	defer rows.Close()
	var out []*OrgKey
	for rows.Next() {
		var k OrgKey
		var created int64
		if err := rows.Scan(&k.OrgID, &k.KEKID, &k.Wrapped, &created); err != nil {
			return nil, atrium.Internal("store.OrgKeysNotUnder", err)
		}
		k.CreatedAt = fromMS(created)
		out = append(out, &k)
	}
	return out, atrium.Internal("store.OrgKeysNotUnder", rows.Err())
}

// CountOrgKeysUnder counts the live organisation keys (and the server's
// own keys) wrapped under master key kekID.
func (q Queries) CountOrgKeysUnder(ctx context.Context, kekID string) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM org_keys WHERE kek_id = $1 AND destroyed_at IS NULL)
		+ (SELECT COUNT(*) FROM server_secrets WHERE kek_id = $1)`, kekID).Scan(&n)
	return n, atrium.Internal("store.CountOrgKeysUnder", err)
}

// RewrapOrgKey replaces an organisation key's wrapping, if it is still
// wrapped under oldKEK; it reports whether it was.
func (q Queries) RewrapOrgKey(ctx context.Context, orgID, oldKEK, newKEK string, wrapped []byte) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE org_keys SET kek_id = $3, wrapped_key = $4
		WHERE org_id = $1 AND kek_id = $2 AND destroyed_at IS NULL`, orgID, oldKEK, newKEK, wrapped)
	if err != nil {
		return false, atrium.Internal("store.RewrapOrgKey", err)
	}
	n, err := res.RowsAffected()
	return n == 1, atrium.Internal("store.RewrapOrgKey", err)
}

// AddFileVersion makes f's fields (with a new blob) the file's next
// version, setting f.Version; ENotFound if the file is gone.
func (q Queries) AddFileVersion(ctx context.Context, f *atrium.File, uploadedName string) error {
	err := q.q.QueryRowContext(ctx, `UPDATE files SET content_type = $2, size = $3, sha256 = $4, blob_id = $5,
		version = version + 1, updated_at = $6 WHERE id = $1 AND deleted_at IS NULL RETURNING version`,
		f.ID, f.ContentType, f.Size, f.SHA256, f.BlobID, ms(f.UpdatedAt)).Scan(&f.Version)
	if err != nil {
		return notFound(err, "file", "store.AddFileVersion")
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO file_versions
		(file_id, version, name, content_type, size, sha256, blob_id, uploaded_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		f.ID, f.Version, uploadedName, f.ContentType, f.Size, f.SHA256, f.BlobID, f.CreatedBy, ms(f.UpdatedAt))
	return atrium.Internal("store.AddFileVersion", err)
}

const versionCols = `file_id, version, name, content_type, size, sha256, blob_id, uploaded_by, created_at`

func scanVersion(row interface{ Scan(...any) error }) (*atrium.FileVersion, error) {
	var v atrium.FileVersion
	var created int64
	if err := row.Scan(&v.FileID, &v.Version, &v.Name, &v.ContentType, &v.Size, &v.SHA256, &v.BlobID, &v.UploadedBy, &created); err != nil {
		return nil, err
	}
	v.CreatedAt = fromMS(created)
	return &v, nil
}

// ListFileVersions returns up to limit versions of a file below version
// `before` (0: from the newest), newest first.
func (q Queries) ListFileVersions(ctx context.Context, fileID string, before int64, limit int) ([]*atrium.FileVersion, error) {
	if before <= 0 {
		before = 1 << 62
	}
	return queryAll(ctx, q.q, "store.ListFileVersions", scanVersion, `SELECT `+versionCols+` FROM file_versions
		WHERE file_id = $1 AND version < $2 ORDER BY version DESC LIMIT $3`, fileID, before, limit)
}

// GetFileVersion returns one version of a file; ENotFound if there is none.
func (q Queries) GetFileVersion(ctx context.Context, fileID string, version int64) (*atrium.FileVersion, error) {
	v, err := scanVersion(q.q.QueryRowContext(ctx, `SELECT `+versionCols+` FROM file_versions
		WHERE file_id = $1 AND version = $2`, fileID, version))
	if err != nil {
		return nil, notFound(err, "version", "store.GetFileVersion")
	}
	return v, nil
}

// RenameFile renames a file that is not deleted.
func (q Queries) RenameFile(ctx context.Context, id, name string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE files SET name = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL`,
		id, name, ms(now))
	return changedOne(res, err, "file", "store.RenameFile")
}

// SetFileDeleted deletes a file (softly: it can be restored) or, with a
// nil time, restores it. ENotFound if the file was not in the other state.
func (q Queries) SetFileDeleted(ctx context.Context, id string, at *time.Time, now time.Time) error {
	if at != nil {
		res, err := q.q.ExecContext(ctx, `UPDATE files SET deleted_at = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL`,
			id, ms(*at), ms(now))
		return changedOne(res, err, "file", "store.SetFileDeleted")
	}
	res, err := q.q.ExecContext(ctx, `UPDATE files SET deleted_at = NULL, updated_at = $2 WHERE id = $1 AND deleted_at IS NOT NULL`,
		id, ms(now))
	return changedOne(res, err, "file", "store.SetFileDeleted")
}

// GetFileAny returns a file, deleted or not; ENotFound if there is none.
func (q Queries) GetFileAny(ctx context.Context, id string) (*atrium.File, error) {
	f, err := scanFile(q.q.QueryRowContext(ctx, `SELECT `+fileCols+` FROM files WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "file", "store.GetFileAny")
	}
	return f, nil
}

// OrgStoredBytes is what an organisation stores: the stored size of every
// object it has.
func (q Queries) OrgStoredBytes(ctx context.Context, orgID string) (int64, error) {
	var n int64
	err := q.q.QueryRowContext(ctx, `SELECT COALESCE(SUM(stored_size), 0) FROM blobs WHERE org_id = $1`, orgID).Scan(&n)
	return n, atrium.Internal("store.OrgStoredBytes", err)
}

// OrgStoredBytesLocked is OrgStoredBytes inside a write transaction that
// is about to add to them. On PostgreSQL it first locks the
// organisation's key until commit, so that the quota checks of uploads
// committing at once (on several nodes, say) take turns and cannot both
// pass; SQLite has one writer already.
func (q Queries) OrgStoredBytesLocked(ctx context.Context, orgID string) (int64, error) {
	if q.d.name() == "postgres" {
		if _, err := q.q.ExecContext(ctx, `SELECT 1 FROM org_keys WHERE org_id = $1 FOR UPDATE`, orgID); err != nil {
			return 0, atrium.Internal("store.OrgStoredBytesLocked", err)
		}
	}
	return q.OrgStoredBytes(ctx, orgID)
}

// FilesDeletedBefore returns up to limit files deleted before t.
func (q Queries) FilesDeletedBefore(ctx context.Context, t time.Time, limit int) ([]*atrium.File, error) {
	return queryAll(ctx, q.q, "store.FilesDeletedBefore", scanFile, `SELECT `+fileCols+` FROM files
		WHERE deleted_at IS NOT NULL AND deleted_at < $1 ORDER BY deleted_at LIMIT $2`, ms(t), limit)
}

// PurgeFile removes a file deleted before t, its versions and their
// objects' records for good, and returns the ids of the objects to delete
// from the object store. ENotFound if the file was not deleted before t.
func (q Queries) PurgeFile(ctx context.Context, id string, t time.Time) ([]string, error) {
	blobs, err := q.queryStrings(ctx, "store.PurgeFile", `SELECT v.blob_id FROM file_versions v JOIN files f ON f.id = v.file_id
		WHERE v.file_id = $1 AND f.deleted_at IS NOT NULL AND f.deleted_at < $2
		UNION ALL SELECT t.blob_id FROM thumbnails t JOIN files f ON f.id = t.file_id
		WHERE t.file_id = $1 AND f.deleted_at IS NOT NULL AND f.deleted_at < $2`, id, ms(t))
	if err != nil {
		return nil, err
	}
	if len(blobs) == 0 {
		return nil, atrium.NotFound("file")
	}
	for _, stmt := range []string{
		`DELETE FROM thumbnails WHERE file_id = $1`,
		`DELETE FROM file_versions WHERE file_id = $1`,
		`DELETE FROM files WHERE id = $1`,
	} {
		if _, err := q.q.ExecContext(ctx, stmt, id); err != nil {
			return nil, atrium.Internal("store.PurgeFile", err)
		}
	}
	return blobs, q.deleteBlobs(ctx, "store.PurgeFile", blobs)
}

// Thumbnail is the preview of one version of an image file.
type Thumbnail struct {
	FileID      string
	Version     int64
	BlobID      string
	ContentType string
	Size        int64
	SHA256      string
	CreatedAt   time.Time
}

// AddThumbnail records a version's thumbnail; false if it had one already
// (another node made it first).
func (q Queries) AddThumbnail(ctx context.Context, t *Thumbnail) (bool, error) {
	res, err := q.q.ExecContext(ctx, `INSERT INTO thumbnails (file_id, version, blob_id, content_type, size, sha256, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (file_id, version) DO NOTHING`,
		t.FileID, t.Version, t.BlobID, t.ContentType, t.Size, t.SHA256, ms(t.CreatedAt))
	if err != nil {
		return false, atrium.Internal("store.AddThumbnail", err)
	}
	n, err := res.RowsAffected()
	return n == 1, atrium.Internal("store.AddThumbnail", err)
}

// GetThumbnail returns a version's thumbnail; ENotFound if it has none.
func (q Queries) GetThumbnail(ctx context.Context, fileID string, version int64) (*Thumbnail, error) {
	var t Thumbnail
	var created int64
	err := q.q.QueryRowContext(ctx, `SELECT file_id, version, blob_id, content_type, size, sha256, created_at
		FROM thumbnails WHERE file_id = $1 AND version = $2`, fileID, version).
		Scan(&t.FileID, &t.Version, &t.BlobID, &t.ContentType, &t.Size, &t.SHA256, &created)
	if err != nil {
		return nil, notFound(err, "thumbnail", "store.GetThumbnail")
	}
	t.CreatedAt = fromMS(created)
	return &t, nil
}

// DestroyOrgKey erases an organisation's key for good (crypto-erasure):
// nothing it wrapped can be read again, wherever a copy of it lies. An
// organisation without a key gets a destroyed one, so none is made later.
// ENotFound if it was destroyed already.
func (q Queries) DestroyOrgKey(ctx context.Context, orgID string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `INSERT INTO org_keys (org_id, kek_id, wrapped_key, created_at, destroyed_at)
		VALUES ($1, '', $2, $3, $3)
		ON CONFLICT (org_id) DO UPDATE SET kek_id = '', wrapped_key = $2, destroyed_at = $3
		WHERE org_keys.destroyed_at IS NULL`, orgID, []byte{}, ms(now))
	return changedOne(res, err, "organisation key", "store.DestroyOrgKey")
}
