package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/store/storetest"
)

// auditWorld is an organisation with a few audited changes and a signed
// checkpoint, and a way to edit the database behind the server's back.
type auditWorld struct {
	*fileWorld
	key   *keyring.SigningKey
	orgID string
	exec  func(query string, args ...any)
}

func newAuditWorld(t *testing.T, dialect string) *auditWorld {
	t.Helper()
	key, _, err := keyring.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "audit.key"))
	must(t, err)
	w := newFileWorld(t, dialect, 0)
	w.a.SetAuditKey(key)
	for i := range 5 {
		_, err := w.a.PostMessage(w.owner, w.binder.ID, app.PostMessageInput{Text: "note " + string(rune('a'+i))})
		must(t, err)
	}
	n, err := w.a.CheckpointAudit(context.Background())
	must(t, err)
	if n == 0 {
		t.Fatal("no checkpoint was signed")
	}
	_, err = w.a.PostMessage(w.owner, w.binder.ID, app.PostMessageInput{Text: "after the checkpoint"})
	must(t, err)
	me, _, err := w.a.Me(w.owner)
	must(t, err)
	db, _ := w.a.Store().Pools()
	aw := &auditWorld{fileWorld: w, key: key, orgID: me.OrgID}
	aw.exec = func(query string, args ...any) {
		t.Helper()
		if _, err := db.Exec(query, args...); err != nil {
			t.Fatal(err)
		}
	}
	return aw
}

// report verifies the organisation's chain.
func (w *auditWorld) report(t *testing.T, key *keyring.SigningKey) *app.AuditReport {
	t.Helper()
	reports, err := w.a.VerifyAudit(context.Background(), w.orgID, key)
	must(t, err)
	if len(reports) != 1 {
		t.Fatalf("%d reports", len(reports))
	}
	return reports[0]
}

