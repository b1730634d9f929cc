package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

// query parses the query string strictly: a malformed one is refused
// rather than read as empty.
func query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, atrium.Errorf(atrium.EInvalid, "malformed query string")
	}
	return q, nil
}

// page reads ?cursor= and ?limit=.
func page(r *http.Request) (app.Page, error) {
	q, err := query(r)
	if err != nil {
		return app.Page{}, err
	}
	limit, err := intParam(q.Get("limit"), "limit", atrium.MaxListLimit)
	if err != nil {
		return app.Page{}, err
	}
	c := q.Get("cursor")
	if len(c) > 200 {
		return app.Page{}, atrium.Errorf(atrium.EInvalid, "malformed cursor")
	}
	return app.Page{Cursor: c, Limit: int(limit)}, nil
}

// intParam parses an optional non-negative integer query parameter of at
// most max (no bound when max is 0).
func intParam(v, name string, max int64) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || (max > 0 && n > max) {
		if max > 0 {
			return 0, atrium.Errorf(atrium.EInvalid, "%s must be a whole number from 0 to %d", name, max)
		}
		return 0, atrium.Errorf(atrium.EInvalid, "%s must be a non-negative whole number", name)
	}
	return n, nil
}
