package httpapi

import (
	"bufio"
	"net/http"
	"strconv"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

// usageCSVHeader names the columns of a usage report in CSV.
var usageCSVHeader = []string{"start", "active_internal_users", "active_client_users", "messages", "files_shared",
	"active_binders", "responses", "median_first_response_seconds"}

func (s *Server) usageReport(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var from, to time.Time
	for name, t := range map[string]*time.Time{"from": &from, "to": &to} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		if *t, err = time.Parse(time.RFC3339, v); err != nil {
			if *t, err = time.Parse("2006-01-02", v); err != nil {
				writeError(w, r, s.log, atrium.Errorf(atrium.EInvalid, "%s must be a date (2026-01-31) or a time (2026-01-31T00:00:00Z)", name))
				return
			}
		}
	}
	interval := q.Get("interval")
	if interval == "" {
		interval = app.IntervalDay
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		writeError(w, r, s.log, atrium.Errorf(atrium.EInvalid, "format must be json or csv"))
		return
	}
	rep, err := s.app.Usage(r.Context(), from, to, interval)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if format != "csv" {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="usage.csv"`)
	bw := bufio.NewWriter(w)
	_ = writeCSV(bw, usageCSVHeader)
	for _, f := range append(rep.Intervals, rep.Total) {
		start := f.Start.UTC().Format("2006-01-02")
		if f == rep.Total {
			start = "total"
		}
		median := ""
		if f.MedianFirstResponseS != nil {
			median = strconv.FormatFloat(*f.MedianFirstResponseS, 'f', 1, 64)
		}
		_ = writeCSV(bw, []string{start, strconv.Itoa(f.ActiveInternalUsers), strconv.Itoa(f.ActiveClientUsers),
			strconv.FormatInt(f.Messages, 10), strconv.FormatInt(f.FilesShared, 10), strconv.Itoa(f.ActiveBinders),
			strconv.FormatInt(f.Responses, 10), median})
	}
	_ = bw.Flush()
}
