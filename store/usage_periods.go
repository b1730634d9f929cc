package store

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/atrium-dev/atrium"
)

// PeriodKey names an organisation's totals for one day ("d") or week
// ("w", the day number of its Monday).
type PeriodKey struct {
	OrgID  string
	Grain  string
	Period int64
}

// PeriodDelta is what to add to a period's totals. Subjects are the users
// ("u:ID", true for a client) and binders ("b:ID") active in it; each is
// counted once per period, however many deltas name it.
type PeriodDelta struct {
	Messages, Files int64
	Subjects        map[string]bool
	Responses       map[int]int64
}

// AddPeriodUsage adds deltas to the period totals.
func (q Queries) AddPeriodUsage(ctx context.Context, deltas map[PeriodKey]*PeriodDelta) error {
	for k, d := range deltas {
		var internal, clients, binders int64
		for subject, client := range d.Subjects {
			res, err := q.q.ExecContext(ctx, `INSERT INTO usage_presence (org_id, grain, period, subject) VALUES ($1, $2, $3, $4)
				ON CONFLICT (org_id, grain, period, subject) DO NOTHING`, k.OrgID, k.Grain, k.Period, subject)
			if err != nil {
				return atrium.Internal("store.AddPeriodUsage", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // counted already
			}
			switch {
			case strings.HasPrefix(subject, "b:"):
				binders++
			case client:
				clients++
			default:
				internal++
			}
		}
		hist := ""
		if len(d.Responses) > 0 {
			var old string
			err := q.q.QueryRowContext(ctx, `SELECT hist FROM usage_period WHERE org_id = $1 AND grain = $2 AND period = $3`,
				k.OrgID, k.Grain, k.Period).Scan(&old)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return atrium.Internal("store.AddPeriodUsage", err)
			}
			hist = mergeHistogram(old, d.Responses)
		}
		if _, err := q.q.ExecContext(ctx, `INSERT INTO usage_period (org_id, grain, period, messages, files, internal_users, client_users, binders, hist)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (org_id, grain, period) DO UPDATE SET
			messages = usage_period.messages + excluded.messages, files = usage_period.files + excluded.files,
			internal_users = usage_period.internal_users + excluded.internal_users,
			client_users = usage_period.client_users + excluded.client_users, binders = usage_period.binders + excluded.binders,
			hist = CASE WHEN excluded.hist = '' THEN usage_period.hist ELSE excluded.hist END`,
			k.OrgID, k.Grain, k.Period, d.Messages, d.Files, internal, clients, binders, hist); err != nil {
			return atrium.Internal("store.AddPeriodUsage", err)
		}
	}
	return nil
}

// SubjectKey names one user's ("u:ID") or binder's ("b:ID") figures for a
// day ("d") or week ("w").
type SubjectKey struct {
	OrgID   string
	Grain   string
	Period  int64
	Subject string
}

// SubjectDelta is what to add to a subject's week.
type SubjectDelta struct {
	Client          bool
	Messages, Files int64
	Responses       map[int]int64
}

// AddSubjectUsage adds deltas to the daily and weekly figures of users
// and binders.
func (q Queries) AddSubjectUsage(ctx context.Context, deltas map[SubjectKey]*SubjectDelta) error {
	for k, d := range deltas {
		hist := ""
		if len(d.Responses) > 0 {
			var old string
			err := q.q.QueryRowContext(ctx, `SELECT hist FROM usage_subject WHERE org_id = $1 AND grain = $2 AND period = $3 AND subject = $4`,
				k.OrgID, k.Grain, k.Period, k.Subject).Scan(&old)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return atrium.Internal("store.AddSubjectUsage", err)
			}
			hist = mergeHistogram(old, d.Responses)
		}
		if _, err := q.q.ExecContext(ctx, `INSERT INTO usage_subject (org_id, grain, period, subject, client, messages, files, hist)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (org_id, grain, period, subject) DO UPDATE SET
			messages = usage_subject.messages + excluded.messages, files = usage_subject.files + excluded.files,
			hist = CASE WHEN excluded.hist = '' THEN usage_subject.hist ELSE excluded.hist END`,
			k.OrgID, k.Grain, k.Period, k.Subject, d.Client, d.Messages, d.Files, hist); err != nil {
			return atrium.Internal("store.AddSubjectUsage", err)
		}
	}
	return nil
}

