package integration_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
)

// TestConversation walks through a binder's life: create, add a client,
// post with mentions and a reply, page through, edit, delete, read.
func TestConversation(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)

		acc := call(w.anaC.Me(ctx)).must(t)
		if acc.User.ID != w.ana.ID || acc.Org.ID != w.org.ID || acc.User.Role != atrium.OrgRoleOwner {
			t.Fatalf("Me = %+v %+v", acc.User, acc.Org)
		}

		b := call(w.anaC.CreateBinder(ctx, client.CreateBinderInput{Title: "Tax return 2026"})).must(t)
		if b.ID == "" || b.Title != "Tax return 2026" || b.MyRole != atrium.BinderRoleOwner || b.OrgID != w.org.ID {
			t.Fatalf("binder %+v", b)
		}
		_, err := w.kaiC.GetBinder(ctx, b.ID)
		wantError(t, err, http.StatusNotFound, atrium.ENotFound)

		m := call(w.anaC.AddMember(ctx, b.ID, client.AddMemberInput{UserID: w.kai.ID, Role: atrium.BinderRoleEditor})).must(t)
		if m.UserID != w.kai.ID || m.Role != atrium.BinderRoleEditor || m.User == nil || m.User.Email != "kai@example.com" {
			t.Fatalf("member %+v", m)
		}
		checkMembers(t, w, b.ID)

		msgs := postConversation(t, w, b.ID)
		checkPages(t, w.kaiC, b.ID, msgs)
		checkEdits(t, w, b.ID, msgs)
		checkDeletes(t, w, b.ID, msgs)
		checkReads(t, w, b.ID)
		checkBinderChanges(t, w, b.ID)
	})
}

// checkMembers pages through the members one at a time.
func checkMembers(t *testing.T, w *world, binderID string) {
	t.Helper()
	var ids []string
	pages := 0
	for m, err := range client.All(func(cursor string) (*client.Page[*atrium.Member], error) {
		pages++
		return w.kaiC.ListMembers(ctxT(t), binderID, client.ListOptions{Cursor: cursor, Limit: 1})
	}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.UserID)
	}
	slices.Sort(ids)
	want := []string{w.ana.ID, w.kai.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) || pages < 2 {
		t.Fatalf("members %v in %d pages, want %v", ids, pages, want)
	}
}

// postConversation posts five messages: Ana's welcome mentioning Kai (and
// a stranger), Kai's reply, and three more of Ana's.
func postConversation(t *testing.T, w *world, binderID string) []*atrium.Message {
	t.Helper()
	ctx := ctxT(t)
	welcome := post(t, w.anaC, binderID, "Welcome @kai@example.com! Please ask @nobody@example.com too.")
	if welcome.Seq != 1 || welcome.SenderID != w.ana.ID || !slices.Equal(welcome.Mentions, []string{w.kai.ID}) {
		t.Fatalf("welcome %+v", welcome)
	}
	reply := call(w.kaiC.PostMessage(ctx, binderID, client.PostMessageInput{Text: "Thanks @ana@example.com", ReplyTo: welcome.ID})).must(t)
	if reply.Seq != 2 || reply.ReplyTo != welcome.ID || !slices.Equal(reply.Mentions, []string{w.ana.ID}) {
		t.Fatalf("reply %+v", reply)
	}
	_, err := w.kaiC.PostMessage(ctx, binderID, client.PostMessageInput{Text: "lost", ReplyTo: atrium.NewID()})
	wantError(t, err, http.StatusBadRequest, atrium.EInvalid)
	_, err = w.kaiC.PostMessage(ctx, binderID, client.PostMessageInput{Text: "   "})
	wantError(t, err, http.StatusBadRequest, atrium.EInvalid)
	msgs := []*atrium.Message{welcome, reply}
	for _, text := range []string{"three", "four", "five"} {
		msgs = append(msgs, post(t, w.anaC, binderID, text))
	}
	return msgs
}

