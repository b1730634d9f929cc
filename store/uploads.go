package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-dev/atrium"
)

// Upload is a resumable upload in progress.
type Upload struct {
	ID        string
	OrgID     string
	BinderID  string
	FileID    string // set for a new version of a file
	UserID    string
	Name      string
	Length    int64
	Received  int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// UploadPart is one stored piece of an upload.
type UploadPart struct {
	BlobID string
	Size   int64
}

const uploadCols = `id, org_id, binder_id, file_id, user_id, name, length, received, created_at, expires_at`

func scanUpload(row interface{ Scan(...any) error }) (*Upload, error) {
	var u Upload
	var fileID sql.NullString
	var created, expires int64
	if err := row.Scan(&u.ID, &u.OrgID, &u.BinderID, &fileID, &u.UserID, &u.Name, &u.Length, &u.Received,
		&created, &expires); err != nil {
		return nil, err
	}
	u.FileID, u.CreatedAt, u.ExpiresAt = fileID.String, fromMS(created), fromMS(expires)
	return &u, nil
}

// CreateUpload records a new upload.
func (q Queries) CreateUpload(ctx context.Context, u *Upload) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO uploads (`+uploadCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.ID, u.OrgID, u.BinderID, nullString(u.FileID), u.UserID, u.Name, u.Length, u.Received, ms(u.CreatedAt), ms(u.ExpiresAt))
	return atrium.Internal("store.CreateUpload", err)
}

// GetUpload returns an upload; ENotFound if there is none.
func (q Queries) GetUpload(ctx context.Context, id string) (*Upload, error) {
	u, err := scanUpload(q.q.QueryRowContext(ctx, `SELECT `+uploadCols+` FROM uploads WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "upload", "store.GetUpload")
	}
	return u, nil
}

// AddUploadPart records a part received at offset `at`, if the upload has
// received exactly that much; it reports whether it had.
func (q Queries) AddUploadPart(ctx context.Context, id string, at int64, p UploadPart) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE uploads SET received = received + $3 WHERE id = $1 AND received = $2`,
		id, at, p.Size)
	if err != nil {
		return false, atrium.Internal("store.AddUploadPart", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO upload_parts (upload_id, idx, blob_id, size) VALUES ($1, $2, $3, $4)`,
		id, at, p.BlobID, p.Size)
	return err == nil, atrium.Internal("store.AddUploadPart", err)
}

// UploadParts returns an upload's parts in order.
func (q Queries) UploadParts(ctx context.Context, id string) ([]UploadPart, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT blob_id, size FROM upload_parts WHERE upload_id = $1 ORDER BY idx`, id)
	if err != nil {
		return nil, atrium.Internal("store.UploadParts", err)
	}
	defer rows.Close()
	var out []UploadPart
	for rows.Next() {
		var p UploadPart
		if err := rows.Scan(&p.BlobID, &p.Size); err != nil {
			return nil, atrium.Internal("store.UploadParts", err)
		}
		out = append(out, p)
	}
	return out, atrium.Internal("store.UploadParts", rows.Err())
}

// DeleteUpload removes an upload and its parts' records, and returns the
// parts' objects to delete from the object store. ENotFound if there is
// no such upload.
func (q Queries) DeleteUpload(ctx context.Context, id string) ([]string, error) {
	return q.removeUpload(ctx, id, -1)
}

// ClaimUpload removes an upload that has received exactly `received`
// bytes, in the transaction that records the file made of it, and returns
// its parts' objects to delete once that commits. EConflict if the upload
// is gone or has moved on (another request finished it).
func (q Queries) ClaimUpload(ctx context.Context, id string, received int64) ([]string, error) {
	blobs, err := q.removeUpload(ctx, id, received)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, atrium.Errorf(atrium.EConflict, "the upload was finished or changed meanwhile")
	}
	return blobs, err
}

// removeUpload deletes an upload (if it has received `received` bytes,
// unless that is negative) with its parts and their objects' records.
func (q Queries) removeUpload(ctx context.Context, id string, received int64) ([]string, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE uploads SET received = received WHERE id = $1 AND ($2 < 0 OR received = $2)`,
		id, received)
	if err != nil {
		return nil, atrium.Internal("store.removeUpload", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, atrium.NotFound("upload")
	}
	// The update above locks the upload's row (PostgreSQL), so no part
	// is added between here and its deletion.
	blobs, err := q.queryStrings(ctx, "store.removeUpload", `DELETE FROM upload_parts WHERE upload_id = $1 RETURNING blob_id`, id)
	if err != nil {
		return nil, err
	}
	if _, err := q.q.ExecContext(ctx, `DELETE FROM uploads WHERE id = $1`, id); err != nil {
		return nil, atrium.Internal("store.removeUpload", err)
	}
	return blobs, q.deleteBlobs(ctx, "store.removeUpload", blobs)
}

// UploadsExpiredBefore returns up to limit uploads that expired before t.
func (q Queries) UploadsExpiredBefore(ctx context.Context, t time.Time, limit int) ([]string, error) {
	return q.queryStrings(ctx, "store.UploadsExpiredBefore",
		`SELECT id FROM uploads WHERE expires_at < $1 ORDER BY expires_at LIMIT $2`, ms(t), limit)
}

// CountUploadParts counts an upload's recorded parts.
func (q Queries) CountUploadParts(ctx context.Context, id string) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM upload_parts WHERE upload_id = $1`, id).Scan(&n)
	return n, atrium.Internal("store.CountUploadParts", err)
}
