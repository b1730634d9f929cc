package integration_test

import (
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
)

// TestEventStream: members receive every change of their binders in order,
// each with its cursor, type, binder and object; nothing from binders they
// are not in, and read positions only for themselves.
func TestEventStream(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		kaiS := subscribe(t, w.kaiC, "")
		anaS := subscribe(t, w.anaC, "")
		w.sync(t, kaiS, anaS)
		b := newBinder(t, w.anaC, "Onboarding")
		private := newBinder(t, w.anaC, "Internal only")

		call(w.anaC.AddMember(ctx, b.ID, client.AddMemberInput{UserID: w.kai.ID})).must(t)
		m1 := post(t, w.anaC, b.ID, "Hello @kai@example.com")
		post(t, w.anaC, private.ID, "not for clients")
		call(w.anaC.EditMessage(ctx, b.ID, m1.ID, "Hello again @kai@example.com")).must(t)
		call(w.anaC.UpdateBinder(ctx, b.ID, client.UpdateBinderInput{Title: client.String("Onboarding 2026")})).must(t)
		call(w.kaiC.MarkRead(ctx, b.ID, 0)).must(t)
		call(w.anaC.DeleteMessage(ctx, b.ID, m1.ID)).must(t)
		if err := w.anaC.RemoveMember(ctx, b.ID, w.kai.ID); err != nil {
			t.Fatal(err)
		}
		post(t, w.anaC, b.ID, "after Kai left")
		// A binder Kai joins afterwards marks the end: anything leaked
		// from the binders above would arrive before its events.
		later := newBinder(t, w.anaC, "Later", w.kai)
		m3 := post(t, w.anaC, later.ID, "welcome back")
		if err := w.anaC.DeleteBinder(ctx, later.ID); err != nil {
			t.Fatal(err)
		}
		lobby := post(t, w.anaC, w.lobby.ID, "still here")

		got := expect(t, kaiS,
			step{atrium.EventMemberAdded, b.ID},
			step{atrium.EventMessageCreated, b.ID},
			step{atrium.EventMessageEdited, b.ID},
			step{atrium.EventBinderUpdated, b.ID},
			step{atrium.EventReadUpdated, b.ID},
			step{atrium.EventMessageDeleted, b.ID},
			step{atrium.EventMemberRemoved, b.ID},
			step{atrium.EventMemberAdded, later.ID},
			step{atrium.EventMessageCreated, later.ID},
			step{atrium.EventBinderDeleted, later.ID},
			step{atrium.EventMessageCreated, w.lobby.ID},
		)
		checkKaisEvents(t, w, got, m1, m3)
		if got[10].Message.ID != lobby.ID {
			t.Errorf("last event carries %s", got[10].Raw)
		}

		expect(t, anaS,
			step{atrium.EventMemberAdded, b.ID},
			step{atrium.EventBinderCreated, b.ID},
			step{atrium.EventMemberAdded, private.ID},
			step{atrium.EventBinderCreated, private.ID},
			step{atrium.EventMemberAdded, b.ID},
			step{atrium.EventMessageCreated, b.ID},
			step{atrium.EventMessageCreated, private.ID},
			step{atrium.EventMessageEdited, b.ID},
			step{atrium.EventBinderUpdated, b.ID},
			step{atrium.EventMessageDeleted, b.ID},
			step{atrium.EventMemberRemoved, b.ID},
			step{atrium.EventMessageCreated, b.ID},
			step{atrium.EventMemberAdded, later.ID},
			step{atrium.EventBinderCreated, later.ID},
			step{atrium.EventMemberAdded, later.ID},
			step{atrium.EventMessageCreated, later.ID},
			step{atrium.EventBinderDeleted, later.ID},
			step{atrium.EventMessageCreated, w.lobby.ID},
		)
	})
}

// checkKaisEvents checks the objects Kai's events carry.
func checkKaisEvents(t *testing.T, w *world, got []client.Event, m1, m3 *atrium.Message) {
	t.Helper()
	if m := got[0].Member; m.UserID != w.kai.ID || m.Role != atrium.BinderRoleEditor {
		t.Errorf("member.added carries %+v", m)
	}
	if m := got[1].Message; m.ID != m1.ID || m.Seq != 1 || m.Text != m1.Text || len(m.Mentions) != 1 || m.Mentions[0] != w.kai.ID {
		t.Errorf("message.created carries %+v", m)
	}
	if m := got[2].Message; m.ID != m1.ID || m.Text != "Hello again @kai@example.com" || m.EditedAt == nil {
		t.Errorf("message.edited carries %+v", m)
	}
	if b := got[3].Binder; b.Title != "Onboarding 2026" {
		t.Errorf("binder.updated carries %+v", b)
	}
	if r := got[4].Read; r.ReadSeq != 1 || r.Unread != 0 {
		t.Errorf("read.updated carries %+v", r)
	}
	if m := got[5].Message; m.ID != m1.ID || !m.Deleted || m.Text != "" {
		t.Errorf("message.deleted carries %+v", m)
	}
	if m := got[6].Member; m.UserID != w.kai.ID {
		t.Errorf("member.removed carries %+v", m)
	}
	if m := got[8].Message; m.ID != m3.ID {
		t.Errorf("last message.created carries %+v", m)
	}
}
