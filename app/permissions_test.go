package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store/storetest"
)

// signedIn signs a user in and returns a function that gives a context
// authenticated afresh on each call, as each HTTP request is.
func signedIn(t *testing.T, a *app.App, email string) func() context.Context {
	t.Helper()
	ctx := atrium.WithClientInfo(context.Background(), atrium.ClientInfo{IP: "198.51.100.9", UserAgent: "ua"})
	res, err := a.Login(ctx, app.LoginInput{Email: email, Password: pw})
	must(t, err)
	return func() context.Context {
		act, err := a.Authenticate(ctx, res.Token)
		must(t, err)
		return atrium.WithActor(ctx, act)
	}
}

// Every path that uses a feature refuses it with feature_disabled once the
// feature is off for the user, writes nothing, and works again once it is
// back on.
func TestFeaturePermissionsAreEnforced(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a, bg := w.a, context.Background()
			staff, err := a.CreateUser(w.owner, app.CreateUserInput{Email: "s@acme.test", Kind: atrium.KindInternal, Password: pw})
			must(t, err)
			_, err = a.AddMember(w.owner, w.binder.ID, app.AddMemberInput{UserID: staff.ID, Role: atrium.BinderRoleOwner})
			must(t, err)
			other, err := a.CreateUser(w.owner, app.CreateUserInput{Email: "c2@acme.test", Kind: atrium.KindClient, Password: pw})
			must(t, err)
			as := signedIn(t, a, "s@acme.test")
			f, err := a.UploadFile(as(), w.binder.ID, "a.txt", strings.NewReader("hello"))
			must(t, err)
			msg, err := a.PostMessage(as(), w.binder.ID, app.PostMessageInput{Text: "hi"})
			must(t, err)

			uses := map[string]func() error{
				atrium.FeatureFilesUpload: func() error {
					_, err := a.UploadFile(as(), w.binder.ID, "b.txt", strings.NewReader("x"))
					return err
				},
				atrium.FeatureFilesDownload: func() error {
					_, c, err := a.OpenFile(as(), f.ID)
					if err == nil {
						c.Close()
					}
					return err
				},
				atrium.FeatureBindersCreate: func() error {
					_, err := a.CreateBinder(as(), app.CreateBinderInput{Title: "New"})
					return err
				},
				atrium.FeatureMembersAdd: func() error {
					_, err := a.AddMember(as(), w.binder.ID, app.AddMemberInput{UserID: other.ID, Role: atrium.BinderRoleViewer})
					if err == nil {
						must(t, a.RemoveMember(w.owner, w.binder.ID, other.ID))
					}
					return err
				},
				atrium.FeatureMessagesPost: func() error {
					_, err := a.PostMessage(as(), w.binder.ID, app.PostMessageInput{Text: "more"})
					return err
				},
				atrium.FeatureMessagesEdit: func() error {
					_, err := a.EditMessage(as(), w.binder.ID, msg.ID, app.EditMessageInput{Text: "edited"})
					return err
				},
			}
			for feature, use := range uses {
				_, err := a.SetPermissions(w.owner, staff.ID, atrium.Permissions{feature: false})
				must(t, err)
				before, _ := a.Store().LastEventPos(bg)
				if err := use(); atrium.ErrorCode(err) != atrium.EFeatureDisabled {
					t.Fatalf("%s off: %v", feature, err)
				}
				if after, _ := a.Store().LastEventPos(bg); after != before {
					t.Fatalf("%s off: the refusal wrote an event", feature)
				}
				_, err = a.SetPermissions(w.owner, staff.ID, atrium.Permissions{})
				must(t, err)
				if err := use(); err != nil {
					t.Fatalf("%s back on: %v", feature, err)
				}
			}

			// The organisation's defaults: file sharing off stops
			// everyone but those switched on one by one.
			_, err = a.PatchOrgSettings(w.owner, json.RawMessage(`{"file_sharing":false}`))
			must(t, err)
			if err := uses[atrium.FeatureFilesDownload](); atrium.ErrorCode(err) != atrium.EFeatureDisabled {
				t.Fatalf("file sharing off: %v", err)
			}
			_, err = a.SetPermissions(w.owner, staff.ID, atrium.Permissions{atrium.FeatureFilesDownload: true})
			must(t, err)
			if err := uses[atrium.FeatureFilesDownload](); err != nil {
				t.Fatalf("file sharing off, but on for the user: %v", err)
			}
			feats, err := a.Features(as())
			must(t, err)
			if feats[atrium.FeatureFilesUpload] || !feats[atrium.FeatureFilesDownload] {
				t.Fatalf("features: %v", feats)
			}
		})
	}
}