// checkPages reads the conversation in pages of two, both ways.
func checkPages(t *testing.T, c *client.Client, binderID string, msgs []*atrium.Message) {
	t.Helper()
	ctx := ctxT(t)
	var seqs []int64
	cursor, pages := "", 0
	for {
		p := call(c.ListMessages(ctx, binderID, client.MessageListOptions{Cursor: cursor, Limit: 2})).must(t)
		pages++
		for _, m := range p.Items {
			seqs = append(seqs, m.Seq)
			if want := msgs[m.Seq-1]; m.ID != want.ID || m.Text != want.Text {
				t.Fatalf("message %d = %+v, want %+v", m.Seq, m, want)
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(seqs, []int64{1, 2, 3, 4, 5}) || pages != 3 {
		t.Fatalf("oldest first: seqs %v in %d pages", seqs, pages)
	}
	p := call(c.ListMessages(ctx, binderID, client.MessageListOptions{Before: 4, Limit: 2})).must(t)
	q := call(c.ListMessages(ctx, binderID, client.MessageListOptions{Cursor: p.NextCursor, Limit: 2})).must(t)
	if got := []int64{p.Items[0].Seq, p.Items[1].Seq, q.Items[0].Seq}; !slices.Equal(got, []int64{3, 2, 1}) || len(q.Items) != 1 || q.NextCursor != "" {
		t.Fatalf("newest first before 4: %v, then %d items, cursor %q", got, len(q.Items), q.NextCursor)
	}
	after := call(c.ListMessages(ctx, binderID, client.MessageListOptions{After: 3})).must(t)
	if len(after.Items) != 2 || after.Items[0].Seq != 4 || after.NextCursor != "" {
		t.Fatalf("after 3: %d items", len(after.Items))
	}
}

// checkEdits: only the sender edits; mentions follow the new text.
func checkEdits(t *testing.T, w *world, binderID string, msgs []*atrium.Message) {
	t.Helper()
	ctx := ctxT(t)
	reply := msgs[1]
	edited := call(w.kaiC.EditMessage(ctx, binderID, reply.ID, "Thanks, will do")).must(t)
	if edited.Text != "Thanks, will do" || edited.EditedAt == nil || edited.Seq != 2 || len(edited.Mentions) != 0 {
		t.Fatalf("edited %+v", edited)
	}
	_, err := w.anaC.EditMessage(ctx, binderID, reply.ID, "not mine")
	wantError(t, err, http.StatusForbidden, atrium.EForbidden)
	_, err = w.kaiC.EditMessage(ctx, binderID, msgs[0].ID, "not mine either")
	wantError(t, err, http.StatusForbidden, atrium.EForbidden)
	_, err = w.kaiC.EditMessage(ctx, binderID, atrium.NewID(), "nobody's")
	wantError(t, err, http.StatusNotFound, atrium.ENotFound)
	got := allMessages(t, w.anaC, binderID)[1]
	if got.Text != "Thanks, will do" || got.EditedAt == nil {
		t.Fatalf("listed after edit: %+v", got)
	}
}

// checkDeletes: the sender or a binder owner deletes, leaving a tombstone.
func checkDeletes(t *testing.T, w *world, binderID string, msgs []*atrium.Message) {
	t.Helper()
	ctx := ctxT(t)
	_, err := w.kaiC.DeleteMessage(ctx, binderID, msgs[2].ID)
	wantError(t, err, http.StatusForbidden, atrium.EForbidden)
	tomb := call(w.anaC.DeleteMessage(ctx, binderID, msgs[2].ID)).must(t)
	if !tomb.Deleted || tomb.DeletedAt == nil || tomb.Text != "" || tomb.Seq != 3 {
		t.Fatalf("tombstone %+v", tomb)
	}
	_, err = w.anaC.DeleteMessage(ctx, binderID, msgs[2].ID)
	wantError(t, err, http.StatusNotFound, atrium.ENotFound)
	_, err = w.anaC.EditMessage(ctx, binderID, msgs[2].ID, "back from the dead")
	wantError(t, err, http.StatusNotFound, atrium.ENotFound)
	list := allMessages(t, w.kaiC, binderID)
	if len(list) != 5 || !list[2].Deleted || list[2].Text != "" || list[2].ID != msgs[2].ID || list[3].Deleted {
		t.Fatalf("conversation after delete: %d messages, third %+v", len(list), list[2])
	}
}

// checkReads: read positions move forward only; unread counts others'
// live messages.
func checkReads(t *testing.T, w *world, binderID string) {
	t.Helper()
	ctx := ctxT(t)
	// Ana's messages 1, 4 and 5 are unread for Kai: 2 is Kai's own, 3 is
	// deleted.
	if b := call(w.kaiC.GetBinder(ctx, binderID)).must(t); b.Unread != 3 || b.ReadSeq != 0 || b.LastSeq != 5 || b.MyRole != atrium.BinderRoleEditor {
		t.Fatalf("Kai's binder before reading: %+v", b)
	}
	if b := call(w.anaC.GetBinder(ctx, binderID)).must(t); b.Unread != 1 {
		t.Fatalf("Ana's unread = %d, want 1 (Kai's reply)", b.Unread)
	}
	if st := call(w.kaiC.MarkRead(ctx, binderID, 1)).must(t); st.ReadSeq != 1 || st.Unread != 2 {
		t.Fatalf("read to 1: %+v", st)
	}
	if st := call(w.kaiC.MarkRead(ctx, binderID, 0)).must(t); st.ReadSeq != 5 || st.Unread != 0 {
		t.Fatalf("read all: %+v", st)
	}
	if st := call(w.kaiC.MarkRead(ctx, binderID, 2)).must(t); st.ReadSeq != 5 || st.Unread != 0 {
		t.Fatalf("read back to 2 moved the position: %+v", st)
	}
	_, err := w.kaiC.MarkRead(ctx, binderID, 6)
	wantError(t, err, http.StatusBadRequest, atrium.EInvalid)
	list := call(w.kaiC.ListBinders(ctx, client.ListOptions{})).must(t)
	i := slices.IndexFunc(list.Items, func(b *atrium.Binder) bool { return b.ID == binderID })
	if len(list.Items) != 2 || i < 0 || list.Items[i].ReadSeq != 5 || list.Items[i].Unread != 0 {
		t.Fatalf("Kai's binders: %d, this one at %d", len(list.Items), i)
	}
	post(t, w.anaC, binderID, "six")
	if b := call(w.kaiC.GetBinder(ctx, binderID)).must(t); b.Unread != 1 || b.ReadSeq != 5 {
		t.Fatalf("after a new message: %+v", b)
	}
}

// checkBinderChanges: only owners rename and remove; removal hides the
// binder; a viewer reads but cannot post.
func checkBinderChanges(t *testing.T, w *world, binderID string) {
	t.Helper()
	ctx := ctxT(t)
	_, err := w.kaiC.UpdateBinder(ctx, binderID, client.UpdateBinderInput{Title: client.String("Mine now")})
	wantError(t, err, http.StatusForbidden, atrium.EForbidden)
	b := call(w.anaC.UpdateBinder(ctx, binderID, client.UpdateBinderInput{Title: client.String("Tax return 2026 (final)")})).must(t)
	if got := call(w.kaiC.GetBinder(ctx, binderID)).must(t); b.Title != "Tax return 2026 (final)" || got.Title != b.Title {
		t.Fatalf("renamed %q, Kai sees %q", b.Title, got.Title)
	}
	err = w.anaC.RemoveMember(ctx, binderID, w.ana.ID)
	wantError(t, err, http.StatusConflict, atrium.EConflict)
	if err := w.anaC.RemoveMember(ctx, binderID, w.kai.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.kaiC.GetBinder(ctx, binderID)
	wantError(t, err, http.StatusNotFound, atrium.ENotFound)
	_, err = w.kaiC.ListMessages(ctx, binderID, client.MessageListOptions{})
	wantError(t, err, http.StatusNotFound, atrium.ENotFound)

	call(w.anaC.AddMember(ctx, binderID, client.AddMemberInput{UserID: w.kai.ID, Role: atrium.BinderRoleViewer})).must(t)
	if n := len(allMessages(t, w.kaiC, binderID)); n != 6 {
		t.Fatalf("the viewer sees %d messages, want 6", n)
	}
	_, err = w.kaiC.PostMessage(ctx, binderID, client.PostMessageInput{Text: "may I?"})
	wantError(t, err, http.StatusForbidden, atrium.EForbidden)

	if err := w.anaC.DeleteBinder(ctx, binderID); err != nil {
		t.Fatal(err)
	}
	_, err = w.anaC.GetBinder(ctx, binderID)
	wantError(t, err, http.StatusNotFound, atrium.ENotFound)
}

// TestUsersAndInvitations: administrators create, invite, rename and list
// users; invited users accept and sign in; clients administer nothing.
func TestUsersAndInvitations(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		inv := call(w.anaC.CreateUser(ctx, client.CreateUserInput{Email: "Lee@Example.com", Name: "Lee", Kind: atrium.KindInternal})).must(t)
		if inv.User == nil || inv.Email != "lee@example.com" || inv.Status != atrium.StatusInvited || inv.Invitation == nil || inv.Invitation.Token == "" {
			t.Fatalf("invited %+v", inv)
		}
		_, err := newClient(t, w.srv.URL).Login(ctx, "lee@example.com", password, "")
		wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)

		anon := newClient(t, w.srv.URL)
		u := call(anon.AcceptInvitation(ctx, inv.Invitation.Token, password)).must(t)
		if u.ID != inv.ID || u.Status != atrium.StatusActive {
			t.Fatalf("accepted %+v", u)
		}
		_, err = anon.AcceptInvitation(ctx, inv.Invitation.Token, password)
		wantError(t, err, http.StatusNotFound, atrium.ENotFound)
		lee := login(t, w.srv.URL, "lee@example.com")
		if got := call(lee.Me(ctx)).must(t); got.User.ID != inv.ID {
			t.Fatalf("Lee is %+v", got.User)
		}

		renamed := call(w.anaC.UpdateUser(ctx, inv.ID, client.UpdateUserInput{Name: client.String("Lee Park"), Role: client.String(atrium.OrgRoleAdmin)})).must(t)
		if renamed.Name != "Lee Park" || renamed.Role != atrium.OrgRoleAdmin {
			t.Fatalf("updated %+v", renamed)
		}
		var emails []string
		for u, err := range client.All(func(cursor string) (*client.Page[*atrium.User], error) {
			return lee.ListUsers(ctx, client.ListOptions{Cursor: cursor, Limit: 2})
		}) {
			if err != nil {
				t.Fatal(err)
			}
			emails = append(emails, u.Email)
		}
		slices.Sort(emails)
		if !slices.Equal(emails, []string{"ana@example.com", "kai@example.com", "lee@example.com"}) {
			t.Fatalf("users %v", emails)
		}

		_, err = w.kaiC.ListUsers(ctx, client.ListOptions{})
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)
		_, err = w.kaiC.CreateUser(ctx, client.CreateUserInput{Email: "eve@example.com", Kind: atrium.KindClient})
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)
		_, err = w.kaiC.CreateBinder(ctx, client.CreateBinderInput{Title: "Mine"})
		wantError(t, err, http.StatusForbidden, atrium.EFeatureDisabled)
		_, err = w.anaC.CreateUser(ctx, client.CreateUserInput{Email: "kai@example.com", Kind: atrium.KindClient, Password: password})
		wantError(t, err, http.StatusConflict, atrium.EConflict)
		_, err = w.anaC.UpdateUser(ctx, w.ana.ID, client.UpdateUserInput{Status: client.String(atrium.StatusDeactivated)})
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)
	})
}

