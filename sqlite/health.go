package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/profileapi/profileapi"
	sqlitedriver "modernc.org/sqlite"
)

// checkInterval is how often the watchdog looks at the database's files.
const checkInterval = 500 * time.Millisecond

// retryAfter is what callers are told while the database is unavailable.
const retryAfter = time.Second

// An open SQLite connection keeps reading and writing the file it opened,
// even after that file was removed from its path or another put in its
// place; whatever it writes there is lost at the next start. So the store
// remembers which files it opened (the database, its WAL and its index)
// and:
//
//   - after every commit, checks they are still the files at the path: if
//     not, the write is reported as failed (EUNAVAILABLE), never
//     acknowledged, and the store becomes unavailable;
//   - every checkInterval, a watchdog does the same check, so that reads
//     stop too, and, while unavailable, waits for the calls in flight to
//     end, then for a usable database at the path, and reopens on it.
//
// While unavailable every call fails fast with EUNAVAILABLE, and no
// connection is opened: one opened to a missing file would fail, and one
// opened next to connections that still have the old WAL could corrupt the
// file. One connection, the anchor, stays open from one opening to the
// next, so that SQLite never removes or recreates the WAL on its own, and
// so that, when the same database file comes back, whatever only the old
// WAL holds is checkpointed into it before anything else opens it.

// fileID is one file's identity and state, as stat tells them.
type fileID struct {
	info os.FileInfo // nil if there is no file
}

func (f fileID) exists() bool { return f.info != nil }

// same reports whether both are the same file (or both missing).
func (f fileID) same(g fileID) bool {
	if f.info == nil || g.info == nil {
		return f.info == nil && g.info == nil
	}
	return os.SameFile(f.info, g.info)
}

// unchanged reports whether both are the same file with the same size and
// modification time.
func (f fileID) unchanged(g fileID) bool {
	if !f.same(g) || f.info == nil {
		return f.same(g)
	}
	return f.info.Size() == g.info.Size() && f.info.ModTime().Equal(g.info.ModTime())
}

// files are the database file, its WAL and its shared-memory index.
type files struct {
	db, wal, shm fileID
}

func (fs files) unchanged(o files) bool {
	return fs.db.unchanged(o.db) && fs.wal.unchanged(o.wal) && fs.shm.unchanged(o.shm)
}

// statFiles stats the three files at path.
func statFiles(path string) (files, error) {
	var fs files
	for _, f := range []struct {
		id     *fileID
		suffix string
	}{{&fs.db, ""}, {&fs.wal, "-wal"}, {&fs.shm, "-shm"}} {
		fi, err := os.Stat(path + f.suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fs, err
		}
		f.id.info = fi
	}
	return fs, nil
}

// changed says how the files at the path differ from those opened, or ""
// if they do not.
func (db *DB) changed(now files) string {
	opened := db.opened.Load()
	switch {
	case !now.db.exists():
		return fmt.Sprintf("the database file %s was removed or moved away", db.path)
	case !now.db.same(opened.db):
		return fmt.Sprintf("the database file %s was replaced by another file", db.path)
	case !now.wal.same(opened.wal):
		return fmt.Sprintf("the database's WAL file %s-wal was removed or replaced", db.path)
	case !now.shm.same(opened.shm):
		return fmt.Sprintf("the database's index file %s-shm was removed or replaced", db.path)
	}
	return ""
}

// unavailable returns the error every call answers while the store is
// unavailable, or nil. It costs one atomic load.
func (db *DB) unavailable() error {
	if e := db.down.Load(); e != nil {
		return e
	}
	return nil
}

// verify checks that the files at the path are those the store opened, and
// makes the store unavailable if they are not.
func (db *DB) verify() error {
	if err := db.unavailable(); err != nil {
		return err
	}
	now, err := statFiles(db.path)
	if err != nil {
		return db.markDown(fmt.Errorf("sqlite: check the database files: %w", err))
	}
	if why := db.changed(now); why != "" {
		return db.markDown(errors.New("sqlite: " + why))
	}
	return nil
}

// markDown makes the store unavailable for the reason cause, and wakes the
// watchdog. It returns the error calls now answer.
func (db *DB) markDown(cause error) error {
	e := profileapi.Unavailable(cause, retryAfter)
	if db.down.CompareAndSwap(nil, e) {
		db.log().Warn("sqlite: the database is unavailable; every call fails until it is back", "path", db.path, "reason", cause.Error())
		select {
		case db.wake <- struct{}{}:
		default:
		}
		return e
	}
	return db.unavailable()
}

