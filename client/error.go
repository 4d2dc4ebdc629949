package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors a skill can act on, matched with errors.Is. The package comment
// says what a skill should do about each.
var (
	// ErrAccessDenied matches every 403: the token is valid but the skill may
	// not read the field. ErrPermissionNotGranted and ErrPermissionNotDeclared
	// tell the two known reasons apart; a 403 with another reason matches
	// only ErrAccessDenied.
	ErrAccessDenied = errors.New("access denied")

	// ErrPermissionNotGranted matches a 403 whose message gives the reason
	// ACCESS_NOT_REQUESTED: the customer has not granted the scope, or has
	// revoked it. Ask for it with an AskForPermissionsConsent card.
	ErrPermissionNotGranted = errors.New("permission not granted by the customer")

	// ErrPermissionNotDeclared matches a 403 whose message gives the reason
	// FORBIDDEN: the skill never declared the scope among its permissions,
	// so no customer can grant it. It is a bug in the skill's configuration.
	ErrPermissionNotDeclared = errors.New("permission not declared by the skill")

	// ErrNoValue matches a 204 No Content (alexa wire mode) or a 404 with
	// the code NOT_FOUND (documented wire mode): the customer has not filled
	// in the field. A 404 with another code, such as INVALID_KEY, does not
	// match.
	ErrNoValue = errors.New("no value")

	// ErrUnauthorized matches a 401: the token is missing, malformed,
	// expired, or was issued for another region's endpoint.
	ErrUnauthorized = errors.New("unauthorized")

	// ErrThrottled matches a 429 that persisted through the retries: the
	// skill is over its rate limit.
	ErrThrottled = errors.New("throttled")

	// ErrUnavailable matches a 500, 502, 503 or 504 that persisted through
	// the retries, and a network failure (which also wraps the net/http
	// error).
	ErrUnavailable = errors.New("service unavailable")
)

// The reasons a 403 message gives, as the contract and the live service
// word them: "Access denied with reason: ACCESS_NOT_REQUESTED".
const (
	reasonNotRequested = "ACCESS_NOT_REQUESTED"
	reasonForbidden    = "FORBIDDEN"
)

// APIError is a response other than 200 OK. Get it with errors.As for the
// details; match it against the Err variables with errors.Is.
type APIError struct {
	// StatusCode is the HTTP status, such as 403.
	StatusCode int
	// Code is the machine-readable code of the error body, such as
	// "ACCESS_DENIED"; empty if the response had no JSON error body (a 204,
	// or an answer from a proxy).
	Code string
	// Message is the human-readable message of the error body, such as
	// "Access denied with reason: ACCESS_NOT_REQUESTED".
	Message string
	// Scope is the scope the operation needs: the one to list in an
	// AskForPermissionsConsent card when the customer has not granted it.
	Scope Scope
	// RetryAfter is the response's Retry-After, 0 if it had none.
	RetryAfter time.Duration
	// RequestID is the response's X-Request-Id, under which a profileapi
	// server logged the call and keeps it in its journal; empty if the
	// response had none.
	RequestID string
}

func newAPIError(resp *http.Response, body []byte, scope Scope, now time.Time) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Scope:      scope,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now),
		RequestID:  resp.Header.Get("X-Request-Id"),
	}
	var wire struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &wire) == nil {
		e.Code, e.Message = wire.Code, wire.Message
	}
	return e
}

// Error reads like "client: Profile.email: 403 Forbidden: ACCESS_DENIED:
// Access denied with reason: ACCESS_NOT_REQUESTED (request id 9f2c…)", the
// request id only when the response had one.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	if s := e.Scope.setting(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" ")
		b.WriteString(text)
	}
	for _, s := range [...]string{e.Code, e.Message} {
		if s != "" {
			b.WriteString(": ")
			b.WriteString(s)
		}
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether the error matches one of the Err variables, so that
// errors.Is(err, ErrPermissionNotGranted) works through any wrapping.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAccessDenied:
		return e.StatusCode == http.StatusForbidden
	case ErrPermissionNotGranted:
		return e.StatusCode == http.StatusForbidden && e.reason() == reasonNotRequested
	case ErrPermissionNotDeclared:
		return e.StatusCode == http.StatusForbidden && e.reason() == reasonForbidden
	case ErrNoValue:
		return e.StatusCode == http.StatusNoContent ||
			e.StatusCode == http.StatusNotFound && e.Code == "NOT_FOUND"
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnavailable:
		switch e.StatusCode {
		case http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
	}
	return false
}

// reason is the reason a 403 gives in its message or, from a server that
// puts it there, in its code.
func (e *APIError) reason() string {
	for _, s := range [...]string{e.Message, e.Code} {
		// ACCESS_NOT_REQUESTED first: it is the more specific of the two.
		for _, r := range [...]string{reasonNotRequested, reasonForbidden} {
			if strings.Contains(s, r) {
				return r
			}
		}
	}
	return ""
}
