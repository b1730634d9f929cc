package store

import (
	"context"
	"strconv"
	"strings"

	"github.com/atrium-dev/atrium"
)

// queryStrings runs a query of one text column and returns its values;
// op names the caller in errors.
func (q Queries) queryStrings(ctx context.Context, op, query string, args ...any) ([]string, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, atrium.Internal(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, atrium.Internal(op, err)
		}
		out = append(out, s)
	}
	return out, atrium.Internal(op, rows.Err())
}

// deleteBatch bounds the ids one DELETE … IN (…) names.
const deleteBatch = 500

// deleteBlobs deletes the records of stored objects, a few hundred per
// statement (an upload may have thousands of parts).
func (q Queries) deleteBlobs(ctx context.Context, op string, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), deleteBatch)
		marks := make([]string, n)
		args := make([]any, n)
		for i, id := range ids[:n] {
			marks[i], args[i] = "$"+strconv.Itoa(i+1), id
		}
		if _, err := q.q.ExecContext(ctx, `DELETE FROM blobs WHERE id IN (`+strings.Join(marks, ", ")+`)`, args...); err != nil {
			return atrium.Internal(op, err)
		}
		ids = ids[n:]
	}
	return nil
}
