package store_test

import (
	"context"
	"database/sql"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// forEachDialect runs a test on a fresh store of every dialect.
func forEachDialect(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, storetest.Open(t, d))
		})
	}
}

func TestMigrationTreesMatch(t *testing.T) {
	names := map[string][]string{}
	for _, d := range storetest.Dialects {
		fsys, err := store.MigrationFS(d)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			names[d] = append(names[d], e.Name())
			body, _ := fs.ReadFile(fsys, e.Name())
			up, _, _ := strings.Cut(string(body), "-- +goose Down")
			for _, bad := range []string{"DROP TABLE", "DROP COLUMN", "TRUNCATE", "DELETE FROM"} {
				if strings.Contains(strings.ToUpper(up), bad) {
					t.Errorf("%s/%s: an up migration must never drop user data (%s)", d, e.Name(), bad)
				}
			}
		}
	}
	if strings.Join(names["sqlite"], ",") != strings.Join(names["postgres"], ",") {
		t.Fatalf("migration trees differ: sqlite %v, postgres %v", names["sqlite"], names["postgres"])
	}
	if len(names["sqlite"]) == 0 {
		t.Fatal("no migrations embedded")
	}
}

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg := storetest.NewConfig(t, d)
			s := storetest.OpenConfig(t, cfg)
			applied, err := s.Migrate(ctx)
			if err != nil || len(applied) != 0 {
				t.Fatalf("second migrate: applied %v, err %v", applied, err)
			}
			cur, known, err := s.SchemaVersion(ctx)
			if err != nil || cur != known || cur == 0 {
				t.Fatalf("version %d known %d err %v", cur, known, err)
			}
			// A newer binary has migrated this database further.
			if err := s.Tx(ctx, func(tx *store.Tx) error {
				return tx.ExecRaw(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, known+1)
			}); err != nil {
				t.Fatal(err)
			}
			err = s.CheckSchema(ctx)
			if atrium.ErrorCode(err) != atrium.EUpgrade || !strings.Contains(err.Error(), "upgrade atrium") {
				t.Fatalf("CheckSchema on a newer schema: %v", err)
			}
			if _, err := s.Migrate(ctx); atrium.ErrorCode(err) != atrium.EUpgrade {
				t.Fatalf("Migrate on a newer schema: %v", err)
			}
		})
	}
}

// fixture makes an org, two users and a binder with the first user as owner.
type fixture struct {
	org    *atrium.Org
	owner  *atrium.User
	client *atrium.User
	binder *atrium.Binder
}

var t0 = time.UnixMilli(1_800_000_000_000).UTC()

