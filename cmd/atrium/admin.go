package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/store"
)

func cmdMigrate(ctx context.Context, e env, args []string) error {
	var db dbFlags
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, db.config())
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	cur, _, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(map[string]any{"applied": orEmpty(applied), "version": cur})
}

func orEmpty(v []int64) []int64 {
	if v == nil {
		return []int64{}
	}
	return v
}

// adminApp opens and migrates the database and returns the use cases over it.
func adminApp(ctx context.Context, e env, db dbFlags) (*app.App, *store.Store, error) {
	return adminAppWith(ctx, e, db, app.DefaultConfig())
}

// adminAppWith is adminApp with the use cases configured by cfg.
func adminAppWith(ctx context.Context, e env, db dbFlags, cfg app.Config) (*app.App, *store.Store, error) {
	st, err := openStore(ctx, db.config())
	if err != nil {
		return nil, nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return app.New(st, auth.NewHasher(auth.OWASPParams, 1), log, cfg, nil), st, nil
}

// readSecret reads one line from stdin: a password is never a flag, which
// would show in the process list and the shell's history.
func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no password on standard input")
	}
	return line, nil
}

func cmdOrgCreate(ctx context.Context, e env, args []string) error {
	var db dbFlags
	var name, email, ownerName string
	var fromStdin bool
	fs := flag.NewFlagSet("org create", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db.register(fs)
	fs.StringVar(&name, "name", "", "organisation name (required)")
	fs.StringVar(&email, "owner-email", "", "owner's e-mail address (required)")
	fs.StringVar(&ownerName, "owner-name", "", "owner's name (default: the e-mail's local part)")
	fs.BoolVar(&fromStdin, "owner-password-stdin", false, "read the owner's password from standard input (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if name == "" || email == "" || !fromStdin {
		return fmt.Errorf("org create: --name, --owner-email and --owner-password-stdin are required")
	}
	password, err := readSecret(e.stdin)
	if err != nil {
		return fmt.Errorf("org create: %w", err)
	}
	a, st, err := adminApp(ctx, e, db)
	if err != nil {
		return err
	}
	defer st.Close()
	o, u, err := a.CreateOrg(ctx, app.CreateOrgInput{Name: name, OwnerEmail: email, OwnerName: ownerName, OwnerPassword: password})
	if err != nil {
		return fmt.Errorf("org create: %w", err)
	}
	return json.NewEncoder(e.stdout).Encode(map[string]string{"org_id": o.ID, "owner_id": u.ID})
}

func cmdUserCreate(ctx context.Context, e env, args []string) error {
	var db dbFlags
	var in app.CreateUserInput
	var orgID string
	var fromStdin bool
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db.register(fs)
	fs.StringVar(&orgID, "org", "", "organisation id (required)")
	fs.StringVar(&in.Email, "email", "", "e-mail address (required)")
	fs.StringVar(&in.Name, "name", "", "name (default: the e-mail's local part)")
	fs.StringVar(&in.Kind, "kind", "", "internal or client (required)")
	fs.StringVar(&in.Role, "role", "member", "organisation role: admin or member")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if orgID == "" || in.Email == "" || in.Kind == "" || !fromStdin {
		return fmt.Errorf("user create: --org, --email, --kind and --password-stdin are required")
	}
	password, err := readSecret(e.stdin)
	if err != nil {
		return fmt.Errorf("user create: %w", err)
	}
	in.Password = password
	a, st, err := adminApp(ctx, e, db)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := a.CreateUserAsSystem(ctx, orgID, in)
	if err != nil {
		return fmt.Errorf("user create: %w", err)
	}
	return json.NewEncoder(e.stdout).Encode(map[string]string{"user_id": u.ID})
}

// cmdUserStatus runs `atrium user deactivate|reactivate|delete --id ID`,
// acting with the rights of the user's organisation's owner.
func cmdUserStatus(ctx context.Context, e env, verb string, args []string) error {
	var db dbFlags
	var id string
	var yes bool
	fs := flag.NewFlagSet("user "+verb, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db.register(fs)
	fs.StringVar(&id, "id", "", "the user's id (required)")
	if verb == "delete" {
		fs.BoolVar(&yes, "yes", false, "confirm: the user's personal data is removed for good")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("user %s: --id is required", verb)
	}
	if verb == "delete" && !yes {
		return fmt.Errorf("user delete: this removes the user's personal data for good; add --yes to go ahead")
	}
	a, st, err := adminApp(ctx, e, db)
	if err != nil {
		return err
	}
	defer st.Close()
	switch verb {
	case "delete":
		err = a.DeleteUserAsSystem(ctx, id)
	case "deactivate":
		_, err = a.SetUserStatusAsSystem(ctx, id, atrium.StatusDeactivated)
	case "reactivate":
		_, err = a.SetUserStatusAsSystem(ctx, id, atrium.StatusActive)
	}
	if err != nil {
		return fmt.Errorf("user %s: %w", verb, err)
	}
	return json.NewEncoder(e.stdout).Encode(map[string]string{"user_id": id, "done": verb})
}
