package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/atrium-dev/atrium"
)

// Body size limits.
const (
	maxBody        = 64 << 10  // most JSON bodies
	maxMessageBody = 512 << 10 // a message: 64 KiB of text, possibly escaped
)

// decode reads a JSON object of at most limit bytes into v, refusing
// unknown fields, invalid UTF-8, trailing data and other media types. Form
// types are refused even when the body is JSON: a page on another site can
// send those without asking first.
func decode(r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return atrium.Errorf(atrium.EUnsupported, "the body must be application/json")
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return atrium.Errorf(atrium.EInvalid, "could not read the body")
	}
	if int64(len(body)) > limit {
		return atrium.Errorf(atrium.ETooLarge, "the body is larger than %d bytes", limit)
	}
	if !utf8.Valid(body) {
		return atrium.Errorf(atrium.EInvalid, "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return atrium.Errorf(atrium.EInvalid, "the body has data after the JSON object")
	}
	return nil
}

// jsonError turns a decoding error into a precise message.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return atrium.Errorf(atrium.EInvalid, "the body is empty; a JSON object is required")
	case errors.As(err, &syn):
		return atrium.Errorf(atrium.EInvalid, "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return atrium.Errorf(atrium.EInvalid, "%s must be of type %s", typ.Field, typ.Type)
		}
		return atrium.Errorf(atrium.EInvalid, "the body must be a JSON object")
	case bytes.HasPrefix([]byte(err.Error()), []byte("json: unknown field")):
		return atrium.Errorf(atrium.EInvalid, "%s", err.Error()[len("json: "):])
	}
	return atrium.Errorf(atrium.EInvalid, "malformed JSON")
}

// writeJSON writes v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// List is the shape of every list response.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func list[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, NextCursor: next}
}
