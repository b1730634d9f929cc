package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// BenchmarkUsageReportYear reports a year of an organisation that posted a
// million messages: 2,740 a day across 300 binders, 50 staff and 500
// clients, with a first response for every third message. The aggregates
// are written directly (posting a million messages would take minutes);
// the report reads only them.
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
			var messages int64
			for day := 0; day < 365; day++ {
				deltas := map[store.UsageKey]*store.UsageDelta{}
				for i := 0; i < 2740; i++ {
					client := rng.IntN(3) > 0
					user := fmt.Sprintf("staff-%02d", rng.IntN(50))
					if client {
						user = fmt.Sprintf("client-%03d", rng.IntN(500))
					}
					k := store.UsageKey{OrgID: me.OrgID, Day: start.Unix()/86400 + int64(day),
						BinderID: fmt.Sprintf("binder-%03d", rng.IntN(300)), UserID: user}
					d := deltas[k]
					if d == nil {
						d = &store.UsageDelta{Client: client, Responses: map[int]int64{}}
						deltas[k] = d
					}
					d.Messages++
					messages++
					if !client && i%3 == 0 {
						d.Responses[rng.IntN(120)]++
					}
				}
				if err := a.Store().Tx(bg, func(tx *store.Tx) error { return tx.AddUsage(bg, deltas) }); err != nil {
					b.Fatal(err)
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
			_ = atrium.KindClient
		})
	}
}
