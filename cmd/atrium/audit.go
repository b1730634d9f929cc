package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/keyring"
)

// cmdAuditCheckpoint runs `atrium audit checkpoint`: it signs a checkpoint
// of every audit chain that grew since its last one (the server does so
// hourly), creating the audit key if there is none.
func cmdAuditCheckpoint(ctx context.Context, e env, args []string) error {
	var db dbFlags
	fs := flag.NewFlagSet("audit checkpoint", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(db.auditKeyPath()), 0o700); err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	key, _, err := keyring.LoadOrCreateSigningKey(db.auditKeyPath())
	if err != nil {
		return err
	}
	a, st, err := adminApp(ctx, e, db)
	if err != nil {
		return err
	}
	defer st.Close()
	a.SetAuditKey(key)
	n, err := a.CheckpointAudit(ctx)
	if err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(map[string]any{"signed": n, "key_id": key.ID})
}

// cmdAuditVerify runs `atrium audit verify [--org ID]`: it prints one
// JSON report per organisation and fails, naming the first bad entry of
// each broken chain, if any chain is broken.
func cmdAuditVerify(ctx context.Context, e env, args []string) error {
	var db dbFlags
	var orgID string
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db.register(fs)
	fs.StringVar(&orgID, "org", "", "verify this organisation only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, err := keyring.LoadSigningKey(db.auditKeyPath())
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(e.stderr, "audit verify: no audit key at %s: checkpoint signatures are not checked\n", db.auditKeyPath())
		key, err = nil, nil
	}
	if err != nil {
		return err
	}
	a, st, err := adminApp(ctx, e, db)
	if err != nil {
		return err
	}
	defer st.Close()
	reports, err := a.VerifyAudit(ctx, orgID, key)
	if err != nil {
		return err
	}
	out := json.NewEncoder(e.stdout)
	broken := 0
	for _, r := range reports {
		if err := out.Encode(r); err != nil {
			return err
		}
		if p := r.Problem; p != nil {
			broken++
			fmt.Fprintf(e.stderr, "audit verify: organisation %s: entry %d%s: %s\n", r.OrgID, p.Seq, entryID(p), p.Reason)
		}
	}
	if broken > 0 {
		return fmt.Errorf("audit verify: %d of %d audit chains are broken", broken, len(reports))
	}
	return nil
}

func entryID(p *app.AuditProblem) string {
	if p.EntryID == "" {
		return ""
	}
	return " (id " + p.EntryID + ")"
}
