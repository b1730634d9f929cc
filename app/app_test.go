package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/store/storetest"
)

const pw = "correct horse battery"

func newApp(t *testing.T, dialect string) *app.App {
	t.Helper()
	st := storetest.Open(t, dialect)
	return app.New(st, auth.NewHasher(auth.TestParams, 2), slog.New(slog.NewTextHandler(io.Discard, nil)), app.DefaultConfig(), nil)
}

// as logs a user in from a given address and returns a context acting as
// them.
func as(t *testing.T, a *app.App, email, ip string) context.Context {
	t.Helper()
	ctx := atrium.WithClientInfo(context.Background(), atrium.ClientInfo{IP: ip, UserAgent: "ua/" + ip})
	res, err := a.Login(ctx, app.LoginInput{Email: email, Password: pw})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	act, err := a.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	return atrium.WithActor(ctx, act)
}

// Every state change and every login attempt leaves a complete audit entry.
func TestEveryChangeIsAudited(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d)
			bg := context.Background()
			org, owner, err := a.CreateOrg(bg, app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
			if err != nil {
				t.Fatal(err)
			}
			client, err := a.CreateUserAsSystem(bg, org.ID, app.CreateUserInput{Email: "c@client.test", Kind: atrium.KindClient, Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			anon := atrium.WithClientInfo(bg, atrium.ClientInfo{IP: "203.0.113.9", UserAgent: "probe"})
			if _, err := a.Login(anon, app.LoginInput{Email: "o@acme.test", Password: "wrong password"}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("wrong password: %v", err)
			}
			if _, err := a.Login(anon, app.LoginInput{Email: "nobody@acme.test", Password: pw}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("unknown email: %v", err)
			}
			ctx := as(t, a, "o@acme.test", "198.51.100.1")
			cctx := as(t, a, "c@client.test", "198.51.100.2")
			b, err := a.CreateBinder(ctx, app.CreateBinderInput{Title: "Deal"})
			must(t, err)
			title := "Deal 2"
			_, err = a.UpdateBinder(ctx, b.ID, app.UpdateBinderInput{Title: &title})
			must(t, err)
			_, err = a.AddMember(ctx, b.ID, app.AddMemberInput{UserID: client.ID, Role: atrium.BinderRoleViewer})
			must(t, err)
			m, err := a.PostMessage(ctx, b.ID, app.PostMessageInput{Text: "hello @c@client.test"})
			must(t, err)
			if len(m.Mentions) != 1 || m.Mentions[0] != client.ID {
				t.Fatalf("mentions %v", m.Mentions)
			}
			_, err = a.EditMessage(ctx, b.ID, m.ID, app.EditMessageInput{Text: "hello again"})
			must(t, err)
			_, err = a.MarkRead(cctx, b.ID, app.MarkReadInput{})
			must(t, err)
			if _, err := a.PostMessage(cctx, b.ID, app.PostMessageInput{Text: "viewer"}); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("viewer post: %v", err)
			}
			_, err = a.DeleteMessage(ctx, b.ID, m.ID)
			must(t, err)
			must(t, a.RemoveMember(ctx, b.ID, client.ID))
			must(t, a.DeleteBinder(ctx, b.ID))
			must(t, a.Logout(cctx))

			entries, err := a.Store().ListAudit(bg, "*", "", 200)
			must(t, err)
			var got []string
			for _, e := range entries {
				got = append(got, e.Action+"/"+e.Outcome)
				if e.ID == "" || e.CreatedAt.IsZero() || e.Action == "" || e.Outcome == "" {
					t.Errorf("incomplete entry %+v", e)
				}
				if strings.HasPrefix(e.Action, "binder.") || strings.HasPrefix(e.Action, "message.") {
					if e.OrgID != org.ID || e.TargetID == "" || e.IP == "" || e.UserAgent == "" || e.ActorID == "" {
						t.Errorf("incomplete entry %+v", e)
					}
				}
			}
			sort.Strings(got)
			want := []string{
				"auth.login/failure", "auth.login/failure", "auth.login/success", "auth.login/success", "auth.logout/success",
				"binder.create/success", "binder.delete/success", "binder.update/success",
				"member.add/success", "member.remove/success",
				"message.delete/success", "message.edit/success", "message.post/denied", "message.post/success",
				"org.create/success", "read.update/success", "user.create/success", "user.create/success",
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("audit actions\n got %v\nwant %v", got, want)
			}
			for _, e := range entries {
				if e.Action == "message.post" && e.Outcome == atrium.OutcomeDenied && (e.ActorID != client.ID || e.IP != "198.51.100.2") {
					t.Errorf("denial recorded as %+v", e)
				}
				if e.Action == "auth.login" && e.Outcome == atrium.OutcomeFailure && e.IP != "203.0.113.9" {
					t.Errorf("failed login recorded as %+v", e)
				}
			}
			_ = owner
		})
	}
}