// The chain verifies intact; any change to it made behind the server's
// back is found, and the first bad entry named.
func TestAuditChainVerification(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			probe := newAuditWorld(t, dialect)
			r := probe.report(t, probe.key)
			if r.Problem != nil || r.Entries < 10 || r.Checkpoints != 1 || r.LastCheckpoint == 0 || r.LastCheckpoint >= r.Entries {
				t.Fatalf("an intact chain: %+v %+v", r, r.Problem)
			}
			cases := []struct {
				name   string
				tamper func(w *auditWorld, mid, last int64)
				seq    func(mid, last int64) int64
				reason string
			}{
				{"a field changed", func(w *auditWorld, mid, _ int64) {
					w.exec(`UPDATE audit_log SET detail = 'nothing to see' WHERE org_id = $1 AND seq = $2`, w.orgID, mid)
				}, func(mid, _ int64) int64 { return mid }, "was altered"},
				{"an entry removed", func(w *auditWorld, mid, _ int64) {
					w.exec(`DELETE FROM audit_log WHERE org_id = $1 AND seq = $2`, w.orgID, mid)
				}, func(mid, _ int64) int64 { return mid }, "is missing"},
				{"two entries swapped", func(w *auditWorld, mid, _ int64) {
					w.exec(`UPDATE audit_log SET seq = -1 WHERE org_id = $1 AND seq = $2`, w.orgID, mid)
					w.exec(`UPDATE audit_log SET seq = $2 WHERE org_id = $1 AND seq = $3`, w.orgID, mid, mid+1)
					w.exec(`UPDATE audit_log SET seq = $2 WHERE org_id = $1 AND seq = -1`, w.orgID, mid+1)
				}, func(mid, _ int64) int64 { return mid }, "does not follow"},
				{"an entry inserted", func(w *auditWorld, mid, last int64) {
					for s := last; s > mid; s-- {
						w.exec(`UPDATE audit_log SET seq = seq + 1 WHERE org_id = $1 AND seq = $2`, w.orgID, s)
					}
					w.exec(`INSERT INTO audit_log (id, org_id, actor_id, action, target_type, target_id, ip, user_agent, outcome,
						detail, created_at, seq, binder_id, prev_hash, hash) SELECT $3, org_id, actor_id, action, target_type,
						target_id, ip, user_agent, outcome, 'forged', created_at, $2, binder_id, hash, hash
						FROM audit_log WHERE org_id = $1 AND seq = $4`, w.orgID, mid+1, atrium.NewID(), mid)
				}, func(mid, _ int64) int64 { return mid + 1 }, "was altered"},
				{"the newest entries removed, head changed", func(w *auditWorld, _, last int64) {
					w.exec(`DELETE FROM audit_log WHERE org_id = $1 AND seq > 2`, w.orgID)
					w.exec(`UPDATE audit_heads SET seq = 2, hash = (SELECT hash FROM audit_log WHERE org_id = $1 AND seq = 2) WHERE org_id = $1`, w.orgID)
				}, func(int64, int64) int64 { return 3 }, "a checkpoint vouches"},
				{"everything up to the checkpoint removed", func(w *auditWorld, _, last int64) {
					// The checkpoint was signed before the last post: it
					// vouches for entry last-1, which the attacker makes
					// the start. Only a prune statement may do that.
					w.exec(`DELETE FROM audit_log WHERE org_id = $1 AND seq < $2`, w.orgID, last)
				}, func(int64, int64) int64 { return 1 }, "no signed prune statement"},
				{"the head removed", func(w *auditWorld, _, _ int64) {
					w.exec(`DELETE FROM audit_heads WHERE org_id = $1`, w.orgID)
				}, func(_, last int64) int64 { return last }, "head is missing"},
				{"the tail removed after the checkpoint", func(w *auditWorld, _, last int64) {
					w.exec(`DELETE FROM audit_log WHERE org_id = $1 AND seq = $2`, w.orgID, last)
				}, func(_, last int64) int64 { return last }, "its head says"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					w := newAuditWorld(t, dialect)
					last := w.report(t, w.key).Entries
					mid := last / 2
					c.tamper(w, mid, last)
					r := w.report(t, w.key)
					if r.Problem == nil || r.Problem.Seq != c.seq(mid, last) || !strings.Contains(r.Problem.Reason, c.reason) {
						t.Fatalf("after %s (mid %d, last %d): %+v", c.name, mid, last, r.Problem)
					}
				})
			}

			// Verifying while the server writes finds nothing wrong.
			busy := newAuditWorld(t, dialect)
			done := make(chan error)
			go func() {
				var err error
				for i := 0; i < 30 && err == nil; i++ {
					_, err = busy.a.PostMessage(busy.owner, busy.binder.ID, app.PostMessageInput{Text: "busy"})
				}
				done <- err
			}()
			for i := 0; i < 10; i++ {
				if r := busy.report(t, busy.key); r.Problem != nil {
					t.Fatalf("verifying a chain being written: %+v", r.Problem)
				}
			}
			must(t, <-done)

			// An attacker who rewrites an entry and every hash after it,
			// head included, still cannot sign: the checkpoint tells.
			w := newAuditWorld(t, dialect)
			chain, err := w.a.Store().AuditChain(context.Background(), w.orgID, 0, 1000)
			must(t, err)
			prev := ""
			for i, e := range chain {
				if i == 1 {
					e.Detail = "rewritten"
				}
				e.PrevHash = prev
				e.Hash = e.ChainHash(prev)
				w.exec(`UPDATE audit_log SET detail = $3, prev_hash = $4, hash = $5 WHERE org_id = $1 AND seq = $2`,
					w.orgID, e.Seq, e.Detail, e.PrevHash, e.Hash)
				prev = e.Hash
			}
			w.exec(`UPDATE audit_heads SET hash = $2 WHERE org_id = $1`, w.orgID, prev)
			if r := w.report(t, w.key); r.Problem == nil || !strings.Contains(r.Problem.Reason, "rewritten") {
				t.Fatalf("a rewritten chain: %+v", r.Problem)
			}
			// A checkpoint signed by another key is refused.
			other, _, err := keyring.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "other.key"))
			must(t, err)
			if r := newAuditWorld(t, dialect).report(t, other); r.Problem == nil || !strings.Contains(r.Problem.Reason, "signed by key") {
				t.Fatalf("a checkpoint of another key: %+v", r.Problem)
			}
		})
	}
}