// stillDown replaces the reason the store is unavailable, logging it if it
// is news.
func (db *DB) stillDown(cause error) {
	old := db.down.Load()
	if old != nil && old.Err != nil && old.Err.Error() == cause.Error() {
		return
	}
	db.down.Store(profileapi.Unavailable(cause, retryAfter))
	db.log().Warn("sqlite: the database is still unavailable", "path", db.path, "reason", cause.Error())
}

// SetLogger sets where the store logs the database going away and coming
// back; slog.Default() until then.
func (db *DB) SetLogger(l *slog.Logger) { db.logger.Store(l) }

func (db *DB) log() *slog.Logger {
	if l := db.logger.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// watch runs check every interval, or sooner when a call finds the files
// changed, until Close.
func (db *DB) watch(interval time.Duration) {
	defer close(db.watchDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
		case <-db.wake:
		}
		db.check(context.Background())
	}
}

// check is one round of the watchdog: see that the files are still those
// opened or, if the store is unavailable, try to bring it back.
func (db *DB) check(ctx context.Context) {
	if db.unavailable() == nil && db.verify() == nil {
		return
	}
	// Idle connections close now; those in use, when their call ends.
	db.write.SetMaxIdleConns(0)
	db.read.SetMaxIdleConns(0)
	if err := db.reopen(ctx); err != nil {
		db.stillDown(err)
	}
}

// reopen brings the store back on the database at the path, if there is a
// usable one and no call still holds a connection to the old one.
func (db *DB) reopen(ctx context.Context) error {
	if db.write.Stats().OpenConnections+db.read.Stats().OpenConnections > 0 {
		return db.keepReason() // calls in flight still have the old files
	}
	now, err := statFiles(db.path)
	if err != nil {
		return fmt.Errorf("sqlite: check the database files: %w", err)
	}
	if !now.db.exists() {
		db.seen = nil
		return fmt.Errorf("sqlite: the database file %s is missing", db.path)
	}
	// A file being copied into place changes from one round to the next:
	// use it only once it has stood still for a round.
	if db.seen == nil || !db.seen.unchanged(now) {
		db.seen = &now
		return db.keepReason()
	}
	opened := db.opened.Load()
	sameDB := now.db.same(opened.db)
	if !sameDB && (db.stillOld(now.wal, opened.wal) || db.stillOld(now.shm, opened.shm)) {
		// SQLite would apply the old database's WAL to the new file.
		return fmt.Errorf("sqlite: %s is another file than the database that was there, but %s-wal and %s-shm are still those of the old one: remove them to use the new file", db.path, db.path, db.path)
	}
	if err := checkHeader(db.path); err != nil {
		return err
	}

	if db.anchor != nil {
		if sameDB {
			// The same file came back (it was moved away and back, or
			// only its WAL was removed): what the anchor's WAL holds
			// belongs in it.
			if _, err := db.anchor.conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				return fmt.Errorf("sqlite: checkpoint the WAL into %s: %w", db.path, err)
			}
		}
		db.anchor.close()
		db.anchor = nil
		db.anchorClosed = time.Now()
	}
	a, err := openAnchor(ctx, db.path, false)
	if err != nil {
		return fmt.Errorf("sqlite: reopen %s: %w", db.path, err)
	}
	db.anchor = a
	db.anchorClosed = time.Time{}
	db.opened.Store(&a.files)
	db.seen = nil
	db.write.SetMaxIdleConns(1)
	db.read.SetMaxIdleConns(db.readConns)
	db.down.Store(nil)
	db.log().Info("sqlite: the database is back", "path", db.path)
	return nil
}

// stillOld reports whether the file at the path now is the one the store
// had opened. Its identity is not enough once the anchor that held the old
// file is closed: the old file's inode, freed, may number a new file (the
// WAL a failed reopen made), which is no WAL of the old database. Nothing
// writes the old file once the anchor is closed, and its last write came
// a round or more (checkInterval) before: a file written since (give or
// take the file system's coarse clock) is a new one.
func (db *DB) stillOld(now, was fileID) bool {
	if !was.exists() || !now.same(was) {
		return false
	}
	return db.anchorClosed.IsZero() || now.info.ModTime().Before(db.anchorClosed.Add(-checkInterval/5))
}

// keepReason returns the reason the store is unavailable now, so that
// stillDown has nothing new to log.
func (db *DB) keepReason() error {
	if e := db.down.Load(); e != nil && e.Err != nil {
		return e.Err
	}
	return errors.New("sqlite: the database is unavailable")
}

// anchor is a connection held open from one opening of the database to
// the next: while it is open SQLite keeps the WAL and its index in place.
type anchor struct {
	db    *sql.DB
	conn  *sql.Conn
	files files // the files it opened
}

