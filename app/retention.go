package app

import (
	"context"
	"fmt"
	"time"

	"github.com/atrium-dev/atrium"
)

// retentionBatch bounds what one housekeeping run expires per
// organisation and kind, so that a first run on an old organisation does
// not hold the writer for long; the next runs go on.
const retentionBatch = 1000

// ApplyRetention erases messages, deletes files and removes audit entries
// older than each organisation's retention settings allow.
func (a *App) ApplyRetention(ctx context.Context) error {
	after := ""
	for {
		orgs, last, err := a.store.OrgsWithRetention(ctx, after, 200)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if err := a.retainOrg(ctx, o); err != nil {
				a.log.Warn("housekeeping: retention", "org", o.ID, "err", err)
			}
		}
		if last == "" {
			return nil
		}
		after = last
	}
}

func (a *App) retainOrg(ctx context.Context, o *atrium.Org) error {
	now := a.now()
	days := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }
	s := o.Settings
	if s.MessageRetentionDays > 0 {
		err := a.write(ctx, func(w *writer) error {
			msgs, err := w.ExpireMessages(w.ctx, o.ID, days(s.MessageRetentionDays), w.now, retentionBatch)
			if err != nil || len(msgs) == 0 {
				return err
			}
			if err := w.ScrubMessagesBefore(w.ctx, o.ID, days(s.MessageRetentionDays)); err != nil {
				return err
			}
			for _, m := range msgs {
				if err := w.event(atrium.EventMessageDeleted, o.ID, m.BinderID, "", "message", m); err != nil {
					return err
				}
			}
			return w.audit(o.ID, "message.expire", "org", o.ID, fmt.Sprintf("%d messages older than %d days erased", len(msgs), s.MessageRetentionDays))
		})
		if err != nil {
			return err
		}
	}
	if s.FileRetentionDays > 0 {
		err := a.write(ctx, func(w *writer) error {
			files, err := w.ExpireFiles(w.ctx, o.ID, days(s.FileRetentionDays), w.now, retentionBatch)
			if err != nil || len(files) == 0 {
				return err
			}
			for _, f := range files {
				if err := w.event(atrium.EventFileDeleted, o.ID, f.BinderID, "", "file", fileRemoved{ID: f.ID, BinderID: f.BinderID}); err != nil {
					return err
				}
			}
			return w.audit(o.ID, "file.expire", "org", o.ID, fmt.Sprintf("%d files unchanged for %d days deleted", len(files), s.FileRetentionDays))
		})
		if err != nil {
			return err
		}
	}
	if s.AuditRetentionDays > 0 {
		return a.pruneAudit(ctx, o.ID, days(s.AuditRetentionDays))
	}
	return nil
}

// pruneAudit removes an organisation's audit entries created before t,
// once the chain verifies, leaving a signed checkpoint at the last one
// removed so that the chain's new start can still be verified. Without an
// audit key nothing is removed.
func (a *App) pruneAudit(ctx context.Context, orgID string, t time.Time) error {
	key := a.cfg.AuditKey
	if key == nil {
		return fmt.Errorf("audit retention needs the audit signing key")
	}
	upTo, err := a.store.LastAuditBefore(ctx, orgID, t)
	if err != nil || upTo == 0 {
		return err
	}
	reports, err := a.VerifyAudit(ctx, orgID, key)
	if err != nil {
		return err
	}
	if p := reports[0].Problem; p != nil {
		return fmt.Errorf("the audit chain does not verify (entry %d: %s); nothing is removed", p.Seq, p.Reason)
	}
	last, err := a.store.AuditChain(ctx, orgID, upTo-1, 1)
	if err != nil || len(last) != 1 {
		return fmt.Errorf("audit entry %d: %v", upTo, err)
	}
	c := &atrium.AuditCheckpoint{OrgID: orgID, Seq: upTo, Hash: last[0].Hash, KeyID: key.ID, CreatedAt: a.now().Truncate(time.Millisecond), Prune: true}
	c.Signature = key.Sign(c.Message())
	return a.write(ctx, func(w *writer) error {
		if err := w.AddAuditPrune(w.ctx, c); err != nil {
			return err
		}
		n, err := w.PruneAudit(w.ctx, orgID, upTo)
		if err != nil {
			return err
		}
		return w.audit(orgID, "audit.prune", "org", orgID, fmt.Sprintf("%d entries up to %d removed", n, upTo))
	})
}