func newFixture(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{
		org: &atrium.Org{ID: atrium.NewID(), Name: "Acme", Settings: atrium.DefaultOrgSettings(), CreatedAt: t0, UpdatedAt: t0},
	}
	f.owner = &atrium.User{ID: atrium.NewID(), OrgID: f.org.ID, Email: atrium.NewID() + "@acme.test", Name: "Owner",
		Kind: atrium.KindInternal, Role: atrium.OrgRoleOwner, Status: atrium.StatusActive, CreatedAt: t0, UpdatedAt: t0}
	f.client = &atrium.User{ID: atrium.NewID(), OrgID: f.org.ID, Email: atrium.NewID() + "@client.test", Name: "Client",
		Kind: atrium.KindClient, Role: atrium.OrgRoleMember, Status: atrium.StatusActive, CreatedAt: t0, UpdatedAt: t0}
	f.binder = &atrium.Binder{BinderInfo: atrium.BinderInfo{ID: atrium.NewID(), OrgID: f.org.ID, Title: "Deal", CreatedBy: f.owner.ID, CreatedAt: t0, UpdatedAt: t0}}
	err := s.Tx(ctx, func(tx *store.Tx) error {
		for _, step := range []func() error{
			func() error { return tx.CreateOrg(ctx, f.org) },
			func() error { return tx.CreateUser(ctx, f.owner) },
			func() error { return tx.CreateUser(ctx, f.client) },
			func() error { return tx.CreateBinder(ctx, f.binder) },
			func() error {
				return tx.AddMember(ctx, &atrium.Member{BinderID: f.binder.ID, UserID: f.owner.ID,
					Role: atrium.BinderRoleOwner, AddedBy: f.owner.ID, CreatedAt: t0})
			},
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUsersAndOrgs(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		got, err := s.GetOrgUserByEmail(ctx, f.org.ID, f.owner.Email)
		if err != nil || got.ID != f.owner.ID || got.Role != atrium.OrgRoleOwner || !got.CreatedAt.Equal(t0) {
			t.Fatalf("GetOrgUserByEmail: %+v %v", got, err)
		}
		// Another organisation may use the same address.
		other := &atrium.Org{ID: atrium.NewID(), Name: "Other", Settings: atrium.DefaultOrgSettings(), CreatedAt: t0, UpdatedAt: t0}
		twin := *f.owner
		twin.ID, twin.OrgID = atrium.NewID(), other.ID
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateOrg(ctx, other); err != nil {
				return err
			}
			return tx.CreateUser(ctx, &twin)
		}); err != nil {
			t.Fatalf("same address in another organisation: %v", err)
		}
		if both, err := s.UsersByEmail(ctx, f.owner.Email, 10); err != nil || len(both) != 2 {
			t.Fatalf("UsersByEmail: %v %v", both, err)
		}
		dup := *f.client
		dup.ID = atrium.NewID()
		err = s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, &dup) })
		if atrium.ErrorCode(err) != atrium.EConflict {
			t.Fatalf("duplicate email: %v", err)
		}
		if _, err := s.GetUser(ctx, atrium.NewID()); atrium.ErrorCode(err) != atrium.ENotFound {
			t.Fatalf("unknown user: %v", err)
		}
		users, err := s.ListUsers(ctx, f.org.ID, "", 1)
		if err != nil || len(users) != 1 {
			t.Fatalf("page 1: %v %v", users, err)
		}
		rest, err := s.ListUsers(ctx, f.org.ID, users[0].ID, 10)
		if err != nil || len(rest) != 1 || rest[0].ID == users[0].ID {
			t.Fatalf("page 2: %v %v", rest, err)
		}
		o, err := s.GetOrg(ctx, f.org.ID)
		if err != nil || o.Name != "Acme" || o.Settings.DefaultLocale != "en" {
			t.Fatalf("GetOrg: %+v %v", o, err)
		}
		if n, _ := s.CountOrgs(ctx); n != 2 {
			t.Fatalf("CountOrgs = %d", n)
		}
	})
}

