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
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

	path      string
	write     *sql.DB   // one connection: writers wait their turn here
	read      *sql.DB   // read-only connections
	readConns int       // the read pool's size
	access    *sql.Stmt // the public API's one query per request, prepared once

	// What health.go keeps: the files the connections have open, and
	// why the store is unavailable (nil while it is not).
	opened atomic.Pointer[files]
	down   atomic.Pointer[profileapi.Error]
	logger atomic.Pointer[slog.Logger]

	// The watchdog's own; Close uses them once it has stopped.
	anchor *anchor
	seen   *files // the files at the path last round, while unavailable
	// anchorClosed is when reopen closed the anchor, until it opens one:
	// see stillOld.
	anchorClosed time.Time
	wake         chan struct{}
	stop         chan struct{}
	watchDone    chan struct{}
	closeOnce    sync.Once
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

// Open opens the database file at path, creating it if needed (mode 0600, as
// its -wal and -shm files then are), and brings its schema up to date. A
// file this process may only read, or cannot open or create, is an error
// that says what to check, not EUNAVAILABLE: waiting will not fix it.
//
// The store then watches the file: if it is removed or replaced while open,
// every call fails with EUNAVAILABLE, and once a database is back at the
// path the store reopens on it by itself (health.go).
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, checkInterval)
}

// open opens the store with a watchdog that runs every interval; with none
// if interval is 0, for tests that run its rounds themselves.
func open(ctx context.Context, path string, interval time.Duration) (*DB, error) {
	if path == "" || path == ":memory:" {
		// Each pool connection would get its own in-memory database.
		return nil, profileapi.Errorf(profileapi.EINVALID, "sqlite: %q is not a database file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, profileapi.Errorf(profileapi.EINVALID, "sqlite: %q is not a database file path: %v", path, err)
	}
	if err := createFile(abs); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db := &DB{Now: time.Now, path: abs, wake: make(chan struct{}, 1)}
	if err := db.open(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, formatError(err))
	}
	if interval > 0 {
		db.stop, db.watchDone = make(chan struct{}), make(chan struct{})
		go db.watch(interval)
	}
	return db, nil
}

func (db *DB) open(ctx context.Context) error {
	// The anchor creates the file and migrates it; the pools' connections
	// then open it with mode=rw, so that none ever creates an empty
	// database where the file has gone.
	var err error
	if db.anchor, err = openAnchorWaiting(ctx, db.path); err != nil {
		return err
	}
	db.opened.Store(&db.anchor.files)

	// BEGIN IMMEDIATE takes the write lock at the start of a transaction, so
	// that a read-then-write one never fails to upgrade its lock midway.
	w, err := newConnector(db, dsn(db.path, "mode", "rw", "_txlock", "immediate"), true)
	if err != nil {
		return err
	}
	db.write = sql.OpenDB(w)
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)

	r, err := newConnector(db, dsn(db.path, "mode", "rw", "_pragma", "query_only(1)"), false)
	if err != nil {
		return err
	}
	db.read = sql.OpenDB(r)
	db.readConns = max(4, runtime.GOMAXPROCS(0))
	db.read.SetMaxOpenConns(db.readConns)
	db.read.SetMaxIdleConns(db.readConns)
	db.access, err = db.read.PrepareContext(ctx, accessQuery)
	return err
}

// createFile creates the database file, empty and readable and writable by
// its owner only, if there is none. SQLite would create it as the umask
// allows, often readable by everyone, and it holds personal data; SQLite
// then gives the -wal, -shm and -journal files the database file's mode.
// An empty file is an empty database. A file already there keeps its mode:
// whoever made it may have chosen it.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		cause := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			cause = pe.Err // the path is said already
		}
		return &setupError{fmt.Sprintf("cannot create the database file: %v: does its directory exist, and may this process write there?", cause), err}
	}
	return f.Close()
}

// dsn names the file, as a URI so that SQLite applies mode=, with the
// common pragmas and the given key/value pairs.
func dsn(path string, params ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	for i := 0; i+1 < len(params); i += 2 {
		q.Add(params[i], params[i+1])
	}
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// escapePath writes an absolute file path for a file: URI. In a URI '%'
// escapes, '?' starts the query and '#' a fragment; an absolute path
// cannot be taken for an authority.
func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(path))
}

// Close closes the database. Writes already acknowledged are on disk.
func (db *DB) Close() error {
	var errs []error
	db.closeOnce.Do(func() {
		if db.stop != nil {
			close(db.stop)
			<-db.watchDone
		}
		if db.access != nil {
			errs = append(errs, db.access.Close())
		}
		if db.read != nil {
			errs = append(errs, db.read.Close())
		}
		if db.write != nil {
			errs = append(errs, db.write.Close())
		}
		// Last: the last connection to close checkpoints the WAL.
		if db.anchor != nil {
			db.anchor.close()
		}
	})
	return errors.Join(errs...)
}

// Ping reports whether the database can serve requests. Beyond a query, it
// checks that the files it opened are still those at its path: open
// connections keep reading and writing a removed or replaced file, but
// whatever they write there is lost at the next start. Either is EUNAVAILABLE,
// until the watchdog has reopened the store on a database back at the path.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.verify(); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
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
func migrate(ctx context.Context, db migrator) error {
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

// migrator is a *sql.DB or a *sql.Conn.
type migrator interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

func applyMigration(ctx context.Context, db migrator, version int, name string) error {
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
