package httpapi

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

// auditSearch reads the audit log's filters from the query string.
func auditSearch(r *http.Request) (app.AuditSearch, error) {
	q, err := query(r)
	if err != nil {
		return app.AuditSearch{}, err
	}
	s := app.AuditSearch{ActorID: q.Get("actor"), Action: q.Get("action"), TargetID: q.Get("target"),
		BinderID: q.Get("binder"), Text: q.Get("q")}
	for name, t := range map[string]*time.Time{"from": &s.From, "to": &s.To} {
		if v := q.Get(name); v != "" {
			if *t, err = time.Parse(time.RFC3339, v); err != nil {
				return s, atrium.Errorf(atrium.EInvalid, "%s must be a time such as 2026-01-31T00:00:00Z", name)
			}
		}
	}
	return s, nil
}

func (s *Server) searchAudit(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := auditSearch(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, next, err := s.app.SearchAudit(r.Context(), f, p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

// auditCSVHeader names the columns of a CSV export.
var auditCSVHeader = []string{"seq", "id", "created_at", "actor_id", "action", "target_type", "target_id", "binder_id",
	"outcome", "detail", "ip", "user_agent", "prev_hash", "hash"}

// exportAudit streams the audit log (newest first) as CSV or JSON Lines.
// Once the first entry is sent the status is 200; a failure after that
// cuts the stream short, so a client never takes a partial export for a
// whole one.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request) {
	f, err := auditSearch(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	format := r.URL.Query().Get("format")
	var ctype string
	switch format {
	case "csv":
		ctype = "text/csv; charset=utf-8"
	case "jsonl", "":
		format, ctype = "jsonl", "application/jsonl"
	default:
		writeError(w, r, s.log, atrium.Errorf(atrium.EInvalid, "format must be csv or jsonl"))
		return
	}
	sw, lift := newStallWriter(w, s.downloadStall())
	defer lift()
	bw := bufio.NewWriterSize(sw, 64<<10)
	started := false
	start := func() error {
		if started {
			return nil
		}
		started = true
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", `attachment; filename="audit.`+format+`"`)
		w.WriteHeader(http.StatusOK)
		if format == "csv" {
			return writeCSV(bw, auditCSVHeader)
		}
		return nil
	}
	enc := json.NewEncoder(bw)
	err = s.app.ExportAudit(r.Context(), f, format, func(e *atrium.AuditEntry) error {
		if err := start(); err != nil {
			return err
		}
		if format == "jsonl" {
			return enc.Encode(e)
		}
		row := []string{strconv.FormatInt(e.Seq, 10), e.ID, e.CreatedAt.UTC().Format(time.RFC3339Nano), e.ActorID,
			e.Action, e.TargetType, e.TargetID, e.BinderID, e.Outcome, e.Detail, e.IP, e.UserAgent, e.PrevHash, e.Hash}
		for i := range row {
			row[i] = csvSafe(row[i]) // any field may hold text a request chose
		}
		return writeCSV(bw, row)
	})
	if err == nil {
		err = start() // an empty export still has its header
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil && !started {
		writeError(w, r, s.log, err)
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "audit export cut off", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// writeCSV writes one CSV record.
func writeCSV(w *bufio.Writer, record []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(record); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}
