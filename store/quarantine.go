package store

import (
	"context"
	"time"

	"github.com/atrium-dev/atrium"
)

// Quarantined is an upload the malware scanner found infected: its
// object is kept but never served.
type Quarantined struct {
	ID         string
	OrgID      string
	BinderID   string
	FileID     string // the file it was a new version of, if any
	BlobID     string
	Name       string
	Size       int64
	SHA256     string
	Signature  string // what the scanner found
	UploadedBy string
	CreatedAt  time.Time
}

// AddQuarantined records an infected upload. Its object's record must be
// added in the same transaction.
func (q Queries) AddQuarantined(ctx context.Context, r *Quarantined) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO quarantined_files
		(id, org_id, binder_id, file_id, blob_id, name, size, sha256, signature, uploaded_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.OrgID, r.BinderID, nullString(r.FileID), r.BlobID, r.Name, r.Size, r.SHA256, r.Signature, r.UploadedBy, ms(r.CreatedAt))
	return atrium.Internal("store.AddQuarantined", err)
}

// ListQuarantined returns an organisation's quarantined uploads after id
// after, in id order.
func (q Queries) ListQuarantined(ctx context.Context, orgID, after string, limit int) ([]*Quarantined, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, org_id, binder_id, COALESCE(file_id, ''), blob_id, name, size, sha256,
		signature, uploaded_by, created_at FROM quarantined_files WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		orgID, after, limit)
	if err != nil {
		return nil, atrium.Internal("store.ListQuarantined", err)
	}
	defer rows.Close()
	var out []*Quarantined
	for rows.Next() {
		var r Quarantined
		var created int64
		if err := rows.Scan(&r.ID, &r.OrgID, &r.BinderID, &r.FileID, &r.BlobID, &r.Name, &r.Size, &r.SHA256,
			&r.Signature, &r.UploadedBy, &created); err != nil {
			return nil, atrium.Internal("store.ListQuarantined", err)
		}
		r.CreatedAt = fromMS(created)
		out = append(out, &r)
	}
	return out, atrium.Internal("store.ListQuarantined", rows.Err())
}

// QuarantinedBefore returns up to limit quarantined uploads recorded
// before t, oldest first.
func (q Queries) QuarantinedBefore(ctx context.Context, t time.Time, limit int) ([]*Quarantined, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, org_id, blob_id FROM quarantined_files
		WHERE created_at < $1 ORDER BY created_at LIMIT $2`, ms(t), limit)
	if err != nil {
		return nil, atrium.Internal("store.QuarantinedBefore", err)
	}
	defer rows.Close()
	var out []*Quarantined
	for rows.Next() {
		var r Quarantined
		if err := rows.Scan(&r.ID, &r.OrgID, &r.BlobID); err != nil {
			return nil, atrium.Internal("store.QuarantinedBefore", err)
		}
		out = append(out, &r)
	}
	return out, atrium.Internal("store.QuarantinedBefore", rows.Err())
}

// PurgeQuarantined removes a quarantined upload and its object's record;
// ENotFound if it is gone already.
func (q Queries) PurgeQuarantined(ctx context.Context, id, blobID string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM quarantined_files WHERE id = $1`, id)
	if err != nil {
		return atrium.Internal("store.PurgeQuarantined", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return atrium.NotFound("quarantined file")
	}
	return q.deleteBlobs(ctx, "store.PurgeQuarantined", []string{blobID})
}
