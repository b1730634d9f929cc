package app

import (
	"encoding/base64"
	"strconv"

	"github.com/atrium-dev/atrium"
)

// Page asks for one page of a list: up to Limit items after the opaque
// Cursor a previous page returned.
type Page struct {
	Cursor string
	Limit  int
}

func (p Page) limit() int { return atrium.ClampLimit(p.Limit) }

// afterID decodes a cursor holding an id; empty means from the start.
func (p Page) afterID() (string, error) {
	if p.Cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil || !atrium.ValidID(string(b)) {
		return "", atrium.Errorf(atrium.EInvalid, "malformed cursor")
	}
	return string(b), nil
}

// pageAfterID reads one page of a list kept in id order: fetch returns up
// to limit items after the id the cursor holds ("" from the start), and
// the page comes back with the cursor of the next ("" on the last page).
func pageAfterID[T any](p Page, fetch func(after string, limit int) ([]T, error), key func(T) string) ([]T, string, error) {
	after, err := p.afterID()
	if err != nil {
		return nil, "", err
	}
	list, err := fetch(after, p.limit()+1)
	if err != nil {
		return nil, "", err
	}
	list, next := trimPage(list, p.limit(), key)
	return list, next, nil
}

// trimPage cuts a list fetched with limit+1 rows to limit, returning the
// cursor of the next page ("" on the last page).
func trimPage[T any](list []T, limit int, key func(T) string) ([]T, string) {
	if len(list) <= limit {
		return list, ""
	}
	list = list[:limit]
	return list, base64.RawURLEncoding.EncodeToString([]byte(key(list[limit-1])))
}

// beforeSeq decodes a cursor holding a sequence number (trimPage of its
// decimal form); 0 means from the newest.
func (p Page) beforeSeq() (int64, error) {
	if p.Cursor == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	n, perr := strconv.ParseInt(string(b), 10, 64)
	if err != nil || perr != nil || n <= 0 {
		return 0, atrium.Errorf(atrium.EInvalid, "malformed cursor")
	}
	return n, nil
}
