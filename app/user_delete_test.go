package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store/storetest"
)

// Deleting a user removes their personal data and access; what they wrote
// stays as "Deleted user"'s, or is erased under the "erase" policy; binders
// they alone owned pass to the administrator; and the refusals change
// nothing.
func TestDeleteUser(t *testing.T) {
	for _, policy := range []string{atrium.UserDeletionAnonymise, atrium.UserDeletionErase} {
		for _, dialect := range storetest.Dialects {
			t.Run(policy+"/"+dialect, func(t *testing.T) {
				t.Parallel()
				w := newRelWorld(t, dialect) // Cleo owns a binder and has a manager
				a, bg := w.a, context.Background()
				_, err := a.PatchOrgSettings(w.owner, json.RawMessage(`{"user_deletion":"`+policy+`"}`))
				must(t, err)
				msg, err := a.PostMessage(w.asCleo(), w.binder.ID, app.PostMessageInput{Text: "my address is 1 Main St"})
				must(t, err)
				f, err := a.UploadFile(w.asCleo(), w.binder.ID, "passport.pdf", strings.NewReader("%PDF"))
				must(t, err)
				asAdmin := signedIn(t, a, "mgr@acme.test") // a member, not an admin
				if err := a.DeleteUser(asAdmin(), w.cleo.ID); atrium.ErrorCode(err) != atrium.EForbidden {
					t.Fatalf("a member deleting: %v", err)
				}
				me, _, _ := a.Me(w.owner)
				for name, c := range map[string]struct {
					ctx  context.Context
					id   string
					code string
				}{
					"themselves":           {w.owner, me.ID, atrium.EForbidden},
					"another organisation": {w.outside, w.cleo.ID, atrium.ENotFound},
					"an unknown user":      {w.owner, atrium.NewID(), atrium.ENotFound},
					"not an id":            {w.owner, "x", atrium.ENotFound},
				} {
					if err := a.DeleteUser(c.ctx, c.id); atrium.ErrorCode(err) != c.code {
						t.Fatalf("%s: %v, want %s", name, err, c.code)
					}
				}
				must(t, a.DeleteUser(w.owner, w.cleo.ID))
				if err := a.DeleteUser(w.owner, w.cleo.ID); atrium.ErrorCode(err) != atrium.ENotFound {
					t.Fatalf("deleted twice: %v", err)
				}

				u, err := a.Store().GetUser(bg, w.cleo.ID)
				must(t, err)
				if u.Status != atrium.StatusDeleted || u.Name != atrium.DeletedUserName || strings.Contains(u.Email, "cle") || u.PasswordHash != "" {
					t.Fatalf("the deleted user's record: %+v", u)
				}
				if _, err := a.Login(bg, app.LoginInput{Email: "cle@client.test", Password: pw}); atrium.ErrorCode(err) != atrium.EUnauthorized {
					t.Fatalf("a deleted user's login: %v", err)
				}
				if rels, _, _ := a.ListRelationships(w.owner, w.cleo.ID, "", app.Page{}); len(rels) != 0 {
					t.Fatalf("relationships left: %d", len(rels))
				}
				// A deleted user cannot be given access again.
				b2, err := a.CreateBinder(w.owner, app.CreateBinderInput{Title: "After"})
				must(t, err)
				if _, err := a.AddMember(w.owner, b2.ID, app.AddMemberInput{UserID: w.cleo.ID}); atrium.ErrorCode(err) != atrium.EInvalid {
					t.Fatalf("a deleted user added to a binder: %v", err)
				}
				if _, err := a.CreateRelationship(w.owner, app.RelationshipInput{ClientID: w.cleo.ID, InternalID: w.manager.ID}); atrium.ErrorCode(err) != atrium.EInvalid {
					t.Fatalf("a relationship with a deleted user: %v", err)
				}
				if _, err := a.SetPermissions(w.owner, w.cleo.ID, atrium.Permissions{}); atrium.ErrorCode(err) != atrium.ENotFound {
					t.Fatalf("permissions of a deleted user: %v", err)
				}
				devices, _ := a.Store().ListDevices(bg, w.cleo.ID, time.Time{}, "", 10)
				for _, d := range devices {
					if d.DeviceName != "" || d.IP != "" || d.UserAgent != "" {
						t.Fatalf("a deleted user's device keeps %+v", d)
					}
				}
				// The binder Cleo alone owned is now the administrator's.
				b, err := a.GetBinder(w.owner, w.binder.ID)
				if err != nil || b.MyRole != atrium.BinderRoleOwner {
					t.Fatalf("the orphaned binder: %+v %v", b, err)
				}
				members, _, _ := a.ListMembers(w.owner, w.binder.ID, app.Page{})
				for _, m := range members {
					if m.UserID == w.cleo.ID {
						t.Fatal("the deleted user is still a member")
					}
				}
				msgs, _, err := a.ListMessages(w.owner, w.binder.ID, app.MessagePage{})
				must(t, err)
				var got *atrium.Message
				for _, m := range msgs {
					if m.ID == msg.ID {
						got = m
					}
				}
				_, _, ferr := a.OpenFile(w.owner, f.ID)
				if policy == atrium.UserDeletionErase {
					if got == nil || !got.Deleted || got.Text != "" || atrium.ErrorCode(ferr) != atrium.ENotFound {
						t.Fatalf("erase: message %+v, file %v", got, ferr)
					}
				} else if got == nil || got.Deleted || got.Text == "" || ferr != nil {
					t.Fatalf("anonymise: message %+v, file %v", got, ferr)
				}
			})
		}
	}
}

// Erasing a user's content erases its copies in the event outbox, so that
// a stream resumed from before cannot bring it back, and their name and
// address leave the member events.
func TestErasureReachesTheOutbox(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newRelWorld(t, dialect)
			a, bg := w.a, context.Background()
			_, err := a.PatchOrgSettings(w.owner, json.RawMessage(`{"user_deletion":"erase"}`))
			must(t, err)
			_, err = a.PostMessage(w.asCleo(), w.binder.ID, app.PostMessageInput{Text: "my secret address"})
			must(t, err)
			_, err = a.AddMember(w.asCleo(), w.binder.ID, app.AddMemberInput{UserID: w.manager.ID})
			must(t, err)
			must(t, a.DeleteUser(w.owner, w.cleo.ID))
			events, err := a.Store().EventsAfter(bg, atrium.Pos{}, 10000)
			must(t, err)
			for _, e := range events {
				if strings.Contains(string(e.Payload), "secret address") || strings.Contains(string(e.Payload), "cle@client.test") {
					t.Fatalf("%s still holds erased data: %s", e.Type, e.Payload)
				}
			}
		})
	}
}
