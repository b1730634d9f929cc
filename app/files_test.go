package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/blob"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store/storetest"
)

// fileWorld is an app with file storage in a temporary directory, an
// organisation, an editor, a viewer and an outsider, and a binder.
type fileWorld struct {
	a                      *app.App
	dir                    string
	owner, viewer, outside context.Context
	binder                 *atrium.Binder
}

func newFileWorld(t *testing.T, dialect string, maxSize int64) *fileWorld {
	t.Helper()
	return newFileWorldWith(t, dialect, func(fs *app.FileStorage) { fs.MaxFileSize = maxSize })
}

// newFileWorldWith is newFileWorld with the file storage set up by
// configure.
func newFileWorldWith(t *testing.T, dialect string, configure func(*app.FileStorage)) *fileWorld {
	t.Helper()
	return newFileWorldConfig(t, dialect, func(c *app.Config) { configure(&c.Files) })
}

// newFileWorldConfig is newFileWorld with the app's configuration set up
// by configure.
func newFileWorldConfig(t *testing.T, dialect string, configure func(*app.Config)) *fileWorld {
	t.Helper()
	dir := t.TempDir()
	blobs, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	must(t, err)
	keys, _, err := keyring.LoadOrCreate(filepath.Join(dir, "master.keys"))
	must(t, err)
	cfg := app.DefaultConfig()
	cfg.Files = app.FileStorage{Blobs: blobs, Keys: keys}
	configure(&cfg)
	a := app.New(storetest.Open(t, dialect), auth.NewHasher(auth.TestParams, 2), slog.New(slog.NewTextHandler(io.Discard, nil)), cfg, nil)
	bg := context.Background()
	_, _, err = a.CreateOrg(bg, app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
	must(t, err)
	_, _, err = a.CreateOrg(bg, app.CreateOrgInput{Name: "Other", OwnerEmail: "x@other.test", OwnerPassword: pw})
	must(t, err)
	w := &fileWorld{a: a, dir: dir}
	w.owner = as(t, a, "o@acme.test", "198.51.100.1")
	viewer, err := a.CreateUser(w.owner, app.CreateUserInput{Email: "v@acme.test", Kind: atrium.KindClient, Password: pw})
	must(t, err)
	w.binder, err = a.CreateBinder(w.owner, app.CreateBinderInput{Title: "Deal"})
	must(t, err)
	_, err = a.AddMember(w.owner, w.binder.ID, app.AddMemberInput{UserID: viewer.ID, Role: atrium.BinderRoleViewer})
	must(t, err)
	w.viewer = as(t, a, "v@acme.test", "198.51.100.2")
	w.outside = as(t, a, "x@other.test", "198.51.100.3")
	return w
}

func (w *fileWorld) download(t *testing.T, ctx context.Context, id string) ([]byte, error) {
	t.Helper()
	_, c, err := w.a.OpenFile(ctx, id)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Open(); err != nil {
		return nil, err
	}
	return io.ReadAll(c)
}

func TestUploadAndDownloadFiles(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			for _, size := range []int{0, 1, sealed.ChunkPlainSize + 7} {
				body := make([]byte, size)
				rand.Read(body)
				f, err := w.a.UploadFile(w.owner, w.binder.ID, "報告書 "+strings.Repeat("x", size%7)+".bin", bytes.NewReader(body))
				must(t, err)
				sum := sha256.Sum256(body)
				if f.Size != int64(size) || f.SHA256 != hex.EncodeToString(sum[:]) || f.Version != 1 {
					t.Fatalf("uploaded %+v", f)
				}
				got, err := w.download(t, w.viewer, f.ID)
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("viewer's download of %d bytes: %d bytes, %v", size, len(got), err)
				}
			}
			png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
			f, err := w.a.UploadFile(w.owner, w.binder.ID, "scan.pdf", bytes.NewReader(png))
			must(t, err)
			if f.ContentType != "image/png" {
				t.Fatalf("content type %q: the name, not the bytes, was believed", f.ContentType)
			}
			list, _, err := w.a.ListFiles(w.viewer, w.binder.ID, app.Page{})
			if err != nil || len(list) != 4 {
				t.Fatalf("list: %d %v", len(list), err)
			}
			// The stored object holds none of the plaintext.
			matches, _ := filepath.Glob(filepath.Join(w.dir, "blobs", "objects", "*", f.BlobID))
			if len(matches) != 1 {
				t.Fatalf("stored object: %v", matches)
			}
			stored, _ := os.ReadFile(matches[0])
			if bytes.Contains(stored, []byte("PNG")) {
				t.Fatal("the stored object contains plaintext")
			}
		})
	}
}

