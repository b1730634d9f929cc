package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// tempDatabase is a PostgreSQL database made for one run.
type tempDatabase struct {
	admin string // the administrator's URL it was made with
	Name  string
	URL   string // the URL the server connects with
}

// createDatabase makes a fresh database named atrium_bench_<random>.
func createDatabase(ctx context.Context, adminURL string) (*tempDatabase, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "atrium_bench_" + hex.EncodeToString(b[:])
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("--postgres-url: %w", err)
	}
	u.Path = "/" + name
	if err := adminExec(ctx, adminURL, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	return &tempDatabase{admin: adminURL, Name: name, URL: u.String()}, nil
}

// drop removes the database, ending any connection still open to it.
func (d *tempDatabase) drop(ctx context.Context) error {
	return adminExec(context.WithoutCancel(ctx), d.admin, "DROP DATABASE IF EXISTS "+d.Name+" WITH (FORCE)")
}

func adminExec(ctx context.Context, adminURL, stmt string) error {
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}