func TestBindersMembersMessages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		ids, err := s.MemberIDsByEmails(ctx, f.binder.ID, []string{f.client.Email, "nobody@x.test", f.owner.Email})
		if err != nil || len(ids) != 1 || ids[0] != f.owner.ID {
			t.Fatalf("mentionable members before the client joins: %v %v", ids, err)
		}
		b, m, err := s.GetBinderForUser(ctx, f.binder.ID, f.client.ID)
		if err != nil || b == nil || m != nil {
			t.Fatalf("non-member: %v %v %v", b, m, err)
		}
		err = s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.AddMember(ctx, &atrium.Member{BinderID: f.binder.ID, UserID: f.client.ID,
				Role: atrium.BinderRoleEditor, AddedBy: f.owner.ID, CreatedAt: t0}); err != nil {
				return err
			}
			for i := 1; i <= 3; i++ {
				sender := f.owner.ID
				if i == 3 {
					sender = f.client.ID
				}
				m := &atrium.Message{ID: atrium.NewID(), BinderID: f.binder.ID,
					SenderID: sender, Text: "hello", ClientKey: "k" + string(rune('0'+i)), CreatedAt: t0}
				if err := tx.CreateMessageNextSeq(ctx, m); err != nil {
					return err
				}
				if m.Seq != int64(i) {
					t.Errorf("seq %d, want %d", m.Seq, i)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		again := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.AddMember(ctx, &atrium.Member{BinderID: f.binder.ID, UserID: f.client.ID,
				Role: atrium.BinderRoleEditor, AddedBy: f.owner.ID, CreatedAt: t0})
		})
		if atrium.ErrorCode(again) != atrium.EConflict {
			t.Fatalf("second AddMember: %v", again)
		}
		if ids, _ := s.MemberIDsByEmails(ctx, f.binder.ID, []string{f.client.Email, f.owner.Email}); len(ids) != 2 || ids[0] != f.client.ID {
			t.Fatalf("mentionable members in the order named: %v", ids)
		}
		list, err := s.ListBindersForUser(ctx, f.client.ID, "", 10)
		if err != nil || len(list) != 1 || list[0].Unread != 2 || list[0].MyRole != atrium.BinderRoleEditor {
			t.Fatalf("client binders: %+v %v", list, err)
		}
		msgs, err := s.ListMessages(ctx, f.binder.ID, 1, 0, 10)
		if err != nil || len(msgs) != 2 || msgs[0].Seq != 2 {
			t.Fatalf("after 1: %v %v", msgs, err)
		}
		back, err := s.ListMessages(ctx, f.binder.ID, 0, 3, 10)
		if err != nil || len(back) != 2 || back[0].Seq != 2 || back[1].Seq != 1 {
			t.Fatalf("before 3: %v %v", back, err)
		}
		moved, err := s.SetReadSeqForTest(ctx, f.binder.ID, f.client.ID, 2)
		if err != nil || !moved {
			t.Fatalf("read to 2: %v %v", moved, err)
		}
		moved, _ = s.SetReadSeqForTest(ctx, f.binder.ID, f.client.ID, 1)
		if moved {
			t.Fatal("read position moved backwards")
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.TombstoneMessage(ctx, f.binder.ID, msgs[0].ID, t0)
		}); err != nil {
			t.Fatal(err)
		}
		gone, err := s.GetMessage(ctx, f.binder.ID, msgs[0].ID)
		if err != nil || !gone.Deleted || gone.Text != "" || gone.Seq != 2 {
			t.Fatalf("tombstone: %+v %v", gone, err)
		}
		dupKey := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.CreateMessage(ctx, &atrium.Message{ID: atrium.NewID(), BinderID: f.binder.ID, Seq: 99,
				SenderID: f.owner.ID, Text: "x", ClientKey: "k1", CreatedAt: t0})
		})
		if atrium.ErrorCode(dupKey) != atrium.EConflict {
			t.Fatalf("reused client key: %v", dupKey)
		}
	})
}

func TestSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		var ids []string
		for i := 0; i < 3; i++ {
			sess := &atrium.Session{ID: atrium.NewID(), UserID: f.owner.ID, OrgID: f.org.ID,
				TokenHash: []byte{byte(i), 1, 2}, DeviceName: "d", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateSession(ctx, sess) }); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sess.ID)
		}
		got, err := s.GetSessionByTokenHash(ctx, []byte{1, 1, 2})
		if err != nil || got.ID != ids[1] {
			t.Fatalf("by hash: %v %v", got, err)
		}
		var revoked []string
		s.Tx(ctx, func(tx *store.Tx) (err error) {
			revoked, err = tx.RevokeSessions(ctx, f.owner.ID, "", ids[0], t0)
			return err
		})
		if len(revoked) != 2 {
			t.Fatalf("revoked %v", revoked)
		}
		live, err := s.ListLiveSessions(ctx, f.owner.ID, t0, "", 10)
		if err != nil || len(live) != 1 || live[0].ID != ids[0] {
			t.Fatalf("live: %v %v", live, err)
		}
		if live, _ := s.ListLiveSessions(ctx, f.owner.ID, t0.Add(2*time.Hour), "", 10); len(live) != 0 {
			t.Fatal("expired session listed as live")
		}
	})
}