// A change whose transaction fails leaves neither change, event nor audit.
func TestFailedChangeLeavesNoTrace(t *testing.T) {
	a := newApp(t, "sqlite")
	bg := context.Background()
	org, _, err := a.CreateOrg(bg, app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
	must(t, err)
	ctx := as(t, a, "o@acme.test", "198.51.100.1")
	before, _ := a.Store().ListAudit(bg, org.ID, "", 200)
	pos, _ := a.Store().LastEventPos(bg)
	// The second user with the same address fails inside the transaction.
	_, err = a.CreateUser(ctx, app.CreateUserInput{Email: "o@acme.test", Kind: atrium.KindInternal, Password: pw})
	if atrium.ErrorCode(err) != atrium.EConflict {
		t.Fatalf("duplicate: %v", err)
	}
	after, _ := a.Store().ListAudit(bg, org.ID, "", 200)
	pos2, _ := a.Store().LastEventPos(bg)
	if len(after) != len(before) || pos2 != pos {
		t.Fatalf("failed change left %d audit entries and moved events %v -> %v", len(after)-len(before), pos, pos2)
	}
}

func TestIdempotencyKeyReplaysAndRefusesOtherRequests(t *testing.T) {
	a := newApp(t, "sqlite")
	bg := context.Background()
	_, _, err := a.CreateOrg(bg, app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
	must(t, err)
	ctx := as(t, a, "o@acme.test", "198.51.100.1")
	b, err := a.CreateBinder(ctx, app.CreateBinderInput{Title: "Deal"})
	must(t, err)
	keyed := atrium.WithClientInfo(ctx, atrium.ClientInfo{IdempotencyKey: "k-1"})
	m1, err := a.PostMessage(keyed, b.ID, app.PostMessageInput{Text: "once"})
	must(t, err)
	m2, err := a.PostMessage(keyed, b.ID, app.PostMessageInput{Text: "once"})
	must(t, err)
	if m1.ID != m2.ID || m1.Seq != m2.Seq {
		t.Fatalf("retry made a new message: %v vs %v", m1.ID, m2.ID)
	}
	if _, err := a.PostMessage(keyed, b.ID, app.PostMessageInput{Text: "other"}); atrium.ErrorCode(err) != atrium.EPrecondition {
		t.Fatalf("reused key: %v", err)
	}
	c1, err := a.PostMessage(ctx, b.ID, app.PostMessageInput{Text: "ck", ClientKey: "client-1"})
	must(t, err)
	c2, err := a.PostMessage(ctx, b.ID, app.PostMessageInput{Text: "ck", ClientKey: "client-1"})
	must(t, err)
	if c1.ID != c2.ID {
		t.Fatal("client key posted twice")
	}
	if _, err := a.PostMessage(ctx, b.ID, app.PostMessageInput{Text: "different", ClientKey: "client-1"}); atrium.ErrorCode(err) != atrium.EPrecondition {
		t.Fatalf("client key reused for another text: %v", err)
	}
	list, _, err := a.ListMessages(ctx, b.ID, app.MessagePage{})
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("%d messages, want 2", len(list))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestInvitationTokenIsShownOnceAndNeverStored(t *testing.T) {
	a := newApp(t, "sqlite")
	bg := context.Background()
	_, _, err := a.CreateOrg(bg, app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
	must(t, err)
	ctx := atrium.WithClientInfo(as(t, a, "o@acme.test", "198.51.100.1"), atrium.ClientInfo{IdempotencyKey: "invite-1"})
	first, err := a.CreateUser(ctx, app.CreateUserInput{Email: "new@acme.test", Kind: atrium.KindInternal})
	must(t, err)
	if first.Invitation == nil || first.Invitation.Token == "" || first.Status != atrium.StatusInvited {
		t.Fatalf("no invitation: %+v", first)
	}
	again, err := a.CreateUser(ctx, app.CreateUserInput{Email: "new@acme.test", Kind: atrium.KindInternal})
	must(t, err)
	if again.ID != first.ID || again.Invitation != nil {
		t.Fatalf("replay: %+v", again)
	}
	act := atrium.ActorFrom(ctx)
	stored, err := a.Store().GetIdempotent(bg, act.User.ID, "invite-1")
	if err != nil || stored == nil || strings.Contains(stored.Response, first.Invitation.Token) {
		t.Fatalf("the invitation token is stored for replays: %+v %v", stored, err)
	}
	if _, err := a.AcceptInvitation(bg, app.AcceptInvitationInput{Token: first.Invitation.Token, Password: pw}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	if _, err := a.AcceptInvitation(bg, app.AcceptInvitationInput{Token: first.Invitation.Token, Password: pw}); atrium.ErrorCode(err) != atrium.ENotFound {
		t.Fatalf("second accept: %v", err)
	}
}

func TestOrgSessionLifetimeApplies(t *testing.T) {
	a := newApp(t, "sqlite")
	bg := context.Background()
	_, _, err := a.CreateOrg(bg, app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
	must(t, err)
	ctx := as(t, a, "o@acme.test", "198.51.100.1")
	settings := atrium.DefaultOrgSettings()
	settings.SessionTTLHours = 2
	_, err = a.UpdateOrg(ctx, app.UpdateOrgInput{Settings: json.RawMessage(settings.Marshal())})
	must(t, err)
	res, err := a.Login(bg, app.LoginInput{Email: "o@acme.test", Password: pw})
	must(t, err)
	if d := res.Session.ExpiresAt.Sub(res.Session.CreatedAt); d != 2*time.Hour {
		t.Fatalf("session lives %v, want the organisation's 2h", d)
	}
}

func TestMalformedTargetsAreNotAuditedWhole(t *testing.T) {
	a := newApp(t, "sqlite")
	bg := context.Background()
	org, _, err := a.CreateOrg(bg, app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
	must(t, err)
	ctx := as(t, a, "o@acme.test", "198.51.100.1")
	if _, err := a.GetBinder(ctx, strings.Repeat("x", 60000)); atrium.ErrorCode(err) != atrium.ENotFound {
		t.Fatalf("long id: %v", err)
	}
	entries, _ := a.Store().ListAudit(bg, org.ID, "", 200)
	last := entries[len(entries)-1]
	if last.Action != "binder.read" || last.Outcome != atrium.OutcomeDenied || last.TargetID != "(malformed)" {
		t.Fatalf("denial audited as %+v", last)
	}
}

// An address may have an account in several organisations; none of them
// learns of the others, sign-in with org_id finds the right one, and
// without it the first account is meant: an account another organisation
// makes with the same address changes nothing for it.
func TestOneAddressInSeveralOrganisations(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d)
			bg := context.Background()
			orgA, _, err := a.CreateOrg(bg, app.CreateOrgInput{Name: "A", OwnerEmail: "a@a.test", OwnerPassword: pw})
			must(t, err)
			orgB, _, err := a.CreateOrg(bg, app.CreateOrgInput{Name: "B", OwnerEmail: "b@b.test", OwnerPassword: pw})
			must(t, err)
			inA, err := a.CreateUserAsSystem(bg, orgA.ID, app.CreateUserInput{Email: "sam@client.test", Kind: atrium.KindClient, Password: pw})
			must(t, err)
			// B's administrator adds the same address, even with the same
			// password: nothing reveals A's account, nothing changes for it.
			adminB := as(t, a, "b@b.test", "198.51.100.2")
			inB, err := a.CreateUser(adminB, app.CreateUserInput{Email: "sam@client.test", Kind: atrium.KindClient, Password: pw})
			must(t, err)
			if _, err := a.CreateUser(adminB, app.CreateUserInput{Email: "sam@client.test", Kind: atrium.KindClient}); atrium.ErrorCode(err) != atrium.EConflict {
				t.Fatalf("same address twice in one organisation: %v", err)
			}
			login := func(password, org string) (*app.LoginResult, error) {
				return a.Login(bg, app.LoginInput{Email: "sam@client.test", Password: password, OrgID: org})
			}
			r, err := login(pw, "")
			must(t, err)
			if r.User.ID != inA.ID {
				t.Fatalf("without org_id the first account is meant, got %s", r.User.OrgID)
			}
			r, err = login(pw, orgB.ID)
			must(t, err)
			if r.User.ID != inB.ID {
				t.Fatal("org_id did not choose the account")
			}
			if _, err := login("wrong password", orgA.ID); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("wrong password for A: %v", err)
			}
			if _, err := login(pw, atrium.NewID()); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("an organisation without the address: %v", err)
			}
			if _, err := login(pw, "not-an-id"); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("bad org_id: %v", err)
			}
		})
	}
}