func TestFileRefusals(t *testing.T) {
	w := newFileWorld(t, "sqlite", 1000)
	f, err := w.a.UploadFile(w.owner, w.binder.ID, "a.txt", strings.NewReader("hello"))
	must(t, err)
	cases := []struct {
		name string
		err  error
		code string
	}{}
	add := func(name string, err error, code string) {
		cases = append(cases, struct {
			name string
			err  error
			code string
		}{name, err, code})
	}
	_, err = w.a.UploadFile(w.viewer, w.binder.ID, "v.txt", strings.NewReader("x"))
	add("viewer uploads", err, atrium.EForbidden)
	_, err = w.a.UploadFile(w.outside, w.binder.ID, "o.txt", strings.NewReader("x"))
	add("outsider uploads", err, atrium.ENotFound)
	_, err = w.a.GetFile(w.outside, f.ID)
	add("outsider reads", err, atrium.ENotFound)
	_, _, err = w.a.OpenFile(w.outside, f.ID)
	add("outsider downloads", err, atrium.ENotFound)
	_, _, err = w.a.OpenFile(w.owner, "not-an-id")
	add("malformed id", err, atrium.ENotFound)
	_, err = w.a.UploadFile(w.owner, w.binder.ID, "big.bin", bytes.NewReader(make([]byte, 1001)))
	add("over the size limit", err, atrium.ETooLarge)
	for _, name := range []string{"../etc/passwd", "a\x00b", "tab\there", strings.Repeat("é", 200), "", ".."} {
		_, err = w.a.UploadFile(w.owner, w.binder.ID, name, strings.NewReader("x"))
		add("name "+name, err, atrium.EInvalid)
	}
	for _, c := range cases {
		if atrium.ErrorCode(c.err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, c.err, c.code)
		}
	}
	list, _, _ := w.a.ListFiles(w.owner, w.binder.ID, app.Page{})
	if len(list) != 1 {
		t.Fatalf("refused uploads stored files: %d", len(list))
	}
	objects, _ := filepath.Glob(filepath.Join(w.dir, "blobs", "objects", "*", "*"))
	tmp, _ := os.ReadDir(filepath.Join(w.dir, "blobs", "tmp"))
	if len(objects) != 1 || len(tmp) != 0 {
		t.Fatalf("refused uploads left objects %v and temporary files %v", objects, tmp)
	}
}

// A changed byte in a stored object or its wrapped key: the download fails
// before any byte is read.
func TestTamperedObjectIsNotServed(t *testing.T) {
	w := newFileWorld(t, "sqlite", 0)
	f, err := w.a.UploadFile(w.owner, w.binder.ID, "a.txt", strings.NewReader("the contract"))
	must(t, err)
	matches, _ := filepath.Glob(filepath.Join(w.dir, "blobs", "objects", "*", f.BlobID))
	stored, _ := os.ReadFile(matches[0])
	stored[len(stored)/2] ^= 1
	must(t, os.WriteFile(matches[0], stored, 0o600))
	got, err := w.download(t, w.owner, f.ID)
	if !app.Corrupt(err) || len(got) != 0 {
		t.Fatalf("tampered object: %q, %v", got, err)
	}
}