func TestEventsOrderAndPositions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		if p, err := s.LastEventPos(ctx); err != nil || !p.IsZero() {
			t.Fatalf("empty outbox: %v %v", p, err)
		}
		for i := 0; i < 5; i++ {
			err := s.Tx(ctx, func(tx *store.Tx) error {
				return tx.AppendEvent(ctx, &atrium.Event{Type: atrium.EventMessageCreated, OrgID: f.org.ID,
					BinderID: f.binder.ID, Kind: "message", Payload: []byte(`{"n":1}`), CreatedAt: t0})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.EventsAfter(ctx, atrium.Pos{}, 100)
		if err != nil || len(all) != 5 {
			t.Fatalf("events: %d %v", len(all), err)
		}
		for i := 1; i < len(all); i++ {
			if !all[i-1].Pos.Less(all[i].Pos) {
				t.Fatalf("events out of order: %v then %v", all[i-1].Pos, all[i].Pos)
			}
		}
		tail, _ := s.EventsAfter(ctx, all[2].Pos, 100)
		if len(tail) != 2 || tail[0].Pos != all[3].Pos {
			t.Fatalf("after 3rd: %v", tail)
		}
		last, _ := s.LastEventPos(ctx)
		if last != all[4].Pos {
			t.Fatalf("last %v, want %v", last, all[4].Pos)
		}
		if ok, _ := s.EventExists(ctx, all[1].Pos); !ok {
			t.Fatal("issued position not found")
		}
		if ok, _ := s.EventExists(ctx, atrium.Pos{Tx: last.Tx + 7, ID: last.ID + 7}); ok {
			t.Fatal("never-issued position found")
		}
	})
}

// An event whose transaction commits late must not be skipped by a reader
// that has already read events committed after it.
func TestEventsOfALateCommitAreNotSkipped(t *testing.T) {
	s := storetest.Open(t, "postgres") // SQLite's writers are serialised: the interleaving cannot happen
	ctx := context.Background()
	f := newFixture(t, s)
	// A writer on another node, say, holds an event uncommitted.
	_, db := s.Pools()
	held, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()
	if _, err := held.ExecContext(ctx, `INSERT INTO events (org_id, binder_id, type, kind, payload, created_at)
		VALUES ($1, $2, 'message.created', 'message', '{}', 0)`, f.org.ID, f.binder.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Tx(ctx, func(tx *store.Tx) error {
		return tx.AppendEvent(ctx, &atrium.Event{Type: atrium.EventMessageCreated, OrgID: f.org.ID, BinderID: f.binder.ID,
			Kind: "message", Payload: []byte(`{}`), CreatedAt: t0})
	}); err != nil {
		t.Fatal(err)
	}
	seen, err := s.EventsAfter(ctx, atrium.Pos{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 0 {
		t.Fatalf("read %d events while an older transaction was open", len(seen))
	}
	if err := held.Commit(); err != nil {
		t.Fatal(err)
	}
	seen, _ = s.EventsAfter(ctx, atrium.Pos{}, 10)
	if len(seen) != 2 || !seen[0].Pos.Less(seen[1].Pos) {
		t.Fatalf("after commit: %d events", len(seen))
	}
}

func TestIdempotencyAndAudit(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		r := &store.IdempotentResult{Op: "POST /x", RequestHash: []byte{1}, Response: `{"id":"1"}`}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.PutIdempotent(ctx, f.owner.ID, "k", r, t0) }); err != nil {
			t.Fatal(err)
		}
		err := s.Tx(ctx, func(tx *store.Tx) error { return tx.PutIdempotent(ctx, f.owner.ID, "k", r, t0) })
		if atrium.ErrorCode(err) != atrium.EConflict {
			t.Fatalf("second put: %v", err)
		}
		got, err := s.GetIdempotent(ctx, f.owner.ID, "k")
		if err != nil || got == nil || got.Response != r.Response {
			t.Fatalf("get: %+v %v", got, err)
		}
		if other, _ := s.GetIdempotent(ctx, f.client.ID, "k"); other != nil {
			t.Fatal("keys leak between users")
		}
		a := &atrium.AuditEntry{ID: atrium.NewID(), OrgID: f.org.ID, ActorID: f.owner.ID, Action: "binder.create",
			TargetType: "binder", TargetID: f.binder.ID, IP: "127.0.0.1", UserAgent: "t", Outcome: atrium.OutcomeSuccess, CreatedAt: t0}
		if err := s.Tx(ctx, func(tx *store.Tx) error { tx.AppendRecords([]*atrium.AuditEntry{a}, nil); return nil }); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListAudit(ctx, f.org.ID, "", 10)
		if err != nil || len(list) != 1 || list[0].Action != "binder.create" || list[0].IP != "127.0.0.1" {
			t.Fatalf("audit: %+v %v", list, err)
		}
		if e := list[0]; e.Seq != 1 || e.PrevHash != "" || e.Hash != e.ChainHash("") {
			t.Fatalf("the first entry of a chain: %+v", e)
		}
	})
}