// Events past their retention are pruned, and a stream that would resume
// before them is told so (410), not that its cursor is unknown.
func TestOldEventsArePrunedAndOldCursorsAreGone(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, d)
			bg := context.Background()
			_, _, err := a.CreateOrg(bg, app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: pw})
			must(t, err)
			ctx := as(t, a, "o@acme.test", "198.51.100.1")
			_, err = a.CreateBinder(ctx, app.CreateBinderInput{Title: "Old"})
			must(t, err)
			old, err := a.LastEventPos(bg)
			must(t, err)
			a.SetClock(func() time.Time { return time.Now().Add(31 * 24 * time.Hour) })
			_, err = a.CreateBinder(ctx, app.CreateBinderInput{Title: "New"})
			must(t, err)
			if _, _, err := a.StreamFrom(ctx, old.Cursor()); err != nil {
				t.Fatalf("a kept cursor: %v", err)
			}
			must(t, a.Housekeep(bg))
			if _, _, err := a.StreamFrom(ctx, old.Cursor()); atrium.ErrorCode(err) != atrium.EGone {
				t.Fatalf("a pruned cursor: %v", err)
			}
			recent, err := a.LastEventPos(bg)
			must(t, err)
			if _, _, err := a.StreamFrom(ctx, recent.Cursor()); err != nil {
				t.Fatalf("a recent cursor after pruning: %v", err)
			}
			future := atrium.Pos{Tx: recent.Tx + 1000, ID: recent.ID + 1000}
			if _, _, err := a.StreamFrom(ctx, future.Cursor()); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("a cursor from the future: %v", err)
			}
		})
	}
}