// The server must not start when a master key that wraps an organisation's
// key is missing from the keyring.
func TestMissingMasterKeyIsReported(t *testing.T) {
	w := newFileWorld(t, "sqlite", 0)
	if err := w.a.CheckMasterKeys(context.Background()); err != nil {
		t.Fatalf("no organisation key yet: %v", err)
	}
	_, err := w.a.UploadFile(w.owner, w.binder.ID, "a.txt", strings.NewReader("x"))
	must(t, err)
	if err := w.a.CheckMasterKeys(context.Background()); err != nil {
		t.Fatalf("the keyring holds the key: %v", err)
	}
	other, _, err := keyring.LoadOrCreate(filepath.Join(t.TempDir(), "master.keys"))
	must(t, err)
	blobs, err := blob.NewLocal(filepath.Join(w.dir, "blobs"))
	must(t, err)
	cfg := app.DefaultConfig()
	cfg.Files = app.FileStorage{Blobs: blobs, Keys: other}
	b := app.New(w.a.Store(), auth.NewHasher(auth.TestParams, 2), slog.New(slog.NewTextHandler(io.Discard, nil)), cfg, nil)
	err = b.CheckMasterKeys(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not in the keyring") {
		t.Fatalf("a missing master key: %v", err)
	}
}

// Rotating the master key re-wraps the organisation keys only; a server
// that loaded the keyring before the rotation keeps serving files, and the
// old key can be retired once nothing is wrapped under it.
func TestMasterKeyRotationIsOnline(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			ctx := context.Background()
			f, err := w.a.UploadFile(w.owner, w.binder.ID, "a.txt", strings.NewReader("kept across rotations"))
			must(t, err)
			serverKey, err := w.a.ServerKey(ctx, "oauth") // the server's own keys move too
			must(t, err)
			objects, _ := filepath.Glob(filepath.Join(w.dir, "blobs", "objects", "*", "*"))
			before, _ := os.ReadFile(objects[0])

			// The rotation runs beside the server, with its own keyring.
			path := filepath.Join(w.dir, "master.keys")
			keys, err := keyring.Load(path)
			must(t, err)
			old := keys.Current()
			blobs, _ := blob.NewLocal(filepath.Join(w.dir, "blobs"))
			cfg := app.DefaultConfig()
			cfg.Files = app.FileStorage{Blobs: blobs, Keys: keys}
			admin := app.New(w.a.Store(), auth.NewHasher(auth.TestParams, 2), slog.New(slog.NewTextHandler(io.Discard, nil)), cfg, nil)
			_, err = keys.Rotate()
			must(t, err)
			n, err := admin.RewrapOrgKeys(ctx)
			if err != nil || n != 1 {
				t.Fatalf("rewrapped %d, %v", n, err)
			}
			if n, _ := admin.RewrapOrgKeys(ctx); n != 0 {
				t.Fatalf("a second pass rewrapped %d", n)
			}
			if n, _ := admin.MasterKeyInUse(ctx, old); n != 0 {
				t.Fatalf("the old key still wraps %d keys", n)
			}
			if k, err := admin.ServerKey(ctx, "oauth"); err != nil || k != serverKey {
				t.Fatalf("the server key after the rotation: %v", err)
			}
			after, _ := os.ReadFile(objects[0])
			if !bytes.Equal(before, after) {
				t.Fatal("a stored object was rewritten")
			}
			// The running server meets the new key and reads the file again.
			got, err := w.download(t, w.owner, f.ID)
			if err != nil || string(got) != "kept across rotations" {
				t.Fatalf("after rotation: %q, %v", got, err)
			}
			must(t, keys.Retire(old))
			got, err = w.download(t, w.viewer, f.ID)
			if err != nil || string(got) != "kept across rotations" {
				t.Fatalf("after retiring the old key: %q, %v", got, err)
			}
			must(t, w.a.CheckMasterKeys(ctx))
		})
	}
}

