package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-dev/atrium"
)

// Export statuses.
const (
	ExportPending = "pending"
	ExportReady   = "ready"
	ExportFailed  = "failed"
)

// Export is a user's data export.
type Export struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"-"`
	UserID     string     `json:"user_id"`
	Status     string     `json:"status"`
	BlobID     string     `json:"-"`
	Size       int64      `json:"size"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	ExpiresAt  time.Time  `json:"expires_at"`
}

const exportCols = `id, org_id, user_id, status, COALESCE(blob_id, ''), size, created_at, finished_at, expires_at`

func scanExport(row interface{ Scan(...any) error }) (*Export, error) {
	var e Export
	var created, expires int64
	var finished sql.NullInt64
	if err := row.Scan(&e.ID, &e.OrgID, &e.UserID, &e.Status, &e.BlobID, &e.Size, &created, &finished, &expires); err != nil {
		return nil, err
	}
	e.CreatedAt, e.FinishedAt, e.ExpiresAt = fromMS(created), fromNullMS(finished), fromMS(expires)
	return &e, nil
}

// CreateExport records a pending export.
func (q Queries) CreateExport(ctx context.Context, e *Export) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO exports (id, org_id, user_id, status, blob_id, size, created_at, finished_at, expires_at)
		VALUES ($1, $2, $3, $4, NULL, 0, $5, NULL, $6)`, e.ID, e.OrgID, e.UserID, e.Status, ms(e.CreatedAt), ms(e.ExpiresAt))
	return atrium.Internal("store.CreateExport", err)
}

// GetExport returns an export; ENotFound if there is none.
func (q Queries) GetExport(ctx context.Context, id string) (*Export, error) {
	e, err := scanExport(q.q.QueryRowContext(ctx, `SELECT `+exportCols+` FROM exports WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "export", "store.GetExport")
	}
	return e, nil
}

// UserRecentExport returns a user's pending export, or else their newest
// ready one made after since, if any (nil).
func (q Queries) UserRecentExport(ctx context.Context, userID string, since time.Time) (*Export, error) {
	e, err := scanExport(q.q.QueryRowContext(ctx, `SELECT `+exportCols+` FROM exports
		WHERE user_id = $1 AND (status = 'pending' OR (status = 'ready' AND created_at > $2))
		ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END, created_at DESC LIMIT 1`, userID, ms(since)))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return e, atrium.Internal("store.UserRecentExport", err)
}

// UserExports returns the ids of a user's exports.
func (q Queries) UserExports(ctx context.Context, userID string) ([]string, error) {
	return q.queryStrings(ctx, "store.UserExports", `SELECT id FROM exports WHERE user_id = $1 ORDER BY id`, userID)
}

// PendingExports returns up to limit pending exports, oldest first.
func (q Queries) PendingExports(ctx context.Context, limit int) ([]*Export, error) {
	return q.queryExports(ctx, "store.PendingExports", `SELECT `+exportCols+` FROM exports
		WHERE status = 'pending' ORDER BY created_at LIMIT $1`, limit)
}

// ExpiredExports returns up to limit exports past their expiry.
func (q Queries) ExpiredExports(ctx context.Context, now time.Time, limit int) ([]*Export, error) {
	return q.queryExports(ctx, "store.ExpiredExports", `SELECT `+exportCols+` FROM exports
		WHERE expires_at < $1 ORDER BY expires_at LIMIT $2`, ms(now), limit)
}

// FinishExport records a pending export as ready (with its object, whose
// record the same transaction adds) or failed; false if it was not
// pending any more.
func (q Queries) FinishExport(ctx context.Context, id, status, blobID string, size int64, now time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE exports SET status = $2, blob_id = $3, size = $4, finished_at = $5
		WHERE id = $1 AND status = 'pending'`, id, status, nullString(blobID), size, ms(now))
	if err != nil {
		return false, atrium.Internal("store.FinishExport", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteExport removes an export and its object's record; it returns the
// object's id ("" if it had none).
func (q Queries) DeleteExport(ctx context.Context, id string) (string, error) {
	e, err := q.GetExport(ctx, id)
	if err != nil {
		return "", err
	}
	if _, err := q.q.ExecContext(ctx, `DELETE FROM exports WHERE id = $1`, id); err != nil {
		return "", atrium.Internal("store.DeleteExport", err)
	}
	if e.BlobID != "" {
		if err := q.deleteBlobs(ctx, "store.DeleteExport", []string{e.BlobID}); err != nil {
			return "", err
		}
	}
	return e.BlobID, nil
}

func (q Queries) queryExports(ctx context.Context, op, query string, args ...any) ([]*Export, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, atrium.Internal(op, err)
	}
	defer rows.Close()
	var out []*Export
	for rows.Next() {
		e, err := scanExport(rows)
		if err != nil {
			return nil, atrium.Internal(op, err)
		}
		out = append(out, e)
	}
	return out, atrium.Internal(op, rows.Err())
}

// MessagesBySender returns up to limit messages a user sent, with ids
// after `after`, in id order.
func (q Queries) MessagesBySender(ctx context.Context, senderID, after string, limit int) ([]*atrium.Message, error) {
	return queryAll(ctx, q.q, "store.MessagesBySender", scanMessage, `SELECT `+messageCols+` FROM messages WHERE sender_id = $1 AND id > $2
		ORDER BY id LIMIT $3`, senderID, after, limit)
}

// OrgFileVersion is a file version with its organisation.
type OrgFileVersion struct {
	atrium.FileVersion
	OrgID string
}

// VersionsUploadedBy returns up to limit versions a user uploaded of files
// that are not deleted, after (file afterFile, version after), in that
// order.
func (q Queries) VersionsUploadedBy(ctx context.Context, userID, afterFile string, after int64, limit int) ([]*OrgFileVersion, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT v.file_id, v.version, v.name, v.content_type, v.size, v.sha256, v.blob_id,
		v.uploaded_by, v.created_at, f.org_id FROM file_versions v JOIN files f ON f.id = v.file_id
		WHERE v.uploaded_by = $1 AND f.deleted_at IS NULL AND (v.file_id > $2 OR (v.file_id = $2 AND v.version > $3))
		ORDER BY v.file_id, v.version LIMIT $4`, userID, afterFile, after, limit)
	if err != nil {
		return nil, atrium.Internal("store.VersionsUploadedBy", err)
	}
	defer rows.Close()
	var out []*OrgFileVersion
	for rows.Next() {
		var v OrgFileVersion
		var created int64
		if err := rows.Scan(&v.FileID, &v.Version, &v.Name, &v.ContentType, &v.Size, &v.SHA256, &v.BlobID,
			&v.UploadedBy, &created, &v.OrgID); err != nil {
			return nil, atrium.Internal("store.VersionsUploadedBy", err)
		}
		v.CreatedAt = fromMS(created)
		out = append(out, &v)
	}
	return out, atrium.Internal("store.VersionsUploadedBy", rows.Err())
}
