package app_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/store/storetest"
)

// Messages, files and audit entries older than the organisation's
// retention go; newer ones stay; the audit chain still verifies from its
// new start.
func TestRetention(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a, bg := w.a, context.Background()
			key, _, err := keyring.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "audit.key"))
			must(t, err)
			a.SetAuditKey(key)
			_, err = a.PatchOrgSettings(w.owner, json.RawMessage(`{"message_retention_days":30,"file_retention_days":30,"audit_retention_days":30}`))
			must(t, err)
			old, err := a.PostMessage(w.owner, w.binder.ID, app.PostMessageInput{Text: "old news"})
			must(t, err)
			oldFile, err := a.UploadFile(w.owner, w.binder.ID, "old.txt", strings.NewReader("old"))
			must(t, err)
			me, _, _ := a.Me(w.owner)
			before, err := a.VerifyAudit(bg, me.OrgID, key)
			must(t, err)

			later := time.Now().Add(31 * 24 * time.Hour)
			a.SetClock(func() time.Time { return later })
			fresh, err := a.PostMessage(w.owner, w.binder.ID, app.PostMessageInput{Text: "fresh news"})
			must(t, err)
			must(t, a.Housekeep(bg))

			msgs, _, err := a.ListMessages(w.owner, w.binder.ID, app.MessagePage{})
			must(t, err)
			for _, m := range msgs {
				switch m.ID {
				case old.ID:
					if !m.Deleted || m.Text != "" {
						t.Fatalf("an expired message: %+v", m)
					}
				case fresh.ID:
					if m.Deleted {
						t.Fatal("a fresh message was erased")
					}
				}
			}
			events, err := a.Store().EventsAfter(bg, atrium.Pos{}, 10000)
			must(t, err)
			for _, e := range events {
				if strings.Contains(string(e.Payload), "old news") {
					t.Fatalf("the outbox still holds an expired message: %s", e.Payload)
				}
			}
			if _, err := a.GetFile(w.owner, oldFile.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("an expired file: %v", err)
			}
			after, err := a.VerifyAudit(bg, me.OrgID, key)
			must(t, err)
			if p := after[0].Problem; p != nil {
				t.Fatalf("the pruned chain: %+v", p)
			}
			chain, _ := a.Store().AuditChain(bg, me.OrgID, 0, 1)
			if len(chain) != 1 || chain[0].Seq <= before[0].Entries {
				t.Fatalf("the chain starts at %+v; %d entries were older", chain, before[0].Entries)
			}
			// Removing one more entry at the new start is still found.
			db, _ := a.Store().Pools()
			if _, err := db.Exec(`DELETE FROM audit_log WHERE org_id = $1 AND seq = $2`, me.OrgID, chain[0].Seq); err != nil {
				t.Fatal(err)
			}
			broken, err := a.VerifyAudit(bg, me.OrgID, key)
			must(t, err)
			if broken[0].Problem == nil {
				t.Fatal("an entry removed after the pruning went unnoticed")
			}
		})
	}
}
