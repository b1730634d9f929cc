package app_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store/storetest"
)

// relWorld: an organisation with a manager, other staff, a client Cleo
// managed by the manager, another client Dan, and a binder Cleo owns.
type relWorld struct {
	*fileWorld
	manager, staff, cleo, dan *app.CreatedUser
	asCleo                    func() context.Context
	binder                    *atrium.Binder
}

func newRelWorld(t *testing.T, dialect string) *relWorld {
	t.Helper()
	w := &relWorld{fileWorld: newFileWorld(t, dialect, 0)}
	a := w.a
	mk := func(email, kind string) *app.CreatedUser {
		u, err := a.CreateUser(w.owner, app.CreateUserInput{Email: email, Name: email[:3], Kind: kind, Password: pw})
		must(t, err)
		return u
	}
	w.manager, w.staff = mk("mgr@acme.test", atrium.KindInternal), mk("stf@acme.test", atrium.KindInternal)
	w.cleo, w.dan = mk("cle@client.test", atrium.KindClient), mk("dan@client.test", atrium.KindClient)
	_, err := a.CreateRelationship(w.owner, app.RelationshipInput{ClientID: w.cleo.ID, InternalID: w.manager.ID})
	must(t, err)
	_, err = a.PatchOrgSettings(w.owner, json.RawMessage(`{"clients_can_create_binders":true,"clients_can_invite":true}`))
	must(t, err)
	w.asCleo = signedIn(t, a, "cle@client.test")
	w.binder, err = a.CreateBinder(w.asCleo(), app.CreateBinderInput{Title: "Cleo's"})
	must(t, err)
	return w
}

func (w *relWorld) policy(t *testing.T, share, c2c, dir bool) {
	t.Helper()
	b, _ := json.Marshal(map[string]bool{"clients_share_only_with_managers": share, "client_to_client_contact": c2c, "clients_see_directory": dir})
	_, err := w.a.PatchOrgSettings(w.owner, b)
	must(t, err)
}

// The policy is enforced where clients add members, create binders with
// members, mention and look people up; a hidden user is refused as if
// they did not exist; and explain says which rule decided.
func TestRelationshipPolicyIsEnforced(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newRelWorld(t, dialect)
			a := w.a
			add := func(id string) error {
				_, err := a.AddMember(w.asCleo(), w.binder.ID, app.AddMemberInput{UserID: id, Role: atrium.BinderRoleViewer})
				return err
			}
			directory := func() map[string]bool {
				refs, _, err := a.Directory(w.asCleo(), "", app.Page{Limit: 100})
				must(t, err)
				seen := map[string]bool{}
				for _, r := range refs {
					seen[r.ID] = true
				}
				return seen
			}

			// Defaults: no client-to-client contact, a directory of managers only.
			if err := add(w.dan.ID); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("a hidden client added: %v", err)
			}
			if err := add(atrium.NewID()); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("an unknown user added: %v", err)
			}
			if err := add(w.staff.ID); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("staff hidden from the directory added: %v", err)
			}
			if seen := directory(); !seen[w.manager.ID] || !seen[w.cleo.ID] || seen[w.dan.ID] || seen[w.staff.ID] || len(seen) != 2 {
				t.Fatalf("default directory: %v", seen)
			}
			must(t, add(w.manager.ID))

			// Directory open, sharing limited to managers: staff seen, not added.
			w.policy(t, true, false, true)
			if seen := directory(); !seen[w.staff.ID] || seen[w.dan.ID] {
				t.Fatalf("open directory: %v", seen)
			}
			if err := add(w.staff.ID); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a non-manager with sharing limited: %v", err)
			}
			_, err := a.CreateBinder(w.asCleo(), app.CreateBinderInput{Title: "Two", Members: []app.AddMemberInput{
				{UserID: w.manager.ID}, {UserID: w.staff.ID}}})
			if atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a binder created with a non-manager: %v", err)
			}
			binders, _, _ := a.ListBinders(w.asCleo(), app.Page{Limit: 100})
			if len(binders) != 1 {
				t.Fatalf("a refused binder was made: %d binders", len(binders))
			}
			b2, err := a.CreateBinder(w.asCleo(), app.CreateBinderInput{Title: "Mine", Members: []app.AddMemberInput{{UserID: w.manager.ID, Role: atrium.BinderRoleEditor}}})
			must(t, err)
			if members, _, _ := a.ListMembers(w.asCleo(), b2.ID, app.Page{}); len(members) != 2 {
				t.Fatalf("a binder created with its manager has %d members", len(members))
			}

			// With client-to-client contact Cleo adds Dan and mentions
			// him; once it is off again, she may not mention him.
			w.policy(t, false, true, false)
			must(t, add(w.dan.ID))
			_, err = a.PostMessage(w.asCleo(), w.binder.ID, app.PostMessageInput{Text: "hi @dan@client.test"})
			must(t, err)
			w.policy(t, false, false, false)
			_, err = a.PostMessage(w.asCleo(), w.binder.ID, app.PostMessageInput{Text: "again @dan@client.test"})
			if atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a client mentioning a client: %v", err)
			}
			_, err = a.PostMessage(w.asCleo(), w.binder.ID, app.PostMessageInput{Text: "@mgr@acme.test please look"})
			must(t, err)

			// Explain names the rule.
			for _, c := range []struct {
				from, to, action string
				allowed          bool
				rule             string
			}{
				{w.cleo.ID, w.dan.ID, atrium.ContactMessage, false, "client_to_client_contact"},
				{w.cleo.ID, w.manager.ID, atrium.ContactSee, true, "relationship_manager"},
				{w.cleo.ID, w.staff.ID, atrium.ContactSee, false, "clients_see_directory"},
				{w.staff.ID, w.dan.ID, atrium.ContactAddMember, true, "internal_user"},
			} {
				d, err := a.ExplainContact(w.owner, c.from, c.to, c.action)
				must(t, err)
				if d.Allowed != c.allowed || d.Rule != c.rule {
					t.Fatalf("explain %s: %+v, want %v by %s", c.action, d, c.allowed, c.rule)
				}
			}
		})
	}
}