// Versions, rename, delete and restore: each version stays downloadable,
// every change is refused to those who may not make it, and a deleted file
// is gone for members until an administrator restores it.
func TestFileVersionsRenameDeleteRestore(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a := w.a
			f, err := a.UploadFile(w.owner, w.binder.ID, "plan.txt", strings.NewReader("version one"))
			must(t, err)
			f2, err := a.UploadVersion(w.owner, f.ID, "plan-v2.txt", strings.NewReader("version two, longer"))
			must(t, err)
			if f2.Version != 2 || f2.Name != "plan.txt" || f2.Size != int64(len("version two, longer")) {
				t.Fatalf("after a new version: %+v", f2)
			}
			if got, err := w.download(t, w.viewer, f.ID); err != nil || string(got) != "version two, longer" {
				t.Fatalf("current version: %q %v", got, err)
			}
			versions, next, err := a.ListVersions(w.viewer, f.ID, 0, 0)
			if err != nil || len(versions) != 2 || next != 0 || versions[0].Version != 2 || versions[1].Name != "plan.txt" || versions[0].Name != "plan-v2.txt" {
				t.Fatalf("versions: %+v %d %v", versions, next, err)
			}
			v1, c, err := a.OpenFileVersion(w.viewer, f.ID, 1)
			must(t, err)
			got, _ := io.ReadAll(c)
			c.Close()
			if string(got) != "version one" || v1.Version != 1 {
				t.Fatalf("version 1: %q", got)
			}
			if _, _, err := a.OpenFileVersion(w.viewer, f.ID, 3); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("a version that does not exist: %v", err)
			}
			if _, err := a.UploadVersion(w.viewer, f.ID, "x.txt", strings.NewReader("x")); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a viewer's version: %v", err)
			}
			if _, err := a.UploadVersion(w.outside, f.ID, "x.txt", strings.NewReader("x")); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("an outsider's version: %v", err)
			}

			name := "計画.txt"
			if r, err := a.RenameFile(w.owner, f.ID, app.RenameFileInput{Name: &name}); err != nil || r.Name != name {
				t.Fatalf("rename: %+v %v", r, err)
			}
			bad := "../x"
			if _, err := a.RenameFile(w.owner, f.ID, app.RenameFileInput{Name: &bad}); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("rename to a path: %v", err)
			}
			if _, err := a.RenameFile(w.viewer, f.ID, app.RenameFileInput{Name: &name}); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a viewer's rename: %v", err)
			}

			if err := a.DeleteFile(w.viewer, f.ID); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a viewer's delete: %v", err)
			}
			must(t, a.DeleteFile(w.owner, f.ID))
			if _, err := a.GetFile(w.owner, f.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("a deleted file: %v", err)
			}
			if _, _, err := a.OpenFileVersion(w.owner, f.ID, 1); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("a deleted file's version: %v", err)
			}
			if err := a.DeleteFile(w.owner, f.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("deleting twice: %v", err)
			}
			if _, err := a.RestoreFile(w.viewer, f.ID); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a client restores: %v", err)
			}
			if _, err := a.RestoreFile(w.outside, f.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("another organisation restores: %v", err)
			}
			r, err := a.RestoreFile(w.owner, f.ID)
			if err != nil || r.Name != name || r.Version != 2 {
				t.Fatalf("restore: %+v %v", r, err)
			}
			if got, err := w.download(t, w.viewer, f.ID); err != nil || string(got) != "version two, longer" {
				t.Fatalf("after restore: %q %v", got, err)
			}
			if _, err := a.RestoreFile(w.owner, f.ID); atrium.ErrorCode(err) != atrium.EConflict {
				t.Fatalf("restoring a live file: %v", err)
			}
		})
	}
}

// After the retention period a deleted file cannot be restored.
func TestFileRestoreEndsWithRetention(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			f, err := w.a.UploadFile(w.owner, w.binder.ID, "old.txt", strings.NewReader("x"))
			must(t, err)
			must(t, w.a.DeleteFile(w.owner, f.ID))
			kept, err := w.a.UploadFile(w.owner, w.binder.ID, "kept.txt", strings.NewReader("y"))
			must(t, err)
			later := time.Now().Add(app.DefaultConfig().FileRetention + time.Hour)
			w.a.SetClock(func() time.Time { return later })
			if _, err := w.a.RestoreFile(w.owner, f.ID); atrium.ErrorCode(err) != atrium.EGone {
				t.Fatalf("restore after retention: %v", err)
			}
			// Housekeeping then removes it for good, and its object.
			must(t, w.a.Housekeep(context.Background()))
			if _, err := w.a.Store().GetFileAny(context.Background(), f.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("a purged file: %v", err)
			}
			objects, _ := filepath.Glob(filepath.Join(w.dir, "blobs", "objects", "*", "*"))
			if len(objects) != 1 || filepath.Base(objects[0]) != kept.BlobID {
				t.Fatalf("objects after the purge: %v", objects)
			}
			if _, err := w.a.GetFile(w.owner, kept.ID); err != nil {
				t.Fatalf("a live file was purged: %v", err)
			}
			if n, _ := w.a.Store().OrgStoredBytes(context.Background(), f.OrgID); n != sealed.CipherSize(1) {
				t.Fatalf("stored bytes after the purge: %d", n)
			}
		})
	}
}

