// Package postgres keeps profileapi's data in PostgreSQL, so that several
// nodes can serve as one: each reads and writes the same tables, and what
// one node changes the next request to any other sees.
//
// The store fails fast rather than hangs. Connecting is bounded by a
// connect timeout and every call by CallTimeout, and a server that is down,
// restarting or out of reach is reported as EUNAVAILABLE, which the HTTP
// layer answers with 503 and Retry-After. The pool drops dead connections
// and dials new ones on demand, so the store recovers by itself when the
// server returns.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/profileapi/profileapi"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a profileapi.Store kept in PostgreSQL. It is safe for concurrent
// use, by any number of processes sharing the database.
type DB struct {
	// Now is the clock that stamps a time the caller left zero. Open sets
	// it to time.Now; tests may replace it before first use.
	Now func() time.Time
	// CallTimeout bounds each call whose context has no sooner deadline,
	// so that a server that stopped answering fails the call with
	// EUNAVAILABLE instead of holding it; 0 leaves calls to their context.
	// Open sets DefaultCallTimeout.
	CallTimeout time.Duration

	pool *pgxpool.Pool
}

var _ profileapi.Store = (*DB)(nil)

// Timeouts of a DB. A connection to a live server on a working network
// takes milliseconds, but a loaded server forks its backends late: libpq
// advises no less than 2 s, and at 1 s connections failed on a busy
// two-core machine. A call is bounded by its own timeout meanwhile.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultCallTimeout    = 2 * time.Second
)

// migrationLock is the pg_advisory_xact_lock key that lets one node at a
// time migrate: "profilea" as a number, so that no other program picks it
// by chance.
const migrationLock int64 = 0x70726f66_696c6561

// Open connects to the database that url names (postgres://user:pass@host/db?...),
// brings its schema up to date and returns the store. Several nodes may
// open one database at once: they take turns migrating it. Unless the URL
// sets connect_timeout, connecting times out after DefaultConnectTimeout.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message hides the password.
		return nil, profileapi.Errorf(profileapi.EINVALID, "postgres: %v", err)
	}
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	where := fmt.Sprintf("database %q on %s:%d", cfg.ConnConfig.Database, cfg.ConnConfig.Host, cfg.ConnConfig.Port)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", where, formatError(err))
	}
	db := &DB{Now: time.Now, CallTimeout: DefaultCallTimeout, pool: pool}
	if err := checkEncoding(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where, formatError(err))
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where, formatError(err))
	}
	return db, nil
}

// Close closes every connection, waiting for calls in progress to end.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping reports whether the database can serve requests: a server that
// cannot be reached is EUNAVAILABLE. A schema that is gone (the database
// was dropped and created again) is made again, as Open would; until then,
// calls answer EUNAVAILABLE. GET /readyz, which a load balancer polls,
// pings.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var version int
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version)
	if schemaGone(err) {
		if err = checkEncoding(ctx, db.pool); err == nil {
			err = migrate(ctx, db.pool)
		}
	}
	if err != nil {
		err = formatError(err)
		if profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE {
			err = profileapi.Unavailable(err, time.Second)
		}
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// rollback ends tx if it has not committed, within the call timeout even
// once ctx is done: a server that stopped answering must not hang the call.
func (db *DB) rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := db.bound(context.WithoutCancel(ctx))
	defer cancel()
	_ = tx.Rollback(ctx)
}

// bound returns ctx limited to the call timeout, unless its own deadline
// comes sooner.
func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return db.boundRows(ctx, time.Now(), 0)
}

// boundRows is bound for a call begun at start that writes rows rows: the
// call timeout plus a millisecond a row, tens of times what a row takes, so
// that a large write to a server that stops answering fails rather than
// hangs, and one to a healthy server is not cut short.
func (db *DB) boundRows(ctx context.Context, start time.Time, rows int) (context.Context, context.CancelFunc) {
	deadline := start.Add(db.CallTimeout + time.Duration(rows)*time.Millisecond)
	if d, ok := ctx.Deadline(); db.CallTimeout <= 0 || ok && !d.After(deadline) {
		return ctx, noCancel
	}
	return context.WithDeadline(ctx, deadline)
}

