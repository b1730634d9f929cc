package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// A user's export holds their profile, memberships, the messages they sent
// and the files they uploaded; only they can see and download it, and it
// is removed once it expires.
func TestUserDataExport(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a, bg := w.a, context.Background()
			_, err := a.PostMessage(w.owner, w.binder.ID, app.PostMessageInput{Text: "the terms we agreed"})
			must(t, err)
			f, err := a.UploadFile(w.owner, w.binder.ID, "../terms.pdf", strings.NewReader("%PDF terms"))
			if err == nil {
				t.Fatal("a path in a file name was taken")
			}
			f, err = a.UploadFile(w.owner, w.binder.ID, "terms.pdf", strings.NewReader("%PDF terms"))
			must(t, err)

			// A later version by someone else is theirs, not the owner's.
			ed, err := a.CreateUser(w.owner, app.CreateUserInput{Email: "ed@acme.test", Kind: atrium.KindInternal, Password: pw})
			must(t, err)
			_, err = a.AddMember(w.owner, w.binder.ID, app.AddMemberInput{UserID: ed.ID, Role: atrium.BinderRoleEditor})
			must(t, err)
			_, err = a.UploadVersion(as(t, a, "ed@acme.test", "198.51.100.7"), f.ID, "terms.pdf", strings.NewReader("%PDF the editor's own"))
			must(t, err)

			e, err := a.RequestExport(w.owner)
			must(t, err)
			again, err := a.RequestExport(w.owner)
			must(t, err)
			if again.ID != e.ID || e.Status != store.ExportPending {
				t.Fatalf("a second request while one is pending: %+v, %+v", e, again)
			}
			if _, _, err := a.OpenExport(w.owner, e.ID); atrium.ErrorCode(err) != atrium.EConflict {
				t.Fatalf("a pending export's download: %v", err)
			}
			if _, err := a.GetExport(w.viewer, e.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("another user's export: %v", err)
			}
			must(t, a.PrepareExports(bg))
			got, err := a.GetExport(w.owner, e.ID)
			must(t, err)
			if got.Status != store.ExportReady || got.Size == 0 || got.FinishedAt == nil {
				t.Fatalf("the export after preparing: %+v", got)
			}
			_, c, err := a.OpenExport(w.owner, e.ID)
			must(t, err)
			data, err := io.ReadAll(c)
			c.Close()
			must(t, err)
			z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			must(t, err)
			entries := map[string]string{}
			for _, zf := range z.File {
				r, _ := zf.Open()
				b, _ := io.ReadAll(r)
				entries[zf.Name] = string(b)
			}
			if !strings.Contains(entries["profile.json"], "o@acme.test") || strings.Contains(entries["profile.json"], "argon2") {
				t.Fatalf("profile.json: %s", entries["profile.json"])
			}
			if !strings.Contains(entries["memberships.json"], w.binder.ID) || !strings.Contains(entries["messages.jsonl"], "the terms we agreed") {
				t.Fatalf("memberships or messages missing: %v", entries)
			}
			if entries["files/"+f.ID+"-v1-terms.pdf"] != "%PDF terms" || !strings.Contains(entries["files.json"], f.ID) {
				t.Fatalf("files: %v", entries)
			}
			for name, content := range entries {
				if strings.Contains(content, "editor's") {
					t.Fatalf("%s holds another user's version", name)
				}
			}
			// Within a day, asking again returns the same export.
			if again, err := a.RequestExport(w.owner); err != nil || again.ID != e.ID {
				t.Fatalf("a second request the same day: %+v %v", again, err)
			}

			// It expires with its object.
			if n := len(w.objects(t)); n != 3 {
				t.Fatalf("%d objects before the expiry, want two versions and the export", n)
			}
			later := time.Now().Add(app.ExportTTL + time.Hour)
			a.SetClock(func() time.Time { return later })
			must(t, a.Housekeep(bg))
			if _, err := a.GetExport(w.owner, e.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("an expired export: %v", err)
			}
			if objs := w.objects(t); len(objs) != 2 {
				t.Fatalf("objects after the expiry: %v", objs)
			}
		})
	}
}
