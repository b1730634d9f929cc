package app

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// usageBatch is how many outbox events one aggregation step reads.
const usageBatch = 1000

// Response times are kept as a histogram with responseSteps buckets per
// doubling: bucket b holds times in [2^(b/steps), 2^((b+1)/steps))
// seconds, so a median read from it is within about 4.5% of the exact one.
const responseSteps = 8

// responseBucket is the histogram bucket of a response time.
func responseBucket(d time.Duration) int {
	s := d.Seconds()
	if s < 1 {
		return 0
	}
	return int(math.Log2(s) * responseSteps)
}

// bucketMid is a bucket's geometric middle, in seconds.
func bucketMid(b int) float64 {
	return math.Pow(2, (float64(b)+0.5)/responseSteps)
}

// dayOf is a time's UTC day number.
func dayOf(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// RunUsage keeps the usage aggregates up to date from the outbox until
// ctx ends: after every wake-up (Notify) and every few seconds.
func (a *App) RunUsage(ctx context.Context, wake <-chan struct{}) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		for {
			n, err := a.AggregateUsage(ctx)
			if err != nil {
				if ctx.Err() == nil {
					a.log.Warn("usage aggregates", "err", err)
				}
				break
			}
			if n < usageBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// AggregateUsage folds the next outbox events into the usage aggregates
// and returns how many it read. One node at a time advances the cursor.
func (a *App) AggregateUsage(ctx context.Context) (int, error) {
	var n int
	err := a.write(ctx, func(w *writer) error {
		cur, ok, err := w.UsageCursor(w.ctx)
		if err != nil || !ok {
			n = 0
			return err
		}
		events, err := w.EventsAfter(w.ctx, cur, usageBatch)
		if err != nil || len(events) == 0 {
			n = 0
			return err
		}
		n = len(events)
		ag := &aggregation{w: w, pending: map[string]*time.Time{}, kinds: map[string]bool{},
			periods: map[store.PeriodKey]*store.PeriodDelta{}, subjects: map[store.SubjectKey]*store.SubjectDelta{}}
		for _, e := range events {
			if err := ag.add(e); err != nil {
				return err
			}
		}
		if err := w.AddPeriodUsage(w.ctx, ag.periods); err != nil {
			return err
		}
		if err := w.AddSubjectUsage(w.ctx, ag.subjects); err != nil {
			return err
		}
		for binder, since := range ag.pending {
			var t time.Time
			if since != nil {
				t = *since
			}
			if err := w.SetPending(w.ctx, binder, t); err != nil {
				return err
			}
		}
		return w.SetUsageCursor(w.ctx, events[len(events)-1].Pos)
	})
	return n, err
}

// aggregation is one step's work in progress.
type aggregation struct {
	w       *writer
	pending map[string]*time.Time // binder → earliest unanswered client message (nil: none)
	kinds   map[string]bool       // user → is a client
	// periods and subjects are the day and week totals, and the daily and
	// weekly figures of users and binders, that the activity adds to.
	periods  map[store.PeriodKey]*store.PeriodDelta
	subjects map[store.SubjectKey]*store.SubjectDelta
}

// weekOf is the day number of the Monday of a day's week.
func weekOf(day int64) int64 { return day - (day+3)%7 } // 1970-01-01 was a Thursday

// activity adds messages, files and a response (bucket, or -1) of user
// in binder on day to the period totals and weekly figures.
func (ag *aggregation) activity(orgID, binderID, userID string, client bool, day, messages, files int64, bucket int) {
	for _, k := range []store.PeriodKey{{OrgID: orgID, Grain: "d", Period: day}, {OrgID: orgID, Grain: "w", Period: weekOf(day)}} {
		p := ag.periods[k]
		if p == nil {
			p = &store.PeriodDelta{Subjects: map[string]bool{}, Responses: map[int]int64{}}
			ag.periods[k] = p
		}
		p.Messages += messages
		p.Files += files
		p.Subjects["u:"+userID] = client
		p.Subjects["b:"+binderID] = false
		if bucket >= 0 {
			p.Responses[bucket]++
		}
	}
	for _, subject := range []string{"u:" + userID, "b:" + binderID} {
		for _, k := range []store.SubjectKey{{OrgID: orgID, Grain: "d", Period: day, Subject: subject},
			{OrgID: orgID, Grain: "w", Period: weekOf(day), Subject: subject}} {
			d := ag.subjects[k]
			if d == nil {
				d = &store.SubjectDelta{Client: client && subject[0] == 'u', Responses: map[int]int64{}}
				ag.subjects[k] = d
			}
			d.Messages += messages
			d.Files += files
			if bucket >= 0 {
				d.Responses[bucket]++
			}
		}
	}
}

// isClient reports whether a user is a client, reading each user once
// per step.
func (ag *aggregation) isClient(userID string) (bool, error) {
	client, ok := ag.kinds[userID]
	if !ok {
		u, err := ag.w.GetUser(ag.w.ctx, userID)
		if err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
			return false, err
		}
		client = u != nil && u.Kind == atrium.KindClient
		ag.kinds[userID] = client
	}
	return client, nil
}

// pendingOf returns a binder's unanswered client message time, reading
// it once per step.
func (ag *aggregation) pendingOf(binderID string) (*time.Time, error) {
	if p, ok := ag.pending[binderID]; ok {
		return p, nil
	}
	since, ok, err := ag.w.PendingSince(ag.w.ctx, binderID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	return &since, nil
}

func (ag *aggregation) add(e *atrium.Event) error {
	switch e.Type {
	case atrium.EventMessageCreated:
		var m atrium.Message
		if err := json.Unmarshal(e.Payload, &m); err != nil {
			return nil // not ours to judge: skip what does not decode
		}
		client, err := ag.isClient(m.SenderID)
		if err != nil {
			return err
		}
		pending, err := ag.pendingOf(m.BinderID)
		if err != nil {
			return err
		}
		bucket := -1
		switch {
		case client && pending == nil:
			t := m.CreatedAt
			ag.pending[m.BinderID] = &t
		case !client && pending != nil:
			bucket = responseBucket(m.CreatedAt.Sub(*pending))
			ag.pending[m.BinderID] = nil
		default:
			ag.pending[m.BinderID] = pending
		}
		ag.activity(e.OrgID, m.BinderID, m.SenderID, client, dayOf(m.CreatedAt), 1, 0, bucket)
	case atrium.EventFileCreated:
		var f atrium.File
		if err := json.Unmarshal(e.Payload, &f); err != nil {
			return nil
		}
		client, err := ag.isClient(f.CreatedBy)
		if err != nil {
			return err
		}
		ag.activity(e.OrgID, f.BinderID, f.CreatedBy, client, dayOf(f.CreatedAt), 0, 1, -1)
	}
	return nil
}

// Report intervals.
const (
	IntervalDay  = "day"
	IntervalWeek = "week"
)

// maxReportRange bounds a report's range.
const maxReportRange = 5 * 366 * 24 * time.Hour

// UsageReport is usage and engagement over a range, per interval and in
// total, with per-user and per-binder breakdowns.
type UsageReport struct {
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	Interval  string           `json:"interval"`
	Intervals []*UsageFigures  `json:"intervals"`
	Total     *UsageFigures    `json:"total"`
	Users     []*UsageByUser   `json:"users"`
	Binders   []*UsageByBinder `json:"binders"`
}

// UsageFigures are one interval's (or the range's) figures.
type UsageFigures struct {
	Start                time.Time `json:"start"`
	ActiveInternalUsers  int       `json:"active_internal_users"`
	ActiveClientUsers    int       `json:"active_client_users"`
	Messages             int64     `json:"messages"`
	FilesShared          int64     `json:"files_shared"`
	ActiveBinders        int       `json:"active_binders"`
	Responses            int64     `json:"responses"`
	MedianFirstResponseS *float64  `json:"median_first_response_seconds"`
}

// UsageByUser is one user's figures over the range.
type UsageByUser struct {
	UserID               string   `json:"user_id"`
	Client               bool     `json:"client"`
	Messages             int64    `json:"messages"`
	FilesShared          int64    `json:"files_shared"`
	Responses            int64    `json:"responses"`
	MedianFirstResponseS *float64 `json:"median_first_response_seconds"`
}

// UsageByBinder is one binder's figures over the range.
type UsageByBinder struct {
	BinderID             string   `json:"binder_id"`
	Messages             int64    `json:"messages"`
	FilesShared          int64    `json:"files_shared"`
	Responses            int64    `json:"responses"`
	MedianFirstResponseS *float64 `json:"median_first_response_seconds"`
}

// figures accumulates one group's aggregates.
type figures struct {
	internal, clients, binders map[string]bool
	messages, files            int64
	hist                       map[int]int64
}

func newFigures() *figures {
	return &figures{internal: map[string]bool{}, clients: map[string]bool{}, binders: map[string]bool{}, hist: map[int]int64{}}
}

// addSubject adds a user's or binder's figures for a day: messages,
// files and responses count from the user's row (the binder's repeats
// them), and each names an active user or binder.
func (f *figures) addSubject(r store.SubjectRow) {
	id := r.Subject[2:]
	if r.Subject[0] == 'b' {
		f.binders[id] = true
		return
	}
	if r.Client {
		f.clients[id] = true
	} else {
		f.internal[id] = true
	}
	f.messages += r.Messages
	f.files += r.Files
	for b, n := range store.ParseHistogram(r.Hist) {
		f.hist[b] += n
	}
}

// median reads the median response time from the histogram.
func (f *figures) median() (int64, *float64) {
	var total int64
	buckets := make([]int, 0, len(f.hist))
	for b, n := range f.hist {
		total += n
		buckets = append(buckets, b)
	}
	if total == 0 {
		return 0, nil
	}
	sort.Ints(buckets)
	var seen int64
	for _, b := range buckets {
		seen += f.hist[b]
		if 2*seen >= total {
			m := math.Round(bucketMid(b)*10) / 10
			return total, &m
		}
	}
	return total, nil
}

// Usage reports the organisation's usage from from to to (administrators
// only), per day or week (weeks start on Monday, UTC). It reads the
// maintained day and week totals and the weekly figures of users and
// binders; only the days of weeks the range cuts are read finer.
func (a *App) Usage(ctx context.Context, from, to time.Time, interval string) (*UsageReport, error) {
	act, err := a.adminOf(ctx, "report.usage")
	if err != nil {
		return nil, err
	}
	switch {
	case interval != IntervalDay && interval != IntervalWeek:
		return nil, atrium.Errorf(atrium.EInvalid, "interval must be day or week")
	case from.IsZero() || to.IsZero():
		return nil, atrium.Errorf(atrium.EInvalid, "from and to are required")
	case !to.After(from):
		return nil, atrium.Errorf(atrium.EInvalid, "to must be after from")
	case to.Sub(from) > maxReportRange:
		return nil, atrium.Errorf(atrium.EInvalid, "the range spans more than five years")
	}
	org := act.User.OrgID
	first, last := dayOf(from), dayOf(to.Add(-time.Millisecond))
	// The weeks wholly inside the range, and the days around them.
	fw0, fw1 := weekOf(first+6), weekOf(last+1)-7
	var edges []store.SubjectRow // the daily figures of the days around whole weeks
	addEdge := func(d0, d1 int64) error {
		if d0 > d1 {
			return nil
		}
		rows, err := a.store.SubjectsBetween(ctx, org, "d", d0, d1)
		edges = append(edges, rows...)
		return err
	}
	if fw0 > fw1 {
		err = addEdge(first, last)
	} else if err = addEdge(first, fw0-1); err == nil {
		err = addEdge(fw1+7, last)
	}
	if err != nil {
		return nil, err
	}

	rep := &UsageReport{From: from, To: to, Interval: interval, Intervals: []*UsageFigures{}, Users: []*UsageByUser{}, Binders: []*UsageByBinder{}}
	days, err := a.store.PeriodsBetween(ctx, org, "d", first, last)
	if err != nil {
		return nil, err
	}
	total := newFigures()
	byDay := map[int64]store.PeriodRow{}
	for _, d := range days {
		byDay[d.Period] = d
		total.messages += d.Messages
		total.files += d.Files
		for b, n := range d.Hist {
			total.hist[b] += n
		}
	}
	if interval == IntervalDay {
		for d := first; d <= last; d++ {
			rep.Intervals = append(rep.Intervals, periodSummary(d, byDay[d]))
		}
	} else if err := a.weekIntervals(ctx, rep, org, first, last, fw0, fw1, edges); err != nil {
		return nil, err
	}

	// Who and which binders were active over the whole range, and their
	// figures: whole weeks from the weekly figures, the days around them
	// from the daily rows.
	users, binders := map[string]*figures{}, map[string]*figures{}
	clientOf := map[string]bool{}
	get := func(m map[string]*figures, k string) *figures {
		if m[k] == nil {
			m[k] = newFigures()
		}
		return m[k]
	}
	var subjects []store.SubjectRow
	if fw0 <= fw1 {
		if subjects, err = a.store.SubjectsBetween(ctx, org, "w", fw0, fw1); err != nil {
			return nil, err
		}
	}
	for _, r := range append(subjects, edges...) {
		m, id := users, r.Subject[2:]
		if r.Subject[0] == 'b' {
			m = binders
		} else {
			clientOf[id] = r.Client
		}
		f := get(m, id)
		f.messages += r.Messages
		f.files += r.Files
		for b, n := range store.ParseHistogram(r.Hist) {
			f.hist[b] += n
		}
	}
	for id := range users {
		if clientOf[id] {
			total.clients[id] = true
		} else {
			total.internal[id] = true
		}
	}
	for id := range binders {
		total.binders[id] = true
	}
	rep.Total = total.summary(from)
	for id, f := range users {
		n, m := f.median()
		rep.Users = append(rep.Users, &UsageByUser{UserID: id, Client: clientOf[id], Messages: f.messages, FilesShared: f.files,
			Responses: n, MedianFirstResponseS: m})
	}
	sort.Slice(rep.Users, func(i, j int) bool { return rep.Users[i].UserID < rep.Users[j].UserID })
	for id, f := range binders {
		n, m := f.median()
		rep.Binders = append(rep.Binders, &UsageByBinder{BinderID: id, Messages: f.messages, FilesShared: f.files,
			Responses: n, MedianFirstResponseS: m})
	}
	sort.Slice(rep.Binders, func(i, j int) bool { return rep.Binders[i].BinderID < rep.Binders[j].BinderID })
	return rep, nil
}

// weekIntervals adds the report's weeks: whole weeks from the week
// totals, weeks the range cuts from the daily rows of their days in it.
func (a *App) weekIntervals(ctx context.Context, rep *UsageReport, org string, first, last, fw0, fw1 int64,
	edges []store.SubjectRow) error {
	weeks, err := a.store.PeriodsBetween(ctx, org, "w", fw0, fw1)
	if err != nil {
		return err
	}
	byWeek := map[int64]store.PeriodRow{}
	for _, w := range weeks {
		byWeek[w.Period] = w
	}
	cut := map[int64]*figures{}
	for _, r := range edges {
		w := weekOf(r.Period)
		if cut[w] == nil {
			cut[w] = newFigures()
		}
		cut[w].addSubject(r)
	}
	for w := weekOf(first); w <= last; w += 7 {
		start := time.Unix(w*86400, 0).UTC()
		if w >= fw0 && w <= fw1 {
			rep.Intervals = append(rep.Intervals, periodSummary(w, byWeek[w]))
			continue
		}
		f := cut[w]
		if f == nil {
			f = newFigures()
		}
		rep.Intervals = append(rep.Intervals, f.summary(start))
	}
	return nil
}

// periodSummary is the figures of a day or week from its totals.
func periodSummary(period int64, r store.PeriodRow) *UsageFigures {
	f := &figures{hist: r.Hist}
	n, m := f.median()
	return &UsageFigures{Start: time.Unix(period*86400, 0).UTC(), ActiveInternalUsers: int(r.InternalUsers),
		ActiveClientUsers: int(r.ClientUsers), Messages: r.Messages, FilesShared: r.Files, ActiveBinders: int(r.Binders),
		Responses: n, MedianFirstResponseS: m}
}

func (f *figures) summary(start time.Time) *UsageFigures {
	n, m := f.median()
	return &UsageFigures{Start: start, ActiveInternalUsers: len(f.internal), ActiveClientUsers: len(f.clients),
		Messages: f.messages, FilesShared: f.files, ActiveBinders: len(f.binders), Responses: n, MedianFirstResponseS: m}
}
