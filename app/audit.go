package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/store"
)

// CheckpointAudit signs a checkpoint of every organisation's audit chain
// that grew since its last one, and returns how many it signed. Without an
// audit key it does nothing.
func (a *App) CheckpointAudit(ctx context.Context) (int, error) {
	key := a.cfg.AuditKey
	if key == nil {
		return 0, nil
	}
	heads, err := a.store.AuditHeads(ctx, "*")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range heads {
		if h.Seq == 0 {
			continue
		}
		cps, err := a.store.AuditCheckpoints(ctx, h.OrgID)
		if err != nil {
			return n, err
		}
		if len(cps) > 0 && cps[len(cps)-1].Seq >= h.Seq {
			continue
		}
		c := &atrium.AuditCheckpoint{OrgID: h.OrgID, Seq: h.Seq, Hash: h.Hash, KeyID: key.ID, CreatedAt: a.now().Truncate(time.Millisecond)}
		c.Signature = key.Sign(c.Message())
		if err := a.store.Tx(ctx, func(tx *store.Tx) error { return tx.AddAuditCheckpoint(ctx, c) }); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// AuditReport is the verification of one organisation's audit chain.
type AuditReport struct {
	OrgID string `json:"org_id"`
	// Entries were checked; Unchained predate the chain and cannot be.
	Entries     int64 `json:"entries"`
	Unchained   int64 `json:"unchained,omitempty"`
	Checkpoints int   `json:"checkpoints"`
	// LastCheckpoint is the seq of the newest checkpoint that verified:
	// everything up to it is vouched for by the audit key.
	LastCheckpoint int64 `json:"last_checkpoint"`
	// Problem is the first thing wrong, if any: the chain is intact when
	// it is nil.
	Problem *AuditProblem `json:"problem,omitempty"`
}

// AuditProblem names the first bad record of a chain.
type AuditProblem struct {
	Seq     int64  `json:"seq"`
	EntryID string `json:"entry_id,omitempty"`
	Reason  string `json:"reason"`
}

// verifyPage is how many entries verification reads at a time.
const verifyPage = 1000

// VerifyAudit checks the audit chain of one organisation, or of every
// organisation when orgID is "": every entry's hash, its place after the
// one before, the chain's head, and every checkpoint's signature by key
// (nil: signatures are not checked) and its match with the chain.
func (a *App) VerifyAudit(ctx context.Context, orgID string, key *keyring.SigningKey) ([]*AuditReport, error) {
	sel := orgID
	if sel == "" {
		sel = "*"
	}
	heads, err := a.store.AuditHeads(ctx, sel)
	if err != nil {
		return nil, err
	}
	// An organisation with entries or checkpoints but no head (its head
	// row removed) is verified too, against an empty head.
	orgs, err := a.store.AuditedOrgs(ctx, sel)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, h := range heads {
		known[h.OrgID] = true
	}
	for _, o := range orgs {
		if !known[o] {
			heads = append(heads, store.AuditHead{OrgID: o, Missing: true})
		}
	}
	if orgID != "" && len(heads) == 0 {
		heads = []store.AuditHead{{OrgID: orgID}}
	}
	var out []*AuditReport
	for _, h := range heads {
		r, err := a.verifyChain(ctx, h, key)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// verifyChain walks one organisation's chain.
func (a *App) verifyChain(ctx context.Context, head store.AuditHead, key *keyring.SigningKey) (*AuditReport, error) {
	r := &AuditReport{OrgID: head.OrgID}
	var err error
	if r.Unchained, err = a.store.CountUnchainedAudit(ctx, head.OrgID); err != nil {
		return nil, err
	}
	cps, err := a.store.AuditCheckpoints(ctx, head.OrgID)
	if err != nil {
		return nil, err
	}
	// The head is read after the checkpoints: it only grows, so every
	// honest checkpoint is at or before it.
	if heads, err := a.store.AuditHeads(ctx, head.OrgID); err != nil {
		return nil, err
	} else if len(heads) == 1 {
		head = heads[0]
	}
	r.Checkpoints = len(cps)
	bySeq := map[int64]*atrium.AuditCheckpoint{}
	for _, c := range cps {
		if problem := checkSignature(c, key); problem != "" {
			r.Problem = &AuditProblem{Seq: c.Seq, Reason: problem}
			return r, nil
		}
		bySeq[c.Seq] = c
	}
	var seq int64
	prev := ""
	first := true
	for {
		// The walk ends at the head read first: entries appended since
		// are not this verification's concern.
		page, err := a.store.AuditChainUpTo(ctx, head.OrgID, seq, head.Seq, verifyPage)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if first && e.Seq > 1 {
				// The entries before were removed by the retention: a
				// signed prune statement must vouch for where the chain
				// starts (a mere checkpoint does not: it says nothing of
				// removal).
				c, err := a.store.AuditPrune(ctx, head.OrgID, e.Seq-1)
				if err != nil {
					return nil, err
				}
				problem := ""
				if c != nil {
					problem = checkSignature(c, key)
				}
				if c == nil || c.Hash != e.PrevHash || problem != "" {
					r.Problem = &AuditProblem{Seq: 1, Reason: fmt.Sprintf(
						"entries 1 to %d are missing and no signed prune statement vouches for the chain's start", e.Seq-1)}
					return r, nil
				}
				seq, prev, r.LastCheckpoint = c.Seq, c.Hash, c.Seq
			}
			first = false
			if p := checkEntry(e, seq, prev); p != nil {
				r.Problem = p
				return r, nil
			}
			seq, prev = e.Seq, e.Hash
			r.Entries++
			if c := bySeq[seq]; c != nil {
				if c.Hash != e.Hash {
					r.Problem = &AuditProblem{Seq: seq, EntryID: e.ID, Reason: fmt.Sprintf(
						"the chain differs from the checkpoint signed at entry %d: entries up to it were rewritten", seq)}
					return r, nil
				}
				r.LastCheckpoint = seq
			}
		}
		if len(page) < verifyPage {
			break
		}
	}
	for _, c := range cps {
		if c.Seq > seq {
			r.Problem = &AuditProblem{Seq: seq + 1, Reason: fmt.Sprintf(
				"entries %d to %d are missing: a checkpoint vouches for %d entries", seq+1, c.Seq, c.Seq)}
			return r, nil
		}
	}
	switch {
	case head.Missing:
		r.Problem = &AuditProblem{Seq: seq, Reason: "the chain's head is missing: it was removed from the database"}
	case head.Seq != seq || head.Hash != prev:
		r.Problem = &AuditProblem{Seq: seq + 1, Reason: fmt.Sprintf(
			"the chain ends at entry %d, but its head says %d: entries at the end were removed or the head was changed", seq, head.Seq)}
	}
	return r, nil
}

// checkEntry checks one entry against the one before it (seq and hash
// prev); nil if it is where it belongs and unchanged.
func checkEntry(e *atrium.AuditEntry, seq int64, prev string) *AuditProblem {
	switch {
	case e.Seq != seq+1:
		return &AuditProblem{Seq: seq + 1, Reason: fmt.Sprintf("entry %d is missing: entry %d follows entry %d", seq+1, e.Seq, seq)}
	case e.PrevHash != prev:
		return &AuditProblem{Seq: e.Seq, EntryID: e.ID, Reason: fmt.Sprintf(
			"entry %d does not follow entry %d: it was inserted, moved, or the one before it was replaced", e.Seq, seq)}
	case e.Hash != e.ChainHash(prev):
		return &AuditProblem{Seq: e.Seq, EntryID: e.ID, Reason: fmt.Sprintf("entry %d was altered: its content does not match its hash", e.Seq)}
	}
	return nil
}

// checkSignature checks a checkpoint's signature; "" if good or not
// checked.
func checkSignature(c *atrium.AuditCheckpoint, key *keyring.SigningKey) string {
	switch {
	case key == nil:
		return ""
	case c.KeyID != key.ID:
		return fmt.Sprintf("the checkpoint at entry %d is signed by key %q, not this server's audit key %q", c.Seq, c.KeyID, key.ID)
	case !key.Verify(c.Message(), c.Signature):
		return fmt.Sprintf("the checkpoint at entry %d has a bad signature: it was forged or changed", c.Seq)
	}
	return ""
}

// AuditSearch selects entries of the actor's organisation (see
// store.AuditQuery); the organisation is the actor's.
type AuditSearch struct {
	ActorID, Action, TargetID, BinderID, Text string
	From, To                                  time.Time
}

// maxAuditRange bounds a search's time range.
const maxAuditRange = 5 * 366 * 24 * time.Hour

// validate refuses a malformed search.
func (s AuditSearch) validate() error {
	for name, v := range map[string]string{"actor": s.ActorID, "target": s.TargetID, "binder": s.BinderID} {
		if v != "" && !atrium.ValidID(v) {
			return atrium.Errorf(atrium.EInvalid, "%s is not an id", name)
		}
	}
	if len(s.Action) > 64 || strings.ContainsFunc(s.Action, func(r rune) bool { return r <= ' ' }) {
		return atrium.Errorf(atrium.EInvalid, "action is not an action name such as file.upload or file.")
	}
	if len(s.Text) > 200 {
		return atrium.Errorf(atrium.EInvalid, "q is longer than 200 bytes")
	}
	if !s.From.IsZero() && !s.To.IsZero() && !s.To.After(s.From) {
		return atrium.Errorf(atrium.EInvalid, "to must be after from")
	}
	if !s.From.IsZero() && !s.To.IsZero() && s.To.Sub(s.From) > maxAuditRange {
		return atrium.Errorf(atrium.EInvalid, "the range spans more than five years")
	}
	return nil
}

// adminOnly refuses a user who does not administer their organisation.
func (a *App) adminOnly(ctx context.Context, action string) (*atrium.Actor, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return nil, a.deny(ctx, atrium.Errorf(atrium.EForbidden, "only organisation administrators can read the audit log"),
			act.User.OrgID, action, "org", act.User.OrgID)
	}
	return act, nil
}

// SearchAudit returns a page of the organisation's audit log, newest
// first (administrators only).
func (a *App) SearchAudit(ctx context.Context, s AuditSearch, p Page) ([]*atrium.AuditEntry, string, error) {
	act, err := a.adminOnly(ctx, "audit.search")
	if err != nil {
		return nil, "", err
	}
	if err := s.validate(); err != nil {
		return nil, "", err
	}
	before, err := p.beforeSeq()
	if err != nil {
		return nil, "", err
	}
	list, err := a.store.SearchAudit(ctx, store.AuditQuery{OrgID: act.User.OrgID, ActorID: s.ActorID, Action: s.Action,
		TargetID: s.TargetID, BinderID: s.BinderID, From: s.From, To: s.To, Text: s.Text, BeforeSeq: before, Limit: p.limit() + 1})
	if err != nil {
		return nil, "", err
	}
	list, next := trimPage(list, p.limit(), func(e *atrium.AuditEntry) string { return strconv.FormatInt(e.Seq, 10) })
	return list, next, nil
}

// ExportAudit calls emit with every entry of the organisation's audit log
// that s selects, newest first, a page at a time (administrators only).
// The export itself is audited.
func (a *App) ExportAudit(ctx context.Context, s AuditSearch, format string, emit func(*atrium.AuditEntry) error) error {
	act, err := a.adminOnly(ctx, "audit.export")
	if err != nil {
		return err
	}
	if err := s.validate(); err != nil {
		return err
	}
	err = a.write(ctx, func(w *writer) error {
		return w.audit(act.User.OrgID, "audit.export", "org", act.User.OrgID, "format "+format)
	})
	if err != nil {
		return err
	}
	var before int64
	for {
		list, err := a.store.SearchAudit(ctx, store.AuditQuery{OrgID: act.User.OrgID, ActorID: s.ActorID, Action: s.Action,
			TargetID: s.TargetID, BinderID: s.BinderID, From: s.From, To: s.To, Text: s.Text, BeforeSeq: before, Limit: verifyPage})
		if err != nil {
			return err
		}
		for _, e := range list {
			if err := emit(e); err != nil {
				return err
			}
		}
		if len(list) < verifyPage {
			return nil
		}
		before = list[len(list)-1].Seq
	}
}