// Relationships are made and ended by administrators only, between a
// client and an internal user of their organisation.
func TestRelationshipAdministration(t *testing.T) {
	w := newRelWorld(t, "sqlite")
	a := w.a
	other, _, err := a.Me(w.outside)
	must(t, err)
	cases := []struct {
		name string
		ctx  context.Context
		in   app.RelationshipInput
		code string
	}{
		{"the same pair again", w.owner, app.RelationshipInput{ClientID: w.cleo.ID, InternalID: w.manager.ID}, atrium.EConflict},
		{"kinds reversed", w.owner, app.RelationshipInput{ClientID: w.manager.ID, InternalID: w.cleo.ID}, atrium.EInvalid},
		{"two clients", w.owner, app.RelationshipInput{ClientID: w.cleo.ID, InternalID: w.dan.ID}, atrium.EInvalid},
		{"a user of another organisation", w.owner, app.RelationshipInput{ClientID: w.cleo.ID, InternalID: other.ID}, atrium.EInvalid},
		{"not an id", w.owner, app.RelationshipInput{ClientID: "x", InternalID: w.staff.ID}, atrium.EInvalid},
		{"a client", w.asCleo(), app.RelationshipInput{ClientID: w.cleo.ID, InternalID: w.staff.ID}, atrium.EForbidden},
		{"another organisation's owner", w.outside, app.RelationshipInput{ClientID: w.dan.ID, InternalID: w.staff.ID}, atrium.EInvalid},
	}
	for _, c := range cases {
		if _, err := a.CreateRelationship(c.ctx, c.in); atrium.ErrorCode(err) != c.code {
			t.Fatalf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	r, err := a.CreateRelationship(w.owner, app.RelationshipInput{ClientID: w.dan.ID, InternalID: w.staff.ID})
	must(t, err)
	list, _, err := a.ListRelationships(w.owner, "", w.staff.ID, app.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ID != r.ID {
		t.Fatalf("relationships of staff: %+v", list)
	}
	if err := a.DeleteRelationship(w.outside, r.ID); atrium.ErrorCode(err) != atrium.ENotFound {
		t.Fatalf("deleted by another organisation: %v", err)
	}
	must(t, a.DeleteRelationship(w.owner, r.ID))
	if err := a.DeleteRelationship(w.owner, r.ID); atrium.ErrorCode(err) != atrium.ENotFound {
		t.Fatalf("deleted twice: %v", err)
	}
	if _, err := a.ExplainContact(w.owner, w.cleo.ID, other.ID, atrium.ContactSee); atrium.ErrorCode(err) != atrium.EInvalid {
		t.Fatalf("explain across organisations: %v", err)
	}
	if _, err := a.ExplainContact(w.owner, w.cleo.ID, w.dan.ID, "wave"); atrium.ErrorCode(err) != atrium.EInvalid {
		t.Fatalf("explain of an unknown action: %v", err)
	}
	if _, err := a.ExplainContact(w.asCleo(), w.cleo.ID, w.dan.ID, atrium.ContactSee); atrium.ErrorCode(err) != atrium.EForbidden {
		t.Fatalf("explain by a client: %v", err)
	}
}
