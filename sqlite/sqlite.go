// Package sqlite keeps profileapi's data in one SQLite file, so that the
// service needs no database server: one binary and one file.
//
// Writes go through a single connection, so concurrent writers queue in Go
// instead of failing with SQLITE_BUSY; reads use a pool of read-only
// connections, which WAL lets run beside the writer. Every commit is synced
// to disk (synchronous=FULL), so an acknowledged write survives a crash.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/profileapi/profileapi"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a profileapi.Store kept in a SQLite file. It is safe for concurrent
// use.
type DB struct {
	// Now is the clock that stamps a time the caller left zero. Open sets
	// it to time.Now; tests may replace it before first use.
	Now func() time.Time

	path   string
	file   os.FileInfo // the file as opened, so that Ping notices it removed or replaced
	write  *sql.DB     // one connection: writers wait their turn here
	read   *sql.DB     // read-only connections
	access *sql.Stmt   // the public API's one query per request, prepared once
}

var _ profileapi.Store = (*DB)(nil)

// pragmas apply to every connection of both pools; the DSN carries them so
// that a connection the pool opens later gets them too.
var pragmas = []string{
	"busy_timeout(5000)", // another process may hold the lock for a moment
	"foreign_keys(1)",    // consents cascade when a customer or skill goes
	"journal_mode(WAL)",  // readers do not block the writer, nor it them
	"synchronous(FULL)",  // sync the WAL at every commit: acknowledged means durable
}

// Open opens the database file at path, creating it if needed, and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" || strings.Contains(path, "?") {
		// Each pool connection would get its own in-memory database, and a
		// '?' would be taken for the start of the DSN's parameters.
		return nil, profileapi.Errorf(profileapi.EINVALID, "sqlite: %q is not a database file path", path)
	}
	db := &DB{Now: time.Now, path: path}
	if err := db.open(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, formatError(err))
	}
	return db, nil
}

func (db *DB) open(ctx context.Context) error {
	var err error
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction, so
	// that a read-then-write one never fails to upgrade its lock midway.
	db.write, err = sql.Open("sqlite", dsn(db.path, "_txlock", "immediate"))
	if err != nil {
		return err
	}
	db.write.SetMaxOpenConns(1)
	if err := migrate(ctx, db.write); err != nil {
		return err
	}

	// The read pool opens after the migrations, once the file is in WAL
	// mode and has its tables.
	db.read, err = sql.Open("sqlite", dsn(db.path, "_pragma", "query_only(1)"))
	if err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	db.access, err = db.read.PrepareContext(ctx, accessQuery)
	if err != nil {
		return err
	}
	db.file, err = os.Stat(db.path)
	return err
}

// dsn names the file with the common pragmas and the given key/value pairs.
func dsn(path string, params ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	for i := 0; i+1 < len(params); i += 2 {
		q.Add(params[i], params[i+1])
	}
	return path + "?" + q.Encode()
}

// Close closes the database. Writes already acknowledged are on disk.
func (db *DB) Close() error {
	var errs []error
	if db.access != nil {
		errs = append(errs, db.access.Close())
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Ping reports whether the database can serve requests. Beyond a query, it
// checks that the file it opened is still the one at its path: open
// connections keep reading and writing a removed or replaced file, but
// whatever they write there is lost at the next start. Either is EUNAVAILABLE.
func (db *DB) Ping(ctx context.Context) error {
	fi, err := os.Stat(db.path)
	if err == nil && !os.SameFile(fi, db.file) {
		err = fmt.Errorf("%s is no longer the file that was opened", db.path)
	}
	if err != nil {
		return fmt.Errorf("sqlite: ping: %w", profileapi.Unavailable(err, time.Second))
	}
	var version int
	if err := db.read.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("sqlite: ping: %w", formatError(err))
	}
	return nil
}

// migrate applies, in order and each in its own transaction, the migrations
// the database has not had yet. A migration is a file named
// migrations/NNNN_what.sql; its number is its version.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	latest := 0
	for _, name := range names { // fs.Glob sorts: 0002 comes after 0001
		version, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		if err != nil || version <= latest {
			return fmt.Errorf("migration %s: want a name of the form NNNN_what.sql, numbered in order", name)
		}
		latest = version
		if err := applyMigration(ctx, db, version, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	var newest int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return err
	}
	if newest > latest {
		return fmt.Errorf("the database is at schema version %d, newer than this program's %d", newest, latest)
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, version int, name string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var applied bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, version).Scan(&applied); err != nil || applied {
		return err
	}
	script, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(script)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// stamp returns t, or the store's clock if t is zero, at the precision the
// store keeps: a millisecond, in UTC.
func (db *DB) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = db.Now()
	}
	return fromMillis(t.UnixMilli())
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