func TestMembershipAtUndoesLaterJoinsAndLeaves(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		other := &atrium.Binder{BinderInfo: atrium.BinderInfo{ID: atrium.NewID(), OrgID: f.org.ID, Title: "Other", CreatedBy: f.owner.ID, CreatedAt: t0, UpdatedAt: t0}}
		member := func(b *atrium.Binder) *atrium.Member {
			return &atrium.Member{BinderID: b.ID, UserID: f.client.ID, Role: atrium.BinderRoleEditor, AddedBy: f.owner.ID, CreatedAt: t0}
		}
		step := func(fn func(tx *store.Tx) error) atrium.Pos {
			t.Helper()
			if err := s.Tx(ctx, fn); err != nil {
				t.Fatal(err)
			}
			p, err := s.LastEventPos(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		ev := func(tx *store.Tx, typ string, b *atrium.Binder) error {
			return tx.AppendEvent(ctx, &atrium.Event{Type: typ, OrgID: f.org.ID, BinderID: b.ID, UserID: f.client.ID,
				Kind: "member", Payload: []byte(`{}`), CreatedAt: t0})
		}
		p0 := step(func(tx *store.Tx) error {
			if err := tx.CreateBinder(ctx, other); err != nil {
				return err
			}
			if err := tx.AddMember(ctx, member(f.binder)); err != nil {
				return err
			}
			return ev(tx, atrium.EventMemberAdded, f.binder)
		})
		p1 := step(func(tx *store.Tx) error {
			if err := tx.AddMember(ctx, member(other)); err != nil {
				return err
			}
			return ev(tx, atrium.EventMemberAdded, other)
		})
		step(func(tx *store.Tx) error {
			if err := tx.RemoveMember(ctx, f.binder.ID, f.client.ID); err != nil {
				return err
			}
			return ev(tx, atrium.EventMemberRemoved, f.binder)
		})
		for _, c := range []struct {
			at   atrium.Pos
			want []string
		}{
			{atrium.Pos{}, nil},
			{p0, []string{f.binder.ID}},
			{p1, []string{f.binder.ID, other.ID}},
		} {
			got, err := s.MembershipAt(ctx, f.client.ID, c.at)
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(got)
			want := append([]string(nil), c.want...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("membership at %v = %v, want %v", c.at, got, want)
			}
		}
		now, _ := s.LastEventPos(ctx)
		if got, _ := s.MembershipAt(ctx, f.client.ID, now); len(got) != 1 || got[0] != other.ID {
			t.Errorf("membership now = %v", got)
		}
	})
}