// openBusyWait is how long Open waits for another process setting up the
// same new file, as busy_timeout waits for a lock.
const openBusyWait = 5 * time.Second

// openAnchorWaiting is openAnchor, creating the file, tried again while it
// is busy: processes opening a new file together race to set it up, and
// SQLite answers the loser busy at once, without waiting for the lock.
func openAnchorWaiting(ctx context.Context, path string) (*anchor, error) {
	deadline := time.Now().Add(openBusyWait)
	for {
		a, err := openAnchor(ctx, path, true)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return a, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// openAnchor opens the database at path (creating it if create is set,
// else refusing a file without profileapi's schema), brings its schema up
// to date, and returns a connection that holds it open.
func openAnchor(ctx context.Context, path string, create bool) (*anchor, error) {
	if err := checkOwn(ctx, path); err != nil {
		return nil, openError(err)
	}
	mode := "rw"
	if create {
		mode = "rwc"
	}
	c, err := sqlitedriver.NewConnector(dsn(path, "mode", mode, "_txlock", "immediate"))
	if err != nil {
		return nil, err
	}
	a := &anchor{db: sql.OpenDB(c)}
	a.db.SetMaxOpenConns(1)
	if err := a.open(ctx, path, create); err != nil {
		a.close()
		return nil, openError(err)
	}
	return a, nil
}

func (a *anchor) open(ctx context.Context, path string, create bool) error {
	var err error
	if a.conn, err = a.db.Conn(ctx); err != nil {
		return err
	}
	if !create {
		var n int
		if err := a.conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errors.New("not a profileapi database: it has no schema_migrations table")
		}
	}
	if err := migrate(ctx, a.conn); err != nil {
		return err
	}
	if err := a.conn.Raw(func(dc any) error { return checkWritable(ctx, dc.(driver.ExecerContext)) }); err != nil {
		return err
	}
	// Having read, the connection has the WAL and its index open: they
	// exist now, and stay until it closes.
	a.files, err = statFiles(path)
	return err
}

// checkOwn refuses a database that holds tables but not profileapi's
// schema_migrations: another program's, which migrating would add tables
// to, and the connections' pragmas switch to WAL for good. It reads the
// file on a connection without those pragmas, so that it changes nothing.
// An empty file is an empty database, and one that is only being set up
// (its schema_migrations and nothing else) is profileapi's.
func checkOwn(ctx context.Context, path string) error {
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return nil // opening says what is wrong with it, or makes it
	}
	c, err := sqlitedriver.NewConnector("file:" + escapePath(path) + "?mode=rw&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	if len(tables) == 0 {
		return nil
	}
	// Ours has applied_at; golang-migrate's, for one, has dirty instead.
	var ours int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('schema_migrations') WHERE name = 'applied_at'`).Scan(&ours); err != nil {
		return err
	}
	if ours == 0 {
		if len(tables) > 5 {
			tables = append(tables[:5], "…")
		}
		return &setupError{fmt.Sprintf("not a profileapi database: it holds another program's tables (%s); give profileapi a file of its own", strings.Join(tables, ", ")), nil}
	}
	return nil
}

// checkWritable fails if the database cannot be written on the connection.
// One that SQLite could open on the file for reading only (the process may
// not write it, its directory, or its -wal or -shm files) opens, reads, and
// even begins a write transaction as if it could write: only a statement
// that writes fails, with SQLITE_READONLY. So one that changes nothing
// runs, and is rolled back.
func checkWritable(ctx context.Context, c driver.ExecerContext) error {
	if _, err := c.ExecContext(ctx, `BEGIN IMMEDIATE`, nil); err != nil {
		return err
	}
	_, err := c.ExecContext(ctx, `DELETE FROM schema_migrations WHERE 0`, nil)
	if _, rerr := c.ExecContext(context.Background(), `ROLLBACK`, nil); err == nil {
		err = rerr
	}
	return err
}

func (a *anchor) close() {
	if a.conn != nil {
		a.conn.Close()
	}
	a.db.Close()
}

// checkHeader refuses a file that is not a SQLite database, or is shorter
// than its header says: most likely still being copied into place.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("sqlite: %s is not a SQLite database (%d bytes)", path, fi.Size())
	}
	if string(h[:16]) != "SQLite format 3\x00" {
		return fmt.Errorf("sqlite: %s is not a SQLite database", path)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	// The page count is valid if the version-valid-for number matches
	// the change counter.
	if binary.BigEndian.Uint32(h[92:96]) == binary.BigEndian.Uint32(h[24:28]) && fi.Size() < pages*pageSize {
		return fmt.Errorf("sqlite: %s is %d bytes, shorter than the %d its header says: still being copied?", path, fi.Size(), pages*pageSize)
	}
	return nil
}