func noCancel() {}

// migrate applies, in order and in one transaction, the migrations the
// database has not had yet. A migration is a file named
// migrations/NNNN_what.sql; its number is its version. The transaction
// first takes an advisory lock, so that nodes starting together migrate
// one after another: the first applies, the others find nothing to do.
// A database already up to date is only read, so that a role that may
// read and write the tables but not create any can start on it.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	files, err := migrationFiles()
	if err != nil {
		return err
	}
	latest := files[len(files)-1].version
	newest, err := schemaVersion(ctx, pool)
	if err != nil {
		return err
	}
	if newest >= latest {
		return checkVersion(newest, latest)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("lock for migration: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     NOT NULL PRIMARY KEY,
		applied_at timestamptz NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	// Again, under the lock: another node may have migrated meanwhile.
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return err
	}
	for _, f := range files {
		if f.version <= newest {
			continue
		}
		script, err := migrations.ReadFile(f.name)
		if err != nil {
			return err
		}
		// With no arguments, Exec uses the simple protocol, which runs a
		// script of several statements.
		if _, err := tx.Exec(ctx, string(script)); err != nil {
			return fmt.Errorf("migration %s: %w", f.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, f.version); err != nil {
			return fmt.Errorf("migration %s: %w", f.name, err)
		}
	}
	if err := checkVersion(newest, latest); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// checkEncoding refuses a database that does not keep text in UTF-8: pgx
// would talk to it in its own encoding, refusing the names it cannot hold
// and showing other tools the rest garbled.
func checkEncoding(ctx context.Context, pool *pgxpool.Pool) error {
	var encoding string
	if err := pool.QueryRow(ctx, `SHOW server_encoding`).Scan(&encoding); err != nil {
		return err
	}
	if encoding != "UTF8" {
		return profileapi.Errorf(profileapi.EINVALID, "the database keeps text in %s, not UTF8: create it with ENCODING 'UTF8' (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)", encoding)
	}
	return nil
}

// migrationFile is one migration: its file and version.
type migrationFile struct {
	name    string
	version int
}

// migrationFiles lists the migrations in order of version.
func migrationFiles() ([]migrationFile, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var files []migrationFile
	for _, name := range names { // fs.Glob sorts: 0002 comes after 0001
		version, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		if err != nil || len(files) > 0 && version <= files[len(files)-1].version || version <= 0 {
			return nil, fmt.Errorf("migration %s: want a name of the form NNNN_what.sql, numbered in order", name)
		}
		files = append(files, migrationFile{name, version})
	}
	if len(files) == 0 {
		return nil, errors.New("no migrations")
	}
	return files, nil
}

// schemaVersion is the version of the database's schema: 0 if it has none.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var exists, ours bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL,
		EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('schema_migrations') AND attname = 'applied_at' AND NOT attisdropped)`).Scan(&exists, &ours); err != nil || !exists {
		return 0, err
	}
	if !ours {
		// Another tool's (golang-migrate's has version and dirty): its
		// versions are not ours, and our tables would never be made.
		return 0, errors.New("the database has a schema_migrations table that is not profileapi's (another migration tool's?): give profileapi a database of its own, or a schema of its own first on the role's search_path")
	}
	var version int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version)
	return version, err
}

// checkVersion refuses a database migrated by a newer program.
func checkVersion(newest, latest int) error {
	if newest > latest {
		return fmt.Errorf("the database is at schema version %d, newer than this program's %d", newest, latest)
	}
	return nil
}

// stamp returns t, or the store's clock if t is zero, at the precision the
// store keeps: a millisecond, in UTC.
func (db *DB) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = db.Now()
	}
	return millis(t)
}

// millis truncates t to the millisecond, in UTC.
func millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// querier is the pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// affectedOne reports pgx.ErrNoRows, which formatError makes ENOTFOUND, if
// a delete found nothing to delete.
func affectedOne(tag pgconn.CommandTag, err error) error {
	if err == nil && tag.RowsAffected() == 0 {
		return pgx.ErrNoRows
	}
	return err
}