func TestAppendRecordsAndCreateMessageNextSeq(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		audit := func(action string) *atrium.AuditEntry {
			return &atrium.AuditEntry{ID: atrium.NewID(), OrgID: f.org.ID, ActorID: f.owner.ID, Action: action,
				TargetType: "binder", TargetID: f.binder.ID, Outcome: atrium.OutcomeSuccess, CreatedAt: t0}
		}
		var events []*atrium.Event
		for _, typ := range []string{atrium.EventMemberAdded, atrium.EventBinderCreated, atrium.EventMessageCreated} {
			events = append(events, &atrium.Event{Type: typ, OrgID: f.org.ID, BinderID: f.binder.ID, Kind: "x",
				Payload: []byte(`{}`), CreatedAt: t0})
		}
		var msg *atrium.Message
		err := s.Tx(ctx, func(tx *store.Tx) error {
			for i := int64(1); i <= 2; i++ {
				msg = &atrium.Message{ID: atrium.NewID(), BinderID: f.binder.ID, SenderID: f.owner.ID, Text: "t", CreatedAt: t0}
				if err := tx.CreateMessageNextSeq(ctx, msg); err != nil {
					return err
				}
				if msg.Seq != i {
					t.Errorf("seq %d, want %d", msg.Seq, i)
				}
			}
			tx.AppendRecords([]*atrium.AuditEntry{audit("a.one")}, events[:1])
			tx.AppendRecords([]*atrium.AuditEntry{audit("a.two")}, events[1:])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.EventsAfter(ctx, atrium.Pos{}, 10)
		if len(got) != 3 || got[0].Type != atrium.EventMemberAdded || got[2].Type != atrium.EventMessageCreated {
			t.Fatalf("events %v", got)
		}
		if list, _ := s.ListAudit(ctx, f.org.ID, "", 10); len(list) != 2 {
			t.Fatalf("%d audit entries", len(list))
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { tx.AppendRecords(nil, nil); return nil }); err != nil {
			t.Fatalf("nothing to record: %v", err)
		}
		err = s.Tx(ctx, func(tx *store.Tx) error {
			tx.AppendRecords([]*atrium.AuditEntry{audit("a.failed")}, events)
			return atrium.Errorf(atrium.EForbidden, "refused")
		})
		if atrium.ErrorCode(err) != atrium.EForbidden {
			t.Fatalf("failing change: %v", err)
		}
		if got, _ := s.EventsAfter(ctx, atrium.Pos{}, 10); len(got) != 3 {
			t.Fatalf("a failed change left events: %d", len(got))
		}
		if list, _ := s.ListAudit(ctx, f.org.ID, "", 10); len(list) != 2 {
			t.Fatalf("a failed change left audit entries: %d", len(list))
		}
		err = s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.DeleteBinder(ctx, f.binder.ID, t0); err != nil {
				return err
			}
			return tx.CreateMessageNextSeq(ctx, &atrium.Message{ID: atrium.NewID(), BinderID: f.binder.ID, SenderID: f.owner.ID, Text: "t", CreatedAt: t0})
		})
		if atrium.ErrorCode(err) != atrium.ENotFound {
			t.Fatalf("a message into a deleted binder: %v", err)
		}
	})
}

// Under concurrent writers the horizon stays at the cluster's current
// transaction ids: it never drops a wraparound epoch below them.
func TestEventHorizonUnderConcurrentWriters(t *testing.T) {
	s := storetest.Open(t, "postgres")
	ctx := context.Background()
	_, db := s.Pools()
	var base int64
	if err := db.QueryRowContext(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&base); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					return
				}
				tx.ExecContext(ctx, `INSERT INTO events (org_id, type, payload, created_at) VALUES ('o', 't', '{}', 0)`)
				tx.Commit()
			}
		}()
	}
	for i := 0; i < 200; i++ {
		h, err := s.EventHorizonForTest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h < base {
			close(stop)
			wg.Wait()
			t.Fatalf("horizon %d is below the ids in use (%d)", h, base)
		}
	}
	close(stop)
	wg.Wait()
}

