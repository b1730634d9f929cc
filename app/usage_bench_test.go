package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// BenchmarkUsageReportYear reports a year of an organisation that posted a
// million messages: 2,740 a day across 300 binders, 50 staff and 500
// clients, with a first response for every third message of staff. The
// aggregates are written directly, as the server keeps them (posting a
// million messages would take minutes); the report reads only them. The
// range is a year from an arbitrary day, so the days of the two weeks it
// cuts are read finer.
func BenchmarkUsageReportYear(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			w := newFileWorld(&testing.T{}, dialect, 0)
			a, bg := w.a, context.Background()
			me, _, err := a.Me(w.owner)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			start := time.Now().UTC().AddDate(-1, 0, 0)
			periods := map[store.PeriodKey]*store.PeriodDelta{}
			subjects := map[store.SubjectKey]*store.SubjectDelta{}
			flush := func() {
				if err := a.Store().Tx(bg, func(tx *store.Tx) error {
					if err := tx.AddPeriodUsage(bg, periods); err != nil {
						return err
					}
					return tx.AddSubjectUsage(bg, subjects)
				}); err != nil {
					b.Fatal(err)
				}
				periods, subjects = map[store.PeriodKey]*store.PeriodDelta{}, map[store.SubjectKey]*store.SubjectDelta{}
			}
			var messages int64
			for day := 0; day < 365; day++ {
				dayNo := start.Unix()/86400 + int64(day)
				week := dayNo - (dayNo+3)%7
				for i := 0; i < 2740; i++ {
					client := rng.IntN(3) > 0
					user := fmt.Sprintf("u:staff-%02d", rng.IntN(50))
					if client {
						user = fmt.Sprintf("u:client-%03d", rng.IntN(500))
					}
					binder := fmt.Sprintf("b:binder-%03d", rng.IntN(300))
					messages++
					bucket := -1
					if !client && i%3 == 0 {
						bucket = rng.IntN(120)
					}
					// As the server's aggregation does: day and week totals,
					// and the daily and weekly figures of user and binder.
					for _, pk := range []store.PeriodKey{{OrgID: me.OrgID, Grain: "d", Period: dayNo}, {OrgID: me.OrgID, Grain: "w", Period: week}} {
						p := periods[pk]
						if p == nil {
							p = &store.PeriodDelta{Subjects: map[string]bool{}, Responses: map[int]int64{}}
							periods[pk] = p
						}
						p.Messages++
						p.Subjects[user], p.Subjects[binder] = client, false
						if bucket >= 0 {
							p.Responses[bucket]++
						}
						for _, subject := range []string{user, binder} {
							sk := store.SubjectKey{OrgID: me.OrgID, Grain: pk.Grain, Period: pk.Period, Subject: subject}
							sd := subjects[sk]
							if sd == nil {
								sd = &store.SubjectDelta{Client: client && subject[0] == 'u', Responses: map[int]int64{}}
								subjects[sk] = sd
							}
							sd.Messages++
							if bucket >= 0 {
								sd.Responses[bucket]++
							}
						}
					}
				}
				if (dayNo+4)%7 == 0 || day == 364 { // a week's end
					flush()
				}
			}
			b.ReportMetric(float64(messages), "messages")
			from, to := start, start.AddDate(1, 0, 0)
			b.ResetTimer()
			for b.Loop() {
				rep, err := a.Usage(w.owner, from, to, app.IntervalWeek)
				if err != nil || rep.Total.Messages == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}
