package httpapi

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

// maxUploadParts bounds the form parts read before the file part.
const maxUploadParts = 8

// maxFormField bounds a form field that precedes the file part.
const maxFormField = 64 << 10

// uploadStall is how long an upload may send nothing before it is cut.
const uploadStall = time.Minute

// uploadReadSize is the size of the reads of an upload's body.
const uploadReadSize = 256 << 10

// uploadOverhead is what a multipart body may hold beyond the file: its
// boundaries, part headers and small fields.
const uploadOverhead = 64 << 10

func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) {
	name, part, err := s.filePart(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := s.app.UploadFile(r.Context(), r.PathValue("id"), name, part)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

// filePart finds the multipart part named "file" and returns the file
// name it gives and a reader of its body. The body is bounded by the
// largest file accepted, and may stall for at most uploadStall at a time
// rather than the server's whole-request read timeout.
func (s *Server) filePart(w http.ResponseWriter, r *http.Request) (string, io.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", nil, atrium.Errorf(atrium.EUnsupported, "send the file as multipart/form-data, in a part named file")
	}
	if r.ContentLength < 0 {
		return "", nil, atrium.Errorf(atrium.EInvalid, "an upload needs a Content-Length; use the resumable upload for streams of unknown length")
	}
	if r.ContentLength > s.app.MaxFileSize()+uploadOverhead {
		return "", nil, atrium.Errorf(atrium.ETooLarge, "files may be at most %d bytes", s.app.MaxFileSize())
	}
	rc := http.NewResponseController(w)
	body := &stallReader{r: http.MaxBytesReader(w, r.Body, s.app.MaxFileSize()+uploadOverhead), rc: rc}
	// The multipart reader reads 4 KiB at a time; a larger buffer in front
	// of it makes each read from the connection larger.
	mr := multipart.NewReader(bufio.NewReaderSize(body, uploadReadSize), params["boundary"])
	for i := 0; i < maxUploadParts; i++ {
		p, err := mr.NextPart()
		if err != nil {
			return "", nil, bodyError(err, "the multipart body has no part named file")
		}
		if p.FormName() != "file" {
			// Another field: read past it, but no further than a small one.
			if n, _ := io.Copy(io.Discard, io.LimitReader(p, maxFormField+1)); n > maxFormField {
				return "", nil, atrium.Errorf(atrium.EInvalid, "a form field before the file is longer than %d bytes", maxFormField)
			}
			continue
		}
		_, dp, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		if err != nil || dp["filename"] == "" {
			return "", nil, atrium.Errorf(atrium.EInvalid, "the file part needs a file name")
		}
		return dp["filename"], &partReader{p: p}, nil
	}
	return "", nil, atrium.Errorf(atrium.EInvalid, "the multipart body has no part named file among its first %d", maxUploadParts)
}

// stallReader extends the connection's read deadline as the body arrives.
type stallReader struct {
	r  io.Reader
	rc *http.ResponseController
}

func (s *stallReader) Read(p []byte) (int, error) {
	_ = s.rc.SetReadDeadline(time.Now().Add(uploadStall))
	return s.r.Read(p)
}

// partReader turns a file part's read errors into the API's errors.
type partReader struct{ p *multipart.Part }

func (r *partReader) Read(b []byte) (int, error) {
	n, err := r.p.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		err = bodyError(err, "the upload did not arrive whole")
	}
	return n, err
}

// bodyError says what went wrong reading a request body.
func bodyError(err error, what string) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return atrium.Errorf(atrium.ETooLarge, "the upload is larger than files may be")
	}
	return &atrium.Error{Code: atrium.EInvalid, Message: what, Err: err}
}

func (s *Server) uploadVersion(w http.ResponseWriter, r *http.Request) {
	name, part, err := s.filePart(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := s.app.UploadVersion(r.Context(), r.PathValue("id"), name, part)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

// listVersions pages newest first; the cursor is the version to continue
// before.
func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var before int64
	if p.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		if before, _ = strconv.ParseInt(string(raw), 10, 64); err != nil || before < 1 {
			writeError(w, r, s.log, atrium.Errorf(atrium.EInvalid, "malformed cursor"))
			return
		}
	}
	items, next, err := s.app.ListVersions(r.Context(), r.PathValue("id"), before, p.Limit)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	cursor := ""
	if next > 0 {
		cursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(next, 10)))
	}
	writeJSON(w, http.StatusOK, list(items, cursor))
}

func (s *Server) downloadVersion(w http.ResponseWriter, r *http.Request) {
	version, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || version < 1 {
		writeError(w, r, s.log, atrium.NotFound("version"))
		return
	}
	v, c, err := s.app.OpenFileVersion(r.Context(), r.PathValue("id"), version)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.serveContent(w, r, c, v.Name, v.ContentType, v.SHA256, v.CreatedAt)
}

// thumbnail serves the preview of an image file's current version, made
// on first request if the background had not made it yet. It takes no
// ranges.
func (s *Server) thumbnail(w http.ResponseWriter, r *http.Request) {
	t, c, err := s.app.OpenThumbnail(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	r.Header.Del("Range")
	name := "thumbnail.png"
	if t.ContentType == "image/jpeg" {
		name = "thumbnail.jpg"
	}
	s.serveContent(w, r, c, name, t.ContentType, t.SHA256, t.CreatedAt)
}

func (s *Server) renameFile(w http.ResponseWriter, r *http.Request) {
	var in app.RenameFileInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := s.app.RenameFile(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request) {
	if err := s.app.DeleteFile(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) restoreFile(w http.ResponseWriter, r *http.Request) {
	f, err := s.app.RestoreFile(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, next, err := s.app.ListFiles(r.Context(), r.PathValue("id"), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request) {
	f, err := s.app.GetFile(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// downloadFile streams a file's body, decrypting it as it goes, with
// ranges, ETag and If-None-Match (http.ServeContent). A stored object
// whose first chunk fails authentication gets 500 before anything is
// sent; one that fails later is cut off, so the client never holds a
// complete-looking file.
func (s *Server) downloadFile(w http.ResponseWriter, r *http.Request) {
	f, c, err := s.app.OpenFile(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.serveContent(w, r, c, f.Name, f.ContentType, f.SHA256, f.UpdatedAt)
}

// serveContent streams a decrypting reader (see downloadFile) and closes
// it.
func (s *Server) serveContent(w http.ResponseWriter, r *http.Request, c *app.FileContent, name, ctype, sha string, modified time.Time) {
	defer c.Close()
	if err := c.Open(); err != nil {
		writeError(w, r, s.log, atrium.Internal("httpapi.serveContent", fmt.Errorf("%s: %w", r.URL.Path, err)))
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", contentDisposition(name))
	h.Set("ETag", `"`+sha+`"`)
	h.Set("Cache-Control", "private, no-cache")
	body := &servedBody{b: c}
	http.ServeContent(bigWrites{ResponseWriter: w, stall: s.downloadStall()}, r, "", modified, body)
	body.finish()
	if err := c.Err(); err != nil {
		s.log.ErrorContext(r.Context(), "download cut off", "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// contentDisposition is an attachment header naming the file (RFC 6266):
// an ASCII fallback in filename, and the exact name in filename*
// (RFC 5987, UTF-8 percent-encoded).
func contentDisposition(name string) string {
	fallback := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			return '_'
		}
		return r
	}, name)
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + rfc5987(name)
}

// rfc5987 percent-encodes every byte of s that is not an attr-char of
// RFC 5987.
func rfc5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
