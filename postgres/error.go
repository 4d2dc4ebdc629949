package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/profileapi/profileapi"
)

// formatError turns a driver error into the domain's kind, keeping it as the
// cause: no row and a missing parent are ENOTFOUND, a taken key ECONFLICT,
// text or a time the database cannot store EINVALID, and a server that cannot be reached, is shutting down or starting up, is
// out of resources or did not answer in time EUNAVAILABLE, so callers retry
// rather than report a bug. Anything else is returned as is.
func formatError(err error) error {
	var domain *profileapi.Error
	if err == nil || errors.As(err, &domain) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &profileapi.Error{Kind: profileapi.ENOTFOUND, Message: "not found", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case code == "23505": // unique_violation
			return &profileapi.Error{Kind: profileapi.ECONFLICT, Message: "already exists", Err: err}
		case code == "23503": // foreign_key_violation
			return &profileapi.Error{Kind: profileapi.ENOTFOUND, Message: "refers to something that does not exist", Err: err}
		case code == "22021" || code == "22P05": // character_not_in_repertoire, untranslatable_character
			return &profileapi.Error{Kind: profileapi.EINVALID, Message: "the database cannot store this text (a NUL byte, or not UTF-8)", Err: err}
		case code == "22008": // datetime_field_overflow
			return &profileapi.Error{Kind: profileapi.EINVALID, Message: "a time outside the years the database can store", Err: err}
		case unavailableCode(code):
			return profileapi.Unavailable(err, time.Second)
		}
		return err
	}
	if unreachable(err) {
		return profileapi.Unavailable(err, time.Second)
	}
	return err
}

// unavailableCode reports whether a SQLSTATE means the server cannot serve
// now but may soon: the fault is not in the request.
func unavailableCode(code string) bool {
	switch code {
	case "40001", // serialization_failure
		"40P01", // deadlock_detected
		"55P03", // lock_not_available
		"25006", // read_only_sql_transaction: a standby, during a failover
		"3D000", // invalid_catalog_name: the database is gone
		"42P01": // undefined_table: its schema is gone, until Ping makes it again
		return true
	}
	for _, class := range []string{
		"08", // connection exception
		"28", // invalid authorization: the password was changed under us
		"53", // insufficient resources: too many connections, disk full, out of memory
		"57", // operator intervention: shutdown, starting up, query cancelled
		"58", // system error: I/O
	} {
		if strings.HasPrefix(code, class) {
			return true
		}
	}
	return false
}

// schemaGone reports whether err says that a table is missing: the
// database was dropped and created again under the running service.
func schemaGone(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

// unreachable reports whether err is a failure to reach the server or to
// hear back from it in time, rather than an answer.
func unreachable(err error) bool {
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	return errors.Is(err, context.DeadlineExceeded) ||
		pgconn.Timeout(err) ||
		pgconn.SafeToRetry(err) ||
		errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}