// The organisation's rules: blocked extensions (by default programs and
// scripts), a size limit of its own, and a storage quota.
func TestFilePolicy(t *testing.T) {
	w := newFileWorld(t, "sqlite", 0)
	a := w.a
	upload := func(name string, size int) error {
		_, err := a.UploadFile(w.owner, w.binder.ID, name, bytes.NewReader(make([]byte, size)))
		return err
	}
	for _, name := range []string{"setup.EXE", "setup.exe.", "setup.exe . "} {
		if err := upload(name, 10); atrium.ErrorCode(err) != atrium.EUnsupported {
			t.Fatalf("%q by default: %v", name, err)
		}
	}
	doc, err := a.UploadFile(w.owner, w.binder.ID, "doc.pdf", strings.NewReader("%PDF"))
	must(t, err)
	exe := "doc.exe"
	if _, err := a.RenameFile(w.owner, doc.ID, app.RenameFileInput{Name: &exe}); atrium.ErrorCode(err) != atrium.EUnsupported {
		t.Fatalf("a rename to a blocked ending: %v", err)
	}
	if _, err := a.UploadVersion(w.owner, doc.ID, "v2.exe", strings.NewReader("MZ")); atrium.ErrorCode(err) != atrium.EUnsupported {
		t.Fatalf("a version with a blocked name: %v", err)
	}
	must(t, a.DeleteFile(w.owner, doc.ID))
	settings := atrium.DefaultOrgSettings()
	settings.BlockedExtensions = []string{}
	settings.MaxFileMB = 1
	settings.StorageQuotaMB = 2
	_, err = a.UpdateOrg(w.owner, app.UpdateOrgInput{Settings: json.RawMessage(settings.Marshal())})
	must(t, err)
	if err := upload("setup.exe", 10); err != nil {
		t.Fatalf("no blocked extensions: %v", err)
	}
	if err := upload("big.bin", 1<<20+1); atrium.ErrorCode(err) != atrium.ETooLarge {
		t.Fatalf("over the organisation's file limit: %v", err)
	}
	must(t, upload("a.bin", 1<<20-600))
	must(t, upload("b.bin", 1<<20-600))
	if err := upload("c.bin", 1000); atrium.ErrorCode(err) != atrium.EQuota {
		t.Fatalf("over the quota: %v", err)
	}
	settings.StorageQuotaMB = 1
	_, err = a.UpdateOrg(w.owner, app.UpdateOrgInput{Settings: json.RawMessage(settings.Marshal())})
	must(t, err)
	if err := upload("c.bin", 1); atrium.ErrorCode(err) != atrium.EQuota {
		t.Fatalf("a quota used up: %v", err)
	}
	list, _, _ := a.ListFiles(w.owner, w.binder.ID, app.Page{})
	objects, _ := filepath.Glob(filepath.Join(w.dir, "blobs", "objects", "*", "*"))
	if len(list) != 3 || len(objects) != 4 {
		t.Fatalf("refused uploads left %d files and %d objects", len(list), len(objects))
	}
	settings.BlockedExtensions = []string{"EXE"}
	if _, err := a.UpdateOrg(w.owner, app.UpdateOrgInput{Settings: json.RawMessage(settings.Marshal())}); atrium.ErrorCode(err) != atrium.EInvalid {
		t.Fatalf("a malformed extension: %v", err)
	}
}