// Search selects by actor, action (or its prefix), binder, time and text,
// newest first and paged; administrators only.
func TestAuditSearch(t *testing.T) {
	w := newFileWorld(t, "sqlite", 0)
	a := w.a
	f, err := a.UploadFile(w.owner, w.binder.ID, "contract.pdf", strings.NewReader("%PDF"))
	must(t, err)
	_, err = a.PostMessage(w.owner, w.binder.ID, app.PostMessageInput{Text: "see the contract"})
	must(t, err)
	me, _, err := a.Me(w.owner)
	must(t, err)
	list, next, err := a.SearchAudit(w.owner, app.AuditSearch{BinderID: w.binder.ID}, app.Page{Limit: 2})
	must(t, err)
	if len(list) != 2 || next == "" || list[0].Action != "message.post" || list[1].Action != "file.upload" || list[0].Seq <= list[1].Seq {
		t.Fatalf("binder search: %+v next %q", list, next)
	}
	rest, _, err := a.SearchAudit(w.owner, app.AuditSearch{BinderID: w.binder.ID}, app.Page{Cursor: next, Limit: 100})
	must(t, err)
	if len(rest) == 0 || rest[0].Seq >= list[1].Seq {
		t.Fatalf("the next page: %+v", rest)
	}
	for _, c := range []struct {
		s    app.AuditSearch
		want string
	}{
		{app.AuditSearch{Action: "file."}, "file.upload"},
		{app.AuditSearch{Action: "file.upload", TargetID: f.ID}, "file.upload"},
		{app.AuditSearch{ActorID: me.ID, Action: "binder.create"}, "binder.create"},
		{app.AuditSearch{Text: "INTERNAL OWNER"}, "user.create"},
		{app.AuditSearch{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour), Action: "org.create"}, "org.create"},
	} {
		got, _, err := a.SearchAudit(w.owner, c.s, app.Page{Limit: 50})
		must(t, err)
		if len(got) == 0 || got[0].Action != c.want {
			t.Fatalf("%+v: %+v", c.s, got)
		}
	}
	if got, _, _ := a.SearchAudit(w.owner, app.AuditSearch{From: time.Now().Add(time.Hour)}, app.Page{Limit: 50}); len(got) != 0 {
		t.Fatalf("a range in the future: %d entries", len(got))
	}
	if _, _, err := a.SearchAudit(w.owner, app.AuditSearch{}, app.Page{Cursor: "bm90LWEtbnVtYmVy"}); atrium.ErrorCode(err) != atrium.EInvalid {
		t.Fatalf("a malformed cursor: %v", err)
	}
	for _, bad := range []app.AuditSearch{
		{From: time.Now(), To: time.Now().Add(-time.Hour)},
		{From: time.Now().AddDate(-6, 0, 0), To: time.Now()},
		{ActorID: "not-an-id"},
		{Text: strings.Repeat("q", 201)},
		{Action: "file upload"},
	} {
		if _, _, err := a.SearchAudit(w.owner, bad, app.Page{}); atrium.ErrorCode(err) != atrium.EInvalid {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	if _, _, err := a.SearchAudit(w.viewer, app.AuditSearch{}, app.Page{}); atrium.ErrorCode(err) != atrium.EForbidden {
		t.Fatalf("a client searching: %v", err)
	}
	// Another organisation's log is not seen.
	got, _, err := a.SearchAudit(w.outside, app.AuditSearch{BinderID: w.binder.ID}, app.Page{})
	if err != nil || len(got) != 0 {
		t.Fatalf("another organisation's owner: %d entries, %v", len(got), err)
	}
}
