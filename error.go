package profileapi

import (
	"errors"
	"fmt"
	"time"
)

// Error kinds. Each maps to one HTTP status in internal/web; the domain
// names what went wrong, the edge decides how to say it.
const (
	EINVALID      = "invalid"      // the caller sent something malformed
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials, not allowed
	ENOTFOUND     = "not_found"    // no such thing
	ECONFLICT     = "conflict"     // it exists already
	ETOOLARGE     = "too_large"    // the body is over its cap
	ERATELIMITED  = "rate_limited" // over a rate limit; RetryAfter says when to come back
	EUNAVAILABLE  = "unavailable"  // a dependency is down; RetryAfter says when to come back
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is an error with a kind and a message safe to show the caller.
// Err, if set, is the cause: it is logged, never sent.
type Error struct {
	Kind    string
	Message string
	// Code overrides the wire code the kind implies, where the contract
	// tells two cases of one status apart (INVALID_KEY and NOT_FOUND).
	Code       string
	RetryAfter time.Duration
	Err        error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the kind with a formatted message.
func Errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a storage or network failure as EUNAVAILABLE, so
// callers are told to come back rather than shown a 500.
func Unavailable(err error, retryAfter time.Duration) *Error {
	return &Error{Kind: EUNAVAILABLE, Message: "the service is temporarily unavailable, retry later", RetryAfter: retryAfter, Err: err}
}

// ErrorKind returns the kind of err, or EINTERNAL if it is not an *Error.
func ErrorKind(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EINTERNAL
}

// IsNotFound reports whether err is of kind ENOTFOUND.
func IsNotFound(err error) bool { return err != nil && ErrorKind(err) == ENOTFOUND }

// Absent names what a store's ENOTFOUND was about, "skill ID does not
// exist", which the store's message cannot: only the caller knows what it
// looked up. Any other error is returned as it is.
func Absent(err error, what, id string) error {
	if !IsNotFound(err) {
		return err
	}
	return &Error{Kind: ENOTFOUND, Message: what + " " + id + " does not exist", Err: err}
}
