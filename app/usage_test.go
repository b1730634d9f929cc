package app_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store/storetest"
)

// The usage report's figures match what happened: messages and files per
// day, active users by kind, active binders, and the median time internal
// users took to answer clients; refusals for bad ranges and non-admins.
func TestUsageReport(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newRelWorld(t, dialect) // Cleo (client) owns a binder; the manager is in it
			a, bg := w.a, context.Background()
			_, err := a.AddMember(w.asCleo(), w.binder.ID, app.AddMemberInput{UserID: w.manager.ID, Role: atrium.BinderRoleEditor})
			must(t, err)
			asMgr := signedIn(t, a, "mgr@acme.test")
			// A Monday two weeks ahead, at 09:00 UTC.
			day0 := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 14)
			day0 = day0.AddDate(0, 0, -int((day0.Weekday()+6)%7)).Add(9 * time.Hour)
			at := func(d time.Duration) { a.SetClock(func() time.Time { return day0.Add(d) }) }
			post := func(ctx context.Context, text string) {
				_, err := a.PostMessage(ctx, w.binder.ID, app.PostMessageInput{Text: text})
				must(t, err)
			}
			// Day 0: Cleo asks, the manager answers after 10 minutes,
			// Cleo asks twice more, answered after 1 hour.
			at(0)
			post(w.asCleo(), "question 1")
			at(10 * time.Minute)
			post(asMgr(), "answer 1")
			at(2 * time.Hour)
			post(w.asCleo(), "question 2")
			at(2*time.Hour + 5*time.Minute)
			post(w.asCleo(), "question 2, again")
			at(3 * time.Hour)
			post(asMgr(), "answer 2")
			_, err = a.UploadFile(asMgr(), w.binder.ID, "terms.pdf", strings.NewReader("%PDF"))
			must(t, err)
			// Day 2: the manager alone, 30 seconds after nothing.
			at(48 * time.Hour)
			post(asMgr(), "a note")

			for {
				n, err := a.AggregateUsage(bg)
				must(t, err)
				if n == 0 {
					break
				}
			}
			if n, _ := a.AggregateUsage(bg); n != 0 {
				t.Fatal("aggregating twice read events again")
			}
			rep, err := a.Usage(w.owner, day0.Add(-9*time.Hour), day0.Add(72*time.Hour), app.IntervalDay)
			must(t, err)
			if len(rep.Intervals) != 4 {
				t.Fatalf("%d day intervals, want 4", len(rep.Intervals))
			}
			d0, d2 := rep.Intervals[0], rep.Intervals[2]
			if d0.Messages != 5 || d0.FilesShared != 1 || d0.ActiveClientUsers != 1 || d0.ActiveInternalUsers != 1 || d0.ActiveBinders != 1 {
				t.Fatalf("day 0: %+v", d0)
			}
			if d2.Messages != 1 || d2.ActiveClientUsers != 0 || d2.Responses != 0 || rep.Intervals[1].Messages != 0 {
				t.Fatalf("days 1 and 2: %+v %+v", rep.Intervals[1], d2)
			}
			// Independent counts: the binder's messages through the API.
			msgs, _, err := a.ListMessages(w.asCleo(), w.binder.ID, app.MessagePage{Limit: 200})
			must(t, err)
			if rep.Total.Messages != int64(len(msgs)) {
				t.Fatalf("total messages %d, the binder holds %d", rep.Total.Messages, len(msgs))
			}
			// Two responses: 10 min and 1 h (from the first unanswered
			// question); the median is their upper one, to within 5%.
			if rep.Total.Responses != 2 || rep.Total.MedianFirstResponseS == nil ||
				math.Abs(*rep.Total.MedianFirstResponseS-3600)/3600 > 0.05 && math.Abs(*rep.Total.MedianFirstResponseS-600)/600 > 0.05 {
				t.Fatalf("responses %d, median %v", rep.Total.Responses, rep.Total.MedianFirstResponseS)
			}
			var mgr *app.UsageByUser
			for _, u := range rep.Users {
				if u.UserID == w.manager.ID {
					mgr = u
				}
			}
			if mgr == nil || mgr.Messages != 3 || mgr.FilesShared != 1 || mgr.Responses != 2 || mgr.Client {
				t.Fatalf("the manager's figures: %+v", mgr)
			}
			if len(rep.Binders) != 1 || rep.Binders[0].Messages != 6 || rep.Binders[0].FilesShared != 1 || rep.Binders[0].Responses != 2 {
				t.Fatalf("per binder: %+v", rep.Binders)
			}
			week, err := a.Usage(w.owner, day0, day0.Truncate(24*time.Hour).AddDate(0, 0, 7), app.IntervalWeek)
			must(t, err)
			if len(week.Intervals) != 1 || week.Intervals[0].Messages != 6 || !week.Intervals[0].Start.Equal(day0.Truncate(24*time.Hour)) {
				b, _ := json.Marshal(week.Intervals)
				t.Fatalf("weekly: %s", b)
			}
			// A whole week is read from the weekly figures: the same answers.
			if week.Total.Messages != 6 || week.Total.ActiveClientUsers != 1 || week.Total.ActiveInternalUsers != 1 ||
				week.Total.ActiveBinders != 1 || week.Total.Responses != 2 || len(week.Users) != 2 || len(week.Binders) != 1 {
				t.Fatalf("weekly total: %+v, %d users, %d binders", week.Total, len(week.Users), len(week.Binders))
			}
			for _, u := range week.Users {
				if u.UserID == w.manager.ID && (u.Messages != 3 || u.FilesShared != 1 || u.Responses != 2 || u.Client) {
					t.Fatalf("the manager's week: %+v", u)
				}
			}
			for name, c := range map[string]struct {
				from, to time.Time
				interval string
				code     string
			}{
				"reversed":        {day0, day0.Add(-time.Hour), app.IntervalDay, atrium.EInvalid},
				"over five years": {day0.AddDate(-6, 0, 0), day0, app.IntervalDay, atrium.EInvalid},
				"bad interval":    {day0, day0.Add(time.Hour), "month", atrium.EInvalid},
				"no range":        {time.Time{}, day0, app.IntervalDay, atrium.EInvalid},
			} {
				if _, err := a.Usage(w.owner, c.from, c.to, c.interval); atrium.ErrorCode(err) != c.code {
					t.Fatalf("%s: %v", name, err)
				}
			}
			if _, err := a.Usage(asMgr(), day0, day0.Add(time.Hour), app.IntervalDay); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a member's report: %v", err)
			}
			other, err := a.Usage(w.outside, day0.Add(-9*time.Hour), day0.Add(72*time.Hour), app.IntervalDay)
			must(t, err)
			if other.Total.Messages != 0 {
				t.Fatalf("another organisation sees %d messages", other.Total.Messages)
			}
		})
	}
}
