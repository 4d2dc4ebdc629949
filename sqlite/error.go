package sqlite

import (
	"database/sql"
	"errors"
	"time"

	"github.com/profileapi/profileapi"
	driver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// formatError turns a driver error into the domain's kind, keeping it as the
// cause: no row and a missing parent are ENOTFOUND, a taken key ECONFLICT, and
// a database that is busy, full, read-only or failing EUNAVAILABLE, so
// callers retry rather than report a bug. Anything else is returned as is.
func formatError(err error) error {
	var domain *profileapi.Error
	if err == nil || errors.As(err, &domain) {
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
	}
	switch e.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL:
		return profileapi.Unavailable(err, time.Second)
	}
	return err
}
