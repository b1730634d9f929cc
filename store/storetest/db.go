// Package storetest runs one conformance suite against every database the
// store supports, and gives other packages' tests a fresh, migrated store
// on either database.
//
// PostgreSQL is required: tests connect to ATRIUM_TEST_POSTGRES_URL
// (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable),
// create a database of their own and drop it afterwards. A test that
// cannot reach PostgreSQL fails; it never skips.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/atrium-dev/atrium/store"
)

// DefaultPostgresURL is the server the tests use unless
// ATRIUM_TEST_POSTGRES_URL names another.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Dialects are the databases every store test runs on.
var Dialects = []string{"sqlite", "postgres"}

// AdminURL returns the URL of the PostgreSQL server used by the tests.
func AdminURL() string {
	if u := os.Getenv("ATRIUM_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// NewConfig returns the configuration of a fresh, empty database of the
// given dialect, dropped when the test ends.
func NewConfig(t testing.TB, dialect string) store.Config {
	t.Helper()
	cfg := store.Config{DataDir: t.TempDir(), Synchronous: "normal"}
	if dialect == "postgres" {
		cfg.URL = CreatePostgresDB(t)
	}
	return cfg
}

// Open returns a fresh, migrated store of the given dialect, closed when
// the test ends.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	return OpenConfig(t, NewConfig(t, dialect))
}

// OpenConfig opens and migrates the store cfg names, closed when the test
// ends.
func OpenConfig(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s store: %v", dialectOf(cfg), err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s store: %v", dialectOf(cfg), err)
	}
	return s
}

func dialectOf(cfg store.Config) string {
	if cfg.URL == "" {
		return "sqlite"
	}
	return "postgres"
}

// CreatePostgresDB creates an empty database on the test server and returns
// its URL; the database is dropped when the test ends.
func CreatePostgresDB(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("pgx", AdminURL())
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	ctx := context.Background()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("PostgreSQL is required for the store tests and is not reachable at %s: %v "+
			"(start it, or set ATRIUM_TEST_POSTGRES_URL)", AdminURL(), err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "atrium_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("postgres: create database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", AdminURL())
		if err != nil {
			return
		}
		defer a.Close()
		a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("postgres url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