// A message planned on an older read of its binder goes in only while the
// binder's membership is unchanged. On PostgreSQL this holds even when the
// change commits while the insert waits for the binder's row.
func TestCreateMessageIfACL(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		b, _, err := s.GetBinderForUser(ctx, f.binder.ID, f.owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		post := func(version int64) (bool, error) {
			var ok bool
			err := s.Tx(ctx, func(tx *store.Tx) (err error) {
				ok, err = tx.CreateMessageIfACL(ctx, &atrium.Message{ID: atrium.NewID(), BinderID: b.ID, SenderID: f.owner.ID,
					Text: "t", CreatedAt: t0}, version)
				return err
			})
			return ok, err
		}
		if ok, err := post(b.ACLVersion); !ok || err != nil {
			t.Fatalf("unchanged membership: %v, %v", ok, err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.AddMember(ctx, &atrium.Member{BinderID: b.ID, UserID: f.client.ID, Role: atrium.BinderRoleViewer, CreatedAt: t0})
		}); err != nil {
			t.Fatal(err)
		}
		if ok, err := post(b.ACLVersion); ok || err != nil {
			t.Fatalf("changed membership: %v, %v", ok, err)
		}
		if s.Dialect() == "postgres" {
			b, _, _ = s.GetBinderForUser(ctx, f.binder.ID, f.owner.ID)
			_, db := s.Pools()
			other, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Rollback()
			if _, err := other.ExecContext(ctx, `UPDATE binders SET acl_version = acl_version + 1 WHERE id = $1`, b.ID); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			var ok bool
			go func() {
				var err error
				ok, err = post(b.ACLVersion)
				done <- err
			}()
			waitForLockWaiter(t, db)
			if err := other.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; ok || err != nil {
				t.Fatalf("membership changed while waiting: %v, %v", ok, err)
			}
		}
		msgs, _ := s.ListMessages(ctx, b.ID, 0, 0, 10)
		if len(msgs) != 1 {
			t.Fatalf("%d messages stored, want 1", len(msgs))
		}
	})
}

// waitForLockWaiter polls PostgreSQL until a session of this database waits
// for a lock.
func waitForLockWaiter(t *testing.T, db *sql.DB) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no session waits for the binder's lock")
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// An upload is claimed once: by the transaction that records the file made
// of it, and only while it has the bytes the file was made of.
func TestClaimUpload(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		u := &store.Upload{ID: atrium.NewID(), OrgID: f.org.ID, BinderID: f.binder.ID, UserID: f.owner.ID, Name: "a",
			Length: 10, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		blob := &store.Blob{ID: atrium.NewID(), OrgID: f.org.ID, StoredSize: 60, WrappedKey: []byte{1}, CreatedAt: t0}
		err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUpload(ctx, u); err != nil {
				return err
			}
			if err := tx.AddBlob(ctx, blob); err != nil {
				return err
			}
			ok, err := tx.AddUploadPart(ctx, u.ID, 0, store.UploadPart{BlobID: blob.ID, Size: 4})
			if err == nil && !ok {
				t.Error("the first part was not recorded")
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		claim := func(received int64) ([]string, error) {
			var blobs []string
			err := s.Tx(ctx, func(tx *store.Tx) (err error) {
				blobs, err = tx.ClaimUpload(ctx, u.ID, received)
				return err
			})
			return blobs, err
		}
		if _, err := claim(3); atrium.ErrorCode(err) != atrium.EConflict {
			t.Fatalf("a claim at another offset: %v", err)
		}
		blobs, err := claim(4)
		if err != nil || len(blobs) != 1 || blobs[0] != blob.ID {
			t.Fatalf("the claim: %v %v", blobs, err)
		}
		if _, err := claim(4); atrium.ErrorCode(err) != atrium.EConflict {
			t.Fatalf("a second claim: %v", err)
		}
		if _, err := s.GetBlob(ctx, blob.ID); atrium.ErrorCode(err) != atrium.ENotFound {
			t.Fatalf("a claimed part's record: %v", err)
		}
	})
}

