package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/atrium-dev/atrium"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrationFiles embed.FS

// MigrationFS returns the embedded migrations of one dialect ("sqlite" or
// "postgres").
func MigrationFS(dialect string) (fs.FS, error) {
	return fs.Sub(migrationFiles, "migrations/"+dialect)
}

// provider returns a goose provider for the store's dialect. On PostgreSQL
// a session advisory lock keeps two nodes starting together from migrating
// at once.
func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := MigrationFS(s.dialect.name())
	if err != nil {
		return nil, err
	}
	gd := goose.DialectSQLite3
	var opts []goose.ProviderOption
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	if s.dialect.name() == "postgres" {
		gd = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(gd, s.write, fsys, opts...)
}

// SchemaVersion returns the schema version applied to the database and the
// newest version this binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, known int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, fmt.Errorf("store: migrations: %w", err)
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		known = srcs[len(srcs)-1].Version
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, known, fmt.Errorf("store: read schema version: %w", err)
	}
	return current, known, nil
}

// CheckSchema refuses a database whose schema is newer than this binary
// knows: an older binary must never write to a newer schema.
func (s *Store) CheckSchema(ctx context.Context) error {
	current, known, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > known {
		return &atrium.Error{Code: atrium.EUpgrade, Message: fmt.Sprintf(
			"the database schema is at version %d but this atrium binary knows only up to %d: upgrade atrium before using this database",
			current, known)}
	}
	return nil
}

// Migrate applies pending migrations, each in its own transaction, after
// checking the schema is not newer than this binary. It returns the
// versions applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	if err := s.CheckSchema(ctx); err != nil {
		return nil, err
	}
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	var applied []int64
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}
