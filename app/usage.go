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
		cur, err := w.UsageCursor(w.ctx)
		if err != nil {
			return err
		}
		events, err := w.EventsAfter(w.ctx, cur, usageBatch)
		if err != nil || len(events) == 0 {
			n = 0
			return err
		}
		n = len(events)
		ag := &aggregation{w: w, a: a, deltas: map[store.UsageKey]*store.UsageDelta{}, pending: map[string]*time.Time{}, kinds: map[string]bool{}}
		for _, e := range events {
			if err := ag.add(e); err != nil {
				return err
			}
		}
		if err := w.AddUsage(w.ctx, ag.deltas); err != nil {
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
	a       *App
	deltas  map[store.UsageKey]*store.UsageDelta
	pending map[string]*time.Time // binder → earliest unanswered client message (nil: none)
	kinds   map[string]bool       // user → is a client
}

func (ag *aggregation) delta(orgID, binderID, userID string, t time.Time) (*store.UsageDelta, error) {
	client, ok := ag.kinds[userID]
	if !ok {
		u, err := ag.w.GetUser(ag.w.ctx, userID)
		if err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
			return nil, err
		}
		client = u != nil && u.Kind == atrium.KindClient
		ag.kinds[userID] = client
	}
	k := store.UsageKey{OrgID: orgID, BinderID: binderID, UserID: userID, Day: dayOf(t)}
	d := ag.deltas[k]
	if d == nil {
		d = &store.UsageDelta{Client: client}
		ag.deltas[k] = d
	}
	return d, nil
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
		d, err := ag.delta(e.OrgID, m.BinderID, m.SenderID, m.CreatedAt)
		if err != nil {
			return err
		}
		d.Messages++
		pending, err := ag.pendingOf(m.BinderID)
		if err != nil {
			return err
		}
		switch {
		case d.Client && pending == nil:
			t := m.CreatedAt
			ag.pending[m.BinderID] = &t
		case !d.Client && pending != nil:
			if d.Responses == nil {
				d.Responses = map[int]int64{}
			}
			d.Responses[responseBucket(m.CreatedAt.Sub(*pending))]++
			ag.pending[m.BinderID] = nil
		default:
			ag.pending[m.BinderID] = pending
		}
	case atrium.EventFileCreated:
		var f atrium.File
		if err := json.Unmarshal(e.Payload, &f); err != nil {
			return nil
		}
		d, err := ag.delta(e.OrgID, f.BinderID, f.CreatedBy, f.CreatedAt)
		if err != nil {
			return err
		}
		d.Files++
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
	ActiveUsers          int      `json:"active_users"`
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

func (f *figures) addRow(r store.UsageRow) {
	f.messages += r.Messages
	f.files += r.Files
	if r.Client {
		f.clients[r.UserID] = true
	} else {
		f.internal[r.UserID] = true
	}
	f.binders[r.BinderID] = true
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
// only), per day or week (weeks start on Monday, UTC), from the maintained
// aggregates.
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
	first, last := dayOf(from), dayOf(to.Add(-time.Millisecond))
	rows, resp, err := a.store.UsageBetween(ctx, act.User.OrgID, first, last)
	if err != nil {
		return nil, err
	}
	start := func(day int64) int64 {
		if interval == IntervalWeek {
			return day - (day+3)%7 // 1970-01-01 was a Thursday; weeks start on Monday
		}
		return day
	}
	groups := map[int64]*figures{}
	total := newFigures()
	users, binders := map[string]*figures{}, map[string]*figures{}
	clientOf := map[string]bool{}
	get := func(m map[string]*figures, k string) *figures {
		if m[k] == nil {
			m[k] = newFigures()
		}
		return m[k]
	}
	for _, r := range rows {
		s := start(r.Day)
		if groups[s] == nil {
			groups[s] = newFigures()
		}
		groups[s].addRow(r)
		total.addRow(r)
		get(users, r.UserID).addRow(r)
		get(binders, r.BinderID).addRow(r)
		clientOf[r.UserID] = r.Client
	}
	for _, r := range resp {
		s := start(r.Day)
		if groups[s] == nil {
			groups[s] = newFigures()
		}
		groups[s].hist[r.Bucket] += r.N
		total.hist[r.Bucket] += r.N
		get(users, r.UserID).hist[r.Bucket] += r.N
		get(binders, r.BinderID).hist[r.Bucket] += r.N
	}
	rep := &UsageReport{From: from, To: to, Interval: interval, Intervals: []*UsageFigures{}, Users: []*UsageByUser{}, Binders: []*UsageByBinder{}}
	step := int64(1)
	if interval == IntervalWeek {
		step = 7
	}
	for s := start(first); s <= last; s += step {
		f := groups[s]
		if f == nil {
			f = newFigures()
		}
		rep.Intervals = append(rep.Intervals, f.summary(time.Unix(s*86400, 0).UTC()))
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
			ActiveUsers: len(f.internal) + len(f.clients), Responses: n, MedianFirstResponseS: m})
	}
	sort.Slice(rep.Binders, func(i, j int) bool { return rep.Binders[i].BinderID < rep.Binders[j].BinderID })
	return rep, nil
}

func (f *figures) summary(start time.Time) *UsageFigures {
	n, m := f.median()
	return &UsageFigures{Start: start, ActiveInternalUsers: len(f.internal), ActiveClientUsers: len(f.clients),
		Messages: f.messages, FilesShared: f.files, ActiveBinders: len(f.binders), Responses: n, MedianFirstResponseS: m}
}