// mergeHistogram adds counts to a stored histogram.
func mergeHistogram(stored string, add map[int]int64) string {
	h := ParseHistogram(stored)
	for b, n := range add {
		h[b] += n
	}
	return FormatHistogram(h)
}

// ParseHistogram reads a histogram written by FormatHistogram; malformed
// pairs are skipped.
func ParseHistogram(s string) map[int]int64 {
	h := map[int]int64{}
	for _, pair := range strings.Split(s, ",") {
		b, n, ok := strings.Cut(pair, ":")
		if !ok {
			continue
		}
		bi, err1 := strconv.Atoi(b)
		ni, err2 := strconv.ParseInt(n, 10, 64)
		if err1 == nil && err2 == nil {
			h[bi] += ni
		}
	}
	return h
}

// FormatHistogram writes a histogram as "bucket:count" pairs in bucket
// order.
func FormatHistogram(h map[int]int64) string {
	buckets := make([]int, 0, len(h))
	for b := range h {
		buckets = append(buckets, b)
	}
	sort.Ints(buckets)
	var sb strings.Builder
	for i, b := range buckets {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(b))
		sb.WriteByte(':')
		sb.WriteString(strconv.FormatInt(h[b], 10))
	}
	return sb.String()
}

// PeriodRow is one period's totals.
type PeriodRow struct {
	Period                              int64
	Messages, Files                     int64
	InternalUsers, ClientUsers, Binders int64
	Hist                                map[int]int64 // response times
}

// PeriodsBetween returns an organisation's totals of the given grain for
// periods from to to, inclusive.
func (q Queries) PeriodsBetween(ctx context.Context, orgID, grain string, from, to int64) ([]PeriodRow, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT period, messages, files, internal_users, client_users, binders, hist FROM usage_period
		WHERE org_id = $1 AND grain = $2 AND period >= $3 AND period <= $4 ORDER BY period`, orgID, grain, from, to)
	if err != nil {
		return nil, atrium.Internal("store.PeriodsBetween", err)
	}
	defer rows.Close()
	var out []PeriodRow
	for rows.Next() {
		var r PeriodRow
		var hist string
		if err := rows.Scan(&r.Period, &r.Messages, &r.Files, &r.InternalUsers, &r.ClientUsers, &r.Binders, &hist); err != nil {
			return nil, atrium.Internal("store.PeriodsBetween", err)
		}
		r.Hist = ParseHistogram(hist)
		out = append(out, r)
	}
	return out, atrium.Internal("store.PeriodsBetween", rows.Err())
}

// SubjectRow is one user's or binder's figures for a day or week.
type SubjectRow struct {
	Period          int64
	Subject         string
	Client          bool
	Messages, Files int64
	Hist            string // see FormatHistogram
}

// SubjectsBetween returns the figures of users and binders of the given
// grain for periods from to to (for weeks, Mondays' day numbers),
// inclusive.
func (q Queries) SubjectsBetween(ctx context.Context, orgID, grain string, from, to int64) ([]SubjectRow, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT period, subject, client, messages, files, hist FROM usage_subject
		WHERE org_id = $1 AND grain = $2 AND period >= $3 AND period <= $4`, orgID, grain, from, to)
	if err != nil {
		return nil, atrium.Internal("store.SubjectsBetween", err)
	}
	defer rows.Close()
	var out []SubjectRow
	for rows.Next() {
		var r SubjectRow
		if err := rows.Scan(&r.Period, &r.Subject, &r.Client, &r.Messages, &r.Files, &r.Hist); err != nil {
			return nil, atrium.Internal("store.SubjectsBetween", err)
		}
		out = append(out, r)
	}
	return out, atrium.Internal("store.SubjectsBetween", rows.Err())
}
