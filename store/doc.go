// Package store is Atrium's persistence: one hand-written SQL
// implementation over database/sql for both embedded SQLite (the default,
// pure Go) and PostgreSQL (for scale), with versioned migrations embedded in
// the binary.
//
// All SQL uses $1, $2… placeholders, identifiers are made by the
// application, and times are Unix milliseconds. What differs between the two
// databases lives in dialect.go. Writes go through Store.Tx; on SQLite they
// queue in Go on a single connection, so writers never fail with
// SQLITE_BUSY, while reads use a pool of their own.
//
// The behaviour of every query is tested once, in storetest, and run on
// both databases.
package store