// Who may change whose permissions, and what an administrator may grant.
func TestPermissionAdministration(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a := w.a
			mk := func(email, kind, role string) *app.CreatedUser {
				u, err := a.CreateUser(w.owner, app.CreateUserInput{Email: email, Kind: kind, Role: role, Password: pw})
				must(t, err)
				return u
			}
			admin := mk("a@acme.test", atrium.KindInternal, atrium.OrgRoleAdmin)
			admin2 := mk("a2@acme.test", atrium.KindInternal, atrium.OrgRoleAdmin)
			member := mk("m@acme.test", atrium.KindInternal, atrium.OrgRoleMember)
			me, _, err := a.Me(w.owner)
			must(t, err)
			_, err = a.SetPermissions(w.owner, admin.ID, atrium.Permissions{atrium.FeatureMeetings: false})
			must(t, err)
			asAdmin := signedIn(t, a, "a@acme.test")
			asMember := signedIn(t, a, "m@acme.test")
			cases := []struct {
				name string
				ctx  context.Context
				user string
				p    atrium.Permissions
				code string
			}{
				{"admin on a member", asAdmin(), member.ID, atrium.Permissions{atrium.FeatureFilesUpload: false}, ""},
				{"admin on the owner", asAdmin(), me.ID, atrium.Permissions{}, atrium.EForbidden},
				{"admin on another admin", asAdmin(), admin2.ID, atrium.Permissions{}, atrium.EForbidden},
				{"admin on themselves", asAdmin(), admin.ID, atrium.Permissions{atrium.FeatureMeetings: true}, atrium.EForbidden},
				{"admin grants what they lack", asAdmin(), member.ID, atrium.Permissions{atrium.FeatureMeetings: true}, atrium.EForbidden},
				{"a member", asMember(), member.ID, atrium.Permissions{}, atrium.EForbidden},
				{"another organisation's owner", w.outside, member.ID, atrium.Permissions{}, atrium.ENotFound},
				{"an unknown feature", w.owner, member.ID, atrium.Permissions{"teleport": true}, atrium.EInvalid},
				{"an unknown user", w.owner, atrium.NewID(), atrium.Permissions{}, atrium.ENotFound},
				{"owner on an admin", w.owner, admin2.ID, atrium.Permissions{atrium.FeatureMeetings: false}, ""},
				{"owner switches meetings off for a member", w.owner, member.ID, atrium.Permissions{atrium.FeatureMeetings: false}, ""},
				{"admin lifts that override, switching meetings on", asAdmin(), member.ID, atrium.Permissions{}, atrium.EForbidden},
				{"admin changes another feature, keeping meetings off", asAdmin(), member.ID, atrium.Permissions{atrium.FeatureMeetings: false, atrium.FeatureFilesUpload: false}, ""},
			}
			for _, c := range cases {
				before, _ := a.Store().GetPermissions(context.Background(), c.user)
				_, err := a.SetPermissions(c.ctx, c.user, c.p)
				if atrium.ErrorCode(err) != c.code && !(c.code == "" && err == nil) {
					t.Fatalf("%s: %v, want %q", c.name, err, c.code)
				}
				after, _ := a.Store().GetPermissions(context.Background(), c.user)
				if c.code != "" && !equalPermissions(before, after) {
					t.Fatalf("%s: refused, but the permissions changed: %v → %v", c.name, before, after)
				}
			}
			got, err := a.GetPermissions(asMember(), member.ID)
			must(t, err)
			if got.Effective[atrium.FeatureFilesUpload] || got.Overrides[atrium.FeatureFilesUpload] || got.Effective[atrium.FeatureMeetings] || len(got.Overrides) != 2 {
				t.Fatalf("a member's own permissions: %+v", got)
			}
			if _, err := a.GetPermissions(asMember(), admin.ID); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a member reading another's permissions: %v", err)
			}
			audit, _ := a.Store().ListAudit(context.Background(), me.OrgID, "", 200)
			found := false
			for _, e := range audit {
				if e.Action == "user.permissions" && e.TargetID == member.ID && e.Detail == "files.upload=false" {
					found = true
				}
			}
			if !found {
				t.Fatal("no audit entry names the change")
			}
		})
	}
}

