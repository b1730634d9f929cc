package integration_test

import (
	"bytes"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
)

// TestResumedStreamShowsNothingFromBeforeJoining: a user who resumes after
// being added to a binder receives the binder's events from the moment
// they joined, not what happened there before, in particular not the text
// of a message deleted before they joined, which the API never shows them.
func TestResumedStreamShowsNothingFromBeforeJoining(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		s := subscribe(t, w.kaiC, "")
		w.sync(t, s)
		cursor := s.Cursor()
		s.Close()

		deal := newBinder(t, w.anaC, "Acquisition")
		secret := post(t, w.anaC, deal.ID, "The price is 4.2M")
		call(w.anaC.DeleteMessage(ctx, deal.ID, secret.ID)).must(t)
		call(w.anaC.AddMember(ctx, deal.ID, client.AddMemberInput{UserID: w.kai.ID})).must(t)
		welcome := post(t, w.anaC, deal.ID, "Welcome, Kai")
		if list := allMessages(t, w.kaiC, deal.ID); list[0].Text != "" || !list[0].Deleted {
			t.Fatalf("the API shows Kai the deleted message: %+v", list[0])
		}

		s = subscribe(t, w.kaiC, cursor)
		var got []client.Event
		for {
			ev := next(t, s)
			got = append(got, ev)
			if ev.Type == atrium.EventMessageCreated && ev.Message.ID == welcome.ID {
				break
			}
		}
		for _, ev := range got {
			if bytes.Contains(ev.Raw, []byte("4.2M")) {
				t.Errorf("the resumed stream reveals a message deleted before Kai joined: %s", ev.Raw)
			}
		}
		if len(got) != 2 || got[0].Type != atrium.EventMemberAdded || got[0].Member.UserID != w.kai.ID {
			t.Fatalf("resumed stream delivered %v, want only Kai joining and the welcome", steps(got))
		}
	})
}
