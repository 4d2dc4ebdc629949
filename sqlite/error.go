package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/profileapi/profileapi"
	driver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// formatError turns a driver error into the domain's kind, keeping it as the
// cause: no row and a missing parent are ENOTFOUND, a taken key ECONFLICT, and
// a database that is busy, full, read-only or failing EUNAVAILABLE, so
// callers retry rather than report a bug: a disk that turns read-only while
// the server runs is an outage its operator ends (Open refuses a read-only
// file from the start, see openError). A setupError, and anything else, is
// returned as is.
func formatError(err error) error {
	var domain *profileapi.Error
	var setup *setupError
	if err == nil || errors.As(err, &domain) || errors.As(err, &setup) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &profileapi.Error{Kind: profileapi.ENOTFOUND, Message: "not found", Err: err}
	}
	var e *driver.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return &profileapi.Error{Kind: profileapi.ECONFLICT, Message: "already exists", Err: err}
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return &profileapi.Error{Kind: profileapi.ENOTFOUND, Message: "refers to something that does not exist", Err: err}
	case sqlite3.SQLITE_READONLY_DBMOVED:
		// The file was moved or removed while open: the watchdog's
		// business (health.go), an outage like the others.
		return profileapi.Unavailable(err, time.Second)
	}
	switch e.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL:
		return profileapi.Unavailable(err, time.Second)
	case sqlite3.SQLITE_READONLY:
		// The logged cause says what to check.
		return profileapi.Unavailable(fmt.Errorf("%s: %w", readOnly, err), time.Second)
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		// Not a bug of this program's, and no answer: an outage its
		// operator ends, as the logged cause says.
		return profileapi.Unavailable(fmt.Errorf("%s: %w", damaged, err), time.Second)
	}
	return err
}

// damaged says what SQLITE_CORRUPT and SQLITE_NOTADB mean once the
// database has opened.
const damaged = "the database file is damaged (a disk fault, or a backup restored next to the old -wal file): stop serve and restore a backup, without the old -wal and -shm files"

// readOnly says what SQLITE_READONLY means here.
const readOnly = "the database file is read-only for this process (check the owner and mode of the file, of its -wal and -shm files and of its directory)"

// setupError is why the database at a path cannot be used as it is: a
// directory that is not there, a file this process may not write. Whoever
// runs the server has to fix it, so Open reports it as it is, not as an
// outage to wait out. (The watchdog, meeting one when a file comes back at
// the path, keeps the store unavailable and tries again until it is fixed.)
type setupError struct {
	msg string // what is wrong and what to check, with the cause
	err error  // the cause
}

func (e *setupError) Error() string { return e.msg }
func (e *setupError) Unwrap() error { return e.err }

// openError says what to check when SQLite cannot open the database file, or
// may only read it; other errors it formats.
// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var e *driver.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

func openError(err error) error {
	var e *driver.Error
	if !errors.As(err, &e) {
		return formatError(err)
	}
	switch {
	case e.Code() == sqlite3.SQLITE_READONLY_DBMOVED:
	case e.Code()&0xff == sqlite3.SQLITE_READONLY:
		return &setupError{readOnly + ": " + err.Error(), err}
	case e.Code()&0xff == sqlite3.SQLITE_CANTOPEN:
		return &setupError{"cannot open the database file (is it a file, does its directory exist, and may this process read and write them?): " + err.Error(), err}
	case e.Code()&0xff == sqlite3.SQLITE_NOTADB:
		return &setupError{"not a SQLite database (is --db the right file?): " + err.Error(), err}
	case e.Code()&0xff == sqlite3.SQLITE_CORRUPT:
		return &setupError{"the database file is damaged: restore a backup, without the old -wal and -shm files: " + err.Error(), err}
	}
	return formatError(err)
}
