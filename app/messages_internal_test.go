package app

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/store/storetest"
)

// A post is planned on a read made before its write transaction. If the
// binder's membership changes in between, the post is checked again under
// the binder's lock: a member removed meanwhile can no longer post, and a
// mention of a member removed meanwhile is dropped.
func TestPlannedPostIsCheckedAgainWhenMembershipChanged(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a := New(storetest.Open(t, dialect), auth.NewHasher(auth.TestParams, 2),
				slog.New(slog.NewTextHandler(io.Discard, nil)), DefaultConfig(), nil)
			bg := context.Background()
			const pw = "correct horse battery"
			_, owner, err := a.CreateOrg(bg, CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
			if err != nil {
				t.Fatal(err)
			}
			asUser := func(u *atrium.User) context.Context {
				return atrium.WithActor(bg, &atrium.Actor{User: u, SessionID: atrium.NewID()})
			}
			octx := asUser(owner)
			var editor, mentioned *atrium.User
			for _, p := range []struct {
				u     **atrium.User
				email string
			}{{&editor, "e@acme.test"}, {&mentioned, "x@acme.test"}} {
				cu, err := a.CreateUser(octx, CreateUserInput{Email: p.email, Kind: atrium.KindInternal, Password: pw})
				if err != nil {
					t.Fatal(err)
				}
				*p.u = cu.User
			}
			b, err := a.CreateBinder(octx, CreateBinderInput{Title: "Deal"})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range []*atrium.User{editor, mentioned} {
				if _, err := a.AddMember(octx, b.ID, AddMemberInput{UserID: u.ID, Role: atrium.BinderRoleEditor}); err != nil {
					t.Fatal(err)
				}
			}
			ectx := asUser(editor)
			in := PostMessageInput{Text: "ask @x@acme.test"}
			plan := func() *postPlan {
				p, err := planPost(ectx, a.store, a.store.GetBinderForUser, editor, b.ID, in)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			post := func(p *postPlan) (msg *atrium.Message, err error) {
				err = a.write(ectx, func(w *writer) error {
					msg, err = a.postMessage(w, editor, b.ID, in, p)
					return err
				})
				return msg, err
			}

			p := plan()
			if len(p.mentions) != 1 || p.mentions[0] != mentioned.ID {
				t.Fatalf("planned mentions %v", p.mentions)
			}
			if err := a.RemoveMember(octx, b.ID, mentioned.ID); err != nil {
				t.Fatal(err)
			}
			msg, err := post(p)
			if err != nil {
				t.Fatalf("post after another member left: %v", err)
			}
			if len(msg.Mentions) != 0 || msg.Seq != 1 {
				t.Fatalf("message %+v: the mention of a member who left was kept", msg)
			}

			p = plan()
			if err := a.RemoveMember(octx, b.ID, editor.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := post(p); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("post by a member removed after planning: %v", err)
			}
			msgs, err := a.store.ListMessages(bg, b.ID, 0, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1 {
				t.Fatalf("%d messages stored, want 1", len(msgs))
			}
		})
	}
}