// TestOrganisation: administrators rename the organisation and change its
// settings, which take effect at once; other users read them only.
func TestOrganisation(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		o := call(w.kaiC.GetOrg(ctx)).must(t)
		if o.ID != w.org.ID || o.Name != "Acme" || o.Settings.ClientsCanCreateBinders {
			t.Fatalf("org %+v", o)
		}
		_, err := w.kaiC.CreateBinder(ctx, client.CreateBinderInput{Title: "Mine"})
		wantError(t, err, http.StatusForbidden, atrium.EFeatureDisabled)
		_, err = w.kaiC.UpdateOrg(ctx, client.UpdateOrgInput{Name: client.String("Kai's")})
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)

		settings := o.Settings
		settings.ClientsCanCreateBinders = true
		settings.DefaultLocale = "ja"
		o = call(w.anaC.UpdateOrg(ctx, client.UpdateOrgInput{Name: client.String("Acme KK"), Settings: &settings})).must(t)
		if o.Name != "Acme KK" || !o.Settings.ClientsCanCreateBinders || o.Settings.DefaultLocale != "ja" {
			t.Fatalf("updated org %+v", o)
		}
		if acc := call(w.kaiC.Me(ctx)).must(t); acc.Org.Name != "Acme KK" {
			t.Fatalf("Me shows org %q", acc.Org.Name)
		}
		if b := call(w.kaiC.CreateBinder(ctx, client.CreateBinderInput{Title: "Mine"})).must(t); b.MyRole != atrium.BinderRoleOwner {
			t.Fatalf("Kai's binder %+v", b)
		}
		settings.DefaultLocale = "fr"
		_, err = w.anaC.UpdateOrg(ctx, client.UpdateOrgInput{Settings: &settings})
		wantError(t, err, http.StatusBadRequest, atrium.EInvalid)
	})
}
