package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	// ACCESS_NOT_REQUESTED ("Access denied with reason:
	// ACCESS_NOT_REQUESTED", as the live service words it): the customer has not granted the scope, or has
	// revoked it. Ask for it with an AskForPermissionsConsent card.
	ErrPermissionNotGranted = errors.New("permission not granted by the customer")

	// ErrPermissionNotDeclared matches a 403 whose message gives the reason
	// FORBIDDEN ("Access denied with reason: FORBIDDEN"; a proxy's 403
	// with the code FORBIDDEN is not one): the skill never declared the scope among its permissions,
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
	reasonPrefix       = "Access denied with reason: "
	reasonNotRequested = "ACCESS_NOT_REQUESTED"
	reasonForbidden    = "FORBIDDEN"
)

// What an APIError keeps of a response's code and message at most: the
// API's are a few dozen bytes, and a skill logs its errors, so a hostile or
// broken server must not fill its logs.
const (
	maxCode    = 64
	maxMessage = 512
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
	//
	// Code and Message are safe to log: the token, should the body repeat
	// it, is replaced by "[token]", control characters and invalid UTF-8 by
	// U+FFFD, and they are cut, with "…", at 64 and 512 bytes.
	Message string
	// Scope is the scope the operation needs: the one to list in an
	// AskForPermissionsConsent card when the customer has not granted it.
	Scope Scope
	// RetryAfter is the response's Retry-After, 0 if it had none.
	RetryAfter time.Duration
	// RequestID is the response's X-Request-Id, under which a profileapi
	// server logged the call and keeps it in its journal; empty if the
	// response had none, or one that is no request id (over 64 bytes, or
	// other than letters, digits, '-', '_' and '.').
	RequestID string
}

func newAPIError(resp *http.Response, body []byte, scope Scope, now time.Time, token string) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Scope:      scope,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now),
	}
	if id := resp.Header.Get("X-Request-Id"); isRequestID(id) {
		e.RequestID = id
	}
	var wire struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &wire) == nil {
		// Redacted before the cut, which could leave part of the token.
		e.Code = loggable(redactToken(wire.Code, token), maxCode)
		e.Message = loggable(redactToken(wire.Message, token), maxMessage)
	}
	return e
}

// redactToken is s without the token, which a gateway that refused it may
// echo in its error body.
func redactToken(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, redactedToken)
}

// redactedToken stands for the token wherever it would be shown.
const redactedToken = "[token]"

// isRequestID reports whether s is what a profileapi server, or a proxy
// before it, would send as a request id: the server's own rule for one it
// is sent (internal/web), repeated, as the client imports nothing of the
// server.
func isRequestID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// loggable is s with its control characters and invalid UTF-8 replaced,
// which could otherwise forge log lines or drive a terminal, cut at a rune
// boundary to at most limit bytes.
func loggable(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Bidi_Control) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	cut := limit - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
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

// reason is the reason a 403's message gives, in the live service's words
// ("Access denied with reason: FORBIDDEN"), or "". Only those words count:
// a proxy's or firewall's 403 saying "forbidden" is not the skill's
// missing permission.
func (e *APIError) reason() string {
	r, ok := strings.CutPrefix(e.Message, reasonPrefix)
	if r = strings.TrimSpace(r); ok && (r == reasonNotRequested || r == reasonForbidden) {
		return r
	}
	return ""
}