// A message attaches files of its own binder only; deleting the message
// drops its attachments.
func TestMessageAttachments(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a := w.a
			f, err := a.UploadFile(w.owner, w.binder.ID, "a.pdf", strings.NewReader("%PDF-1.7"))
			must(t, err)
			other, err := a.CreateBinder(w.owner, app.CreateBinderInput{Title: "Other"})
			must(t, err)
			g, err := a.UploadFile(w.owner, other.ID, "b.pdf", strings.NewReader("%PDF-1.7"))
			must(t, err)
			m, err := a.PostMessage(w.owner, w.binder.ID, app.PostMessageInput{Text: "see attached", Attachments: []string{f.ID}})
			if err != nil || len(m.Attachments) != 1 || m.Attachments[0] != f.ID {
				t.Fatalf("post with an attachment: %+v %v", m, err)
			}
			list, _, err := a.ListMessages(w.viewer, w.binder.ID, app.MessagePage{})
			if err != nil || len(list) != 1 || len(list[0].Attachments) != 1 {
				t.Fatalf("listed: %+v %v", list, err)
			}
			many := make([]string, atrium.MaxAttachments+1)
			for i := range many {
				many[i] = atrium.NewID()
			}
			for name, ids := range map[string][]string{
				"another binder's file": {g.ID},
				"an unknown file":       {atrium.NewID()},
				"a malformed id":        {"x"},
				"the same file twice":   {f.ID, f.ID},
				"too many":              many,
			} {
				if _, err := a.PostMessage(w.owner, w.binder.ID, app.PostMessageInput{Text: "x", Attachments: ids}); atrium.ErrorCode(err) != atrium.EInvalid {
					t.Errorf("%s: %v", name, err)
				}
			}
			_, err = a.DeleteMessage(w.owner, w.binder.ID, m.ID)
			must(t, err)
			list, _, _ = a.ListMessages(w.viewer, w.binder.ID, app.MessagePage{})
			if len(list) != 1 || len(list[0].Attachments) != 0 || !list[0].Deleted {
				t.Fatalf("a deleted message keeps its attachments: %+v", list)
			}
		})
	}
}

// Erasing an organisation's files destroys its key: its files can no
// longer be read, nor new ones stored; the erasure is audited.
func TestEraseOrgFiles(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			ctx := context.Background()
			f, err := w.a.UploadFile(w.owner, w.binder.ID, "a.txt", strings.NewReader("secret"))
			must(t, err)
			must(t, w.a.EraseOrgFiles(ctx, f.OrgID))
			if _, _, err := w.a.OpenFile(w.owner, f.ID); atrium.ErrorCode(err) != atrium.EGone {
				t.Fatalf("a file after erasure: %v", err)
			}
			if _, err := w.a.UploadFile(w.owner, w.binder.ID, "b.txt", strings.NewReader("x")); atrium.ErrorCode(err) != atrium.EGone {
				t.Fatalf("an upload after erasure: %v", err)
			}
			k, err := w.a.Store().GetOrgKey(ctx, f.OrgID)
			if err != nil || len(k.Wrapped) != 0 || !k.Destroyed {
				t.Fatalf("the organisation key after erasure: %+v %v", k, err)
			}
			if err := w.a.EraseOrgFiles(ctx, f.OrgID); atrium.ErrorCode(err) != atrium.EGone {
				t.Fatalf("erasing twice: %v", err)
			}
			for _, id := range []string{"not-an-id", atrium.NewID()} {
				if err := w.a.EraseOrgFiles(ctx, id); atrium.ErrorCode(err) != atrium.ENotFound {
					t.Fatalf("erasing organisation %q: %v", id, err)
				}
			}
			// An organisation that never stored a file can store none after.
			other := atrium.ActorFrom(w.outside).User.OrgID
			must(t, w.a.EraseOrgFiles(ctx, other))
			ob, err := w.a.CreateBinder(w.outside, app.CreateBinderInput{Title: "After"})
			must(t, err)
			if _, err := w.a.UploadFile(w.outside, ob.ID, "x.txt", strings.NewReader("x")); atrium.ErrorCode(err) != atrium.EGone {
				t.Fatalf("an upload by an organisation erased before its first file: %v", err)
			}
			must(t, w.a.CheckMasterKeys(ctx))
			audit, _ := w.a.Store().ListAudit(ctx, f.OrgID, "", 100)
			found := false
			for _, e := range audit {
				found = found || e.Action == "org.key_destroy"
			}
			if !found {
				t.Fatal("the erasure is not audited")
			}
		})
	}
}