func equalPermissions(a, b atrium.Permissions) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// The organisation's edit window closes editing; settings patches keep the
// settings they do not name and refuse unknown ones.
func TestOrgSettingsPatchAndEditWindow(t *testing.T) {
	w := newFileWorld(t, "sqlite", 0)
	a := w.a
	msg, err := a.PostMessage(w.owner, w.binder.ID, app.PostMessageInput{Text: "first"})
	must(t, err)
	s, err := a.PatchOrgSettings(w.owner, json.RawMessage(`{"message_edit_window_minutes":5,"max_file_mb":7}`))
	must(t, err)
	if s.MessageEditWindowMinutes != 5 || s.MaxFileMB != 7 || !s.FileSharing || len(s.BlockedExtensions) == 0 {
		t.Fatalf("after the patch: %+v", s)
	}
	for _, bad := range []string{`{"colour":"red"}`, `{"max_file_mb":-1}`, `{"file_sharing":"yes"}`, `{"message_edit_window_minutes":5}x`} {
		if _, err := a.PatchOrgSettings(w.owner, json.RawMessage(bad)); atrium.ErrorCode(err) != atrium.EInvalid {
			t.Fatalf("%s: %v", bad, err)
		}
	}
	if _, err := a.PatchOrgSettings(w.viewer, json.RawMessage(`{"meetings":false}`)); atrium.ErrorCode(err) != atrium.EForbidden {
		t.Fatalf("a client changing settings: %v", err)
	}
	_, err = a.PatchOrgSettings(w.owner, json.RawMessage(`{"client_users_allowed":false}`))
	must(t, err)
	if _, err := a.CreateUser(w.owner, app.CreateUserInput{Email: "new@client.test", Kind: atrium.KindClient}); atrium.ErrorCode(err) != atrium.EFeatureDisabled {
		t.Fatalf("a client user while they are off: %v", err)
	}
	if _, err := a.CreateUser(w.owner, app.CreateUserInput{Email: "new@acme.test", Kind: atrium.KindInternal}); err != nil {
		t.Fatalf("a staff user while clients are off: %v", err)
	}
	if _, _, err := a.ListFiles(w.viewer, w.binder.ID, app.Page{}); err != nil {
		t.Fatalf("an existing client keeps working: %v", err)
	}
	if _, err := a.EditMessage(w.owner, w.binder.ID, msg.ID, app.EditMessageInput{Text: "soon"}); err != nil {
		t.Fatalf("an edit inside the window: %v", err)
	}
	later := time.Now().Add(6 * time.Minute)
	a.SetClock(func() time.Time { return later })
	if _, err := a.EditMessage(w.owner, w.binder.ID, msg.ID, app.EditMessageInput{Text: "late"}); atrium.ErrorCode(err) != atrium.EForbidden {
		t.Fatalf("an edit after the window: %v", err)
	}
}

// owner > admin > member: an admin acts on members and on themselves, never
// on the owner or another admin, never raises anyone above admin, and
// cannot lock themselves out; every refusal changes nothing.
func TestAdminRoles(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a := w.a
			mk := func(email, role string) *app.CreatedUser {
				u, err := a.CreateUser(w.owner, app.CreateUserInput{Email: email, Kind: atrium.KindInternal, Role: role, Password: pw})
				must(t, err)
				return u
			}
			admin := mk("a@acme.test", atrium.OrgRoleAdmin)
			admin2 := mk("a2@acme.test", atrium.OrgRoleAdmin)
			member := mk("m@acme.test", atrium.OrgRoleMember)
			member2 := mk("m2@acme.test", atrium.OrgRoleMember)
			owner, _, err := a.Me(w.owner)
			must(t, err)
			asAdmin, asMember := signedIn(t, a, "a@acme.test"), signedIn(t, a, "m@acme.test")
			str := func(s string) *string { return &s }
			cases := []struct {
				name string
				ctx  context.Context
				user string
				in   app.UpdateUserInput
				code string
			}{
				{"admin renames the owner", asAdmin(), owner.ID, app.UpdateUserInput{Name: str("Boss")}, atrium.EForbidden},
				{"admin demotes another admin", asAdmin(), admin2.ID, app.UpdateUserInput{Role: str(atrium.OrgRoleMember)}, atrium.EForbidden},
				{"admin deactivates another admin", asAdmin(), admin2.ID, app.UpdateUserInput{Status: str(atrium.StatusDeactivated)}, atrium.EForbidden},
				{"admin makes someone owner", asAdmin(), member.ID, app.UpdateUserInput{Role: str(atrium.OrgRoleOwner)}, atrium.EInvalid},
				{"admin makes themselves owner", asAdmin(), admin.ID, app.UpdateUserInput{Role: str(atrium.OrgRoleOwner)}, atrium.EInvalid},
				{"admin deactivates themselves", asAdmin(), admin.ID, app.UpdateUserInput{Status: str(atrium.StatusDeactivated)}, atrium.EForbidden},
				{"member promotes themselves", asMember(), member.ID, app.UpdateUserInput{Role: str(atrium.OrgRoleAdmin)}, atrium.EForbidden},
				{"owner deactivates themselves", w.owner, owner.ID, app.UpdateUserInput{Status: str(atrium.StatusDeactivated)}, atrium.EForbidden},
				{"another organisation's owner", w.outside, member.ID, app.UpdateUserInput{Name: str("X")}, atrium.ENotFound},
				{"admin promotes a member to admin", asAdmin(), member2.ID, app.UpdateUserInput{Role: str(atrium.OrgRoleAdmin)}, ""},
				{"admin renames a member", asAdmin(), member.ID, app.UpdateUserInput{Name: str("Mia")}, ""},
				{"owner demotes an admin", w.owner, admin2.ID, app.UpdateUserInput{Role: str(atrium.OrgRoleMember)}, ""},
			}
			for _, c := range cases {
				before, _ := a.Store().GetUser(context.Background(), c.user)
				_, err := a.UpdateUser(c.ctx, c.user, c.in)
				if c.code == "" && err != nil || c.code != "" && atrium.ErrorCode(err) != c.code {
					t.Fatalf("%s: %v, want %q", c.name, err, c.code)
				}
				after, _ := a.Store().GetUser(context.Background(), c.user)
				if c.code != "" && before != nil && (after.Name != before.Name || after.Role != before.Role || after.Status != before.Status) {
					t.Fatalf("%s: refused, but the user changed", c.name)
				}
			}
		})
	}
}
