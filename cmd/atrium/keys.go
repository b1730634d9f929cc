package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/keyring"
)

// cmdKeys runs `atrium keys list|rotate|retire`.
func cmdKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return errors.New("keys: give list, rotate or retire KEY_ID")
	}
	var db dbFlags
	var resume bool
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db.register(fs)
	if args[0] == "rotate" {
		fs.BoolVar(&resume, "resume", false, "only finish re-wrapping under the current key (after an interrupted rotation)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, keys, closeStore, err := fileApp(ctx, e, db)
	if err != nil {
		return err
	}
	defer closeStore()
	out := json.NewEncoder(e.stdout)
	switch args[0] {
	case "list":
		return listKeys(ctx, a, keys, out)
	case "rotate":
		return rotateKeys(ctx, a, keys, resume, out)
	case "retire":
		if fs.NArg() != 1 {
			return errors.New("keys retire: give the id of the master key to retire")
		}
		return retireKey(ctx, a, keys, fs.Arg(0), out)
	}
	return fmt.Errorf("keys: unknown command %q", args[0])
}

// fileApp opens and migrates the database and the file storage, and
// returns the use cases over them.
func fileApp(ctx context.Context, e env, db dbFlags) (*app.App, *keyring.Keyring, func(), error) {
	files, keys, err := db.fileStorage(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := app.DefaultConfig()
	cfg.Files = files
	a, st, err := adminAppWith(ctx, e, db, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	return a, keys, func() { st.Close() }, nil
}

// cmdOrgEraseFiles runs `atrium org erase-files --org ID --yes`: the
// crypto-erasure of every file of an organisation.
func cmdOrgEraseFiles(ctx context.Context, e env, args []string) error {
	var db dbFlags
	var orgID string
	var yes bool
	fs := flag.NewFlagSet("org erase-files", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db.register(fs)
	fs.StringVar(&orgID, "org", "", "organisation id (required)")
	fs.BoolVar(&yes, "yes", false, "confirm: every file the organisation stored becomes unreadable, for good (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if orgID == "" || !yes {
		return errors.New("org erase-files: --org and --yes are required; the files cannot be recovered afterwards")
	}
	a, _, closeStore, err := fileApp(ctx, e, db)
	if err != nil {
		return err
	}
	defer closeStore()
	if err := a.EraseOrgFiles(ctx, orgID); err != nil {
		return fmt.Errorf("org erase-files: %w", err)
	}
	return json.NewEncoder(e.stdout).Encode(map[string]string{"erased": orgID})
}

func listKeys(ctx context.Context, a *app.App, keys *keyring.Keyring, out *json.Encoder) error {
	type entry struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
		OrgKeys int    `json:"org_keys"`
	}
	list := []entry{}
	for _, id := range keys.IDs() {
		n, err := a.MasterKeyInUse(ctx, id)
		if err != nil {
			return err
		}
		list = append(list, entry{ID: id, Current: id == keys.Current(), OrgKeys: n})
	}
	return out.Encode(map[string]any{"keys": list})
}

// rotateKeys adds a master key and re-wraps every organisation key under
// it, while servers run (they read the keyring file again when they meet
// the new key). Interrupted, it is finished with --resume.
func rotateKeys(ctx context.Context, a *app.App, keys *keyring.Keyring, resume bool, out *json.Encoder) error {
	if !resume {
		if _, err := keys.Rotate(); err != nil {
			return err
		}
	}
	n, err := a.RewrapOrgKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys rotate: %d organisation keys re-wrapped, then: %w (run `atrium keys rotate --resume` to finish)", n, err)
	}
	return out.Encode(map[string]any{"current": keys.Current(), "rewrapped": n})
}

// retireKey removes a master key that wraps nothing any more.
func retireKey(ctx context.Context, a *app.App, keys *keyring.Keyring, id string, out *json.Encoder) error {
	n, err := a.MasterKeyInUse(ctx, id)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("keys retire: master key %q still wraps %d organisation keys; run `atrium keys rotate --resume` first", id, n)
	}
	if err := keys.Retire(id); err != nil {
		return err
	}
	return out.Encode(map[string]any{"retired": id, "current": keys.Current()})
}
