package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

// Resumable uploads follow the core of tus 1.0 with its creation and
// termination extensions: POST starts an upload (Upload-Length, and the
// file name as "filename" in Upload-Metadata), HEAD says how much has
// arrived (Upload-Offset), PATCH sends more from that offset, DELETE
// abandons it.

const tusVersion = "1.0.0"

func (s *Server) startUpload(w http.ResponseWriter, r *http.Request) {
	s.beginUpload(w, r, r.PathValue("id"), "")
}

func (s *Server) startVersionUpload(w http.ResponseWriter, r *http.Request) {
	s.beginUpload(w, r, "", r.PathValue("id"))
}

func (s *Server) beginUpload(w http.ResponseWriter, r *http.Request, binderID, fileID string) {
	if err := checkTus(r); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	length, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64)
	if err != nil || length < 0 {
		writeError(w, r, s.log, atrium.Errorf(atrium.EInvalid, "Upload-Length must give the file's size in bytes"))
		return
	}
	name, err := metadataFilename(r.Header.Get("Upload-Metadata"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, err := s.app.StartUpload(r.Context(), binderID, fileID, name, length)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	h := w.Header()
	h.Set("Location", "/api/v1/uploads/"+u.ID)
	h.Set("Tus-Resumable", tusVersion)
	h.Set("Upload-Expires", u.ExpiresAt.Format(http.TimeFormat))
	writeJSON(w, http.StatusCreated, u)
}

// metadataFilename reads the file name from tus's Upload-Metadata: pairs
// "key base64(value)" separated by commas.
func metadataFilename(meta string) (string, error) {
	for _, pair := range strings.Split(meta, ",") {
		key, val, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if key != "filename" {
			continue
		}
		name, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return "", atrium.Errorf(atrium.EInvalid, "Upload-Metadata: filename is not base64")
		}
		return string(name), nil
	}
	return "", atrium.Errorf(atrium.EInvalid, "Upload-Metadata must give a filename")
}

// checkTus refuses a tus version other than 1.0.0 (the header may be
// absent).
func checkTus(r *http.Request) error {
	if v := r.Header.Get("Tus-Resumable"); v != "" && v != tusVersion {
		return atrium.Errorf(atrium.EVersion, "only tus %s is supported", tusVersion)
	}
	return nil
}

func uploadHeaders(w http.ResponseWriter, u *app.Upload) {
	h := w.Header()
	h.Set("Upload-Offset", strconv.FormatInt(u.Offset, 10))
	h.Set("Upload-Length", strconv.FormatInt(u.Length, 10))
	h.Set("Upload-Expires", u.ExpiresAt.Format(http.TimeFormat))
	h.Set("Tus-Resumable", tusVersion)
	h.Set("Cache-Control", "no-store")
}

func (s *Server) uploadStatus(w http.ResponseWriter, r *http.Request) {
	u, err := s.app.UploadStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	uploadHeaders(w, u)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) continueUpload(w http.ResponseWriter, r *http.Request) {
	if err := checkTus(r); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if mt := r.Header.Get("Content-Type"); mt != "application/offset+octet-stream" {
		writeError(w, r, s.log, atrium.Errorf(atrium.EUnsupported, "send the bytes as application/offset+octet-stream"))
		return
	}
	offset, err := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 {
		writeError(w, r, s.log, atrium.Errorf(atrium.EInvalid, "Upload-Offset must give where the bytes start"))
		return
	}
	body := &stallReader{r: http.MaxBytesReader(w, r.Body, s.app.MaxFileSize()), rc: http.NewResponseController(w)}
	u, err := s.app.ContinueUpload(r.Context(), r.PathValue("id"), offset, body)
	if err != nil {
		writeError(w, r, s.log, bodyErrorOf(err))
		return
	}
	uploadHeaders(w, u)
	if u.File != nil {
		w.Header().Set("Atrium-File-Id", u.File.ID)
	}
	w.WriteHeader(http.StatusNoContent)
}

// bodyErrorOf says what went wrong reading a body, for errors that are the
// body's own.
func bodyErrorOf(err error) error {
	if atrium.ErrorCode(err) == atrium.EInternal {
		var e *atrium.Error
		if !errors.As(err, &e) {
			return bodyError(err, "the bytes did not arrive whole")
		}
	}
	return err
}

func (s *Server) cancelUpload(w http.ResponseWriter, r *http.Request) {
	if err := s.app.CancelUpload(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Tus-Resumable", tusVersion)
	w.WriteHeader(http.StatusNoContent)
}
