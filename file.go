package atrium

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxFileNameBytes bounds a file name.
const MaxFileNameBytes = 255

// File is a file in a binder, with its current version's fields.
type File struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"org_id"`
	BinderID    string    `json:"binder_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Version     int64     `json:"version"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// BlobID names the stored object of the current version.
	BlobID    string     `json:"-"`
	DeletedAt *time.Time `json:"-"`
}

// ValidateFileName checks a file name as given by a client: valid UTF-8,
// at most MaxFileNameBytes, no control characters, no path separators, and
// not "." or "..".
func ValidateFileName(name string) error {
	switch {
	case name == "" || strings.TrimSpace(name) == "":
		return Errorf(EInvalid, "a file needs a name")
	case !utf8.ValidString(name):
		return Errorf(EInvalid, "the file name is not valid UTF-8")
	case len(name) > MaxFileNameBytes:
		return Errorf(EInvalid, "the file name is longer than %d bytes", MaxFileNameBytes)
	case name == "." || name == "..":
		return Errorf(EInvalid, "the file name %q is not allowed", name)
	case strings.ContainsAny(name, `/\`):
		return Errorf(EInvalid, "the file name contains a path separator")
	case strings.ContainsFunc(name, unicode.IsControl):
		return Errorf(EInvalid, "the file name contains a control character")
	}
	return nil
}

// FileVersion is one version of a file.
type FileVersion struct {
	FileID      string    `json:"file_id"`
	Version     int64     `json:"version"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	UploadedBy  string    `json:"uploaded_by"`
	CreatedAt   time.Time `json:"created_at"`
	BlobID      string    `json:"-"`
}