// On PostgreSQL, counting stored bytes to add to them waits for another
// transaction doing the same, and then sees what it added.
func TestOrgStoredBytesLockedTakesTurns(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.AddOrgKey(ctx, &store.OrgKey{OrgID: f.org.ID, KEKID: "k1", Wrapped: []byte{1}, CreatedAt: t0})
		}); err != nil {
			t.Fatal(err)
		}
		count := func() (n int64, err error) {
			err = s.Tx(ctx, func(tx *store.Tx) (err error) {
				n, err = tx.OrgStoredBytesLocked(ctx, f.org.ID)
				return err
			})
			return n, err
		}
		if n, err := count(); n != 0 || err != nil {
			t.Fatalf("nothing stored: %d, %v", n, err)
		}
		if s.Dialect() != "postgres" {
			return
		}
		_, db := s.Pools()
		other, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Rollback()
		if _, err := other.ExecContext(ctx, `SELECT 1 FROM org_keys WHERE org_id = $1 FOR UPDATE`, f.org.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := other.ExecContext(ctx, `INSERT INTO blobs (id, org_id, stored_size, wrapped_key, created_at)
			VALUES ($1, $2, 1000, $3, 0)`, atrium.NewID(), f.org.ID, []byte{1}); err != nil {
			t.Fatal(err)
		}
		done := make(chan int64, 1)
		go func() {
			n, err := count()
			if err != nil {
				t.Error(err)
			}
			done <- n
		}()
		waitForLockWaiter(t, db)
		if err := other.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := <-done; n != 1000 {
			t.Fatalf("counted %d bytes after the other upload committed, want 1000", n)
		}
	})
}

// Audit entries written at once by many writers, on two nodes sharing one
// PostgreSQL database, form one unbroken chain per organisation.
func TestAuditChainUnderConcurrency(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			cfg := storetest.NewConfig(t, dialect)
			nodes := []*store.Store{storetest.OpenConfig(t, cfg)}
			if dialect == "postgres" {
				nodes = append(nodes, storetest.OpenConfig(t, cfg))
			}
			ctx := context.Background()
			orgs := []string{atrium.NewID(), atrium.NewID()}
			var wg sync.WaitGroup
			const writers, each = 8, 10
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := nodes[w%len(nodes)]
					for i := range each {
						var batch []*atrium.AuditEntry
						for _, org := range orgs[:1+(i+w)%2] {
							batch = append(batch, &atrium.AuditEntry{ID: atrium.NewID(), OrgID: org, Action: "test.write",
								Outcome: atrium.OutcomeSuccess, CreatedAt: t0})
						}
						if err := s.Tx(ctx, func(tx *store.Tx) error { tx.AppendRecords(batch, nil); return nil }); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			total := 0
			for _, org := range orgs {
				chain, err := nodes[0].AuditChain(ctx, org, 0, 1000)
				if err != nil {
					t.Fatal(err)
				}
				prev := ""
				for i, e := range chain {
					if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash != e.ChainHash(prev) {
						t.Fatalf("org %d, entry %d: seq %d, links %v, hash ok %v", len(orgs), i, e.Seq, e.PrevHash == prev, e.Hash == e.ChainHash(prev))
					}
					prev = e.Hash
				}
				heads, _ := nodes[0].AuditHeads(ctx, org)
				if len(heads) != 1 || heads[0].Seq != int64(len(chain)) || heads[0].Hash != prev {
					t.Fatalf("head %+v after %d entries", heads, len(chain))
				}
				total += len(chain)
			}
			if want := writers * each * 3 / 2; total != want {
				t.Fatalf("%d entries chained, want %d", total, want)
			}
		})
	}
}
