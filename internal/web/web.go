// Package web holds what both listeners share: the handler adapter that
// turns a returned error into the one JSON error body, JSON encoding and
// size-capped decoding, request ids, logging and panic recovery.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/profileapi/profileapi"
)

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// status maps each error kind to its HTTP status and default wire code.
var status = map[string]struct {
	status int
	code   string
}{
	profileapi.EINVALID:      {http.StatusBadRequest, "INVALID_REQUEST"},
	profileapi.EUNAUTHORIZED: {http.StatusUnauthorized, "INVALID_TOKEN"},
	profileapi.EFORBIDDEN:    {http.StatusForbidden, "ACCESS_DENIED"},
	profileapi.ENOTFOUND:     {http.StatusNotFound, "NOT_FOUND"},
	profileapi.ECONFLICT:     {http.StatusConflict, "CONFLICT"},
	profileapi.ETOOLARGE:     {http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE"},
	profileapi.ERATELIMITED:  {http.StatusTooManyRequests, "TOO_MANY_REQUESTS"},
	profileapi.EUNAVAILABLE:  {http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE"},
	profileapi.EINTERNAL:     {http.StatusInternalServerError, "UNKNOWN_ERROR"},
	EMETHOD:                  {http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
	EHEADERS:                 {http.StatusRequestHeaderFieldsTooLarge, "REQUEST_HEADER_FIELDS_TOO_LARGE"},
}

// Kinds that only the HTTP edge produces.
const (
	EMETHOD  = "method_not_allowed"
	EHEADERS = "headers_too_large"
)

// StatusOf returns the HTTP status and wire code for err.
func StatusOf(err error) (int, ErrorBody) {
	var e *profileapi.Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.DeadlineExceeded) {
			return http.StatusServiceUnavailable, ErrorBody{"SERVICE_UNAVAILABLE", "the service did not answer in time, retry later"}
		}
		return http.StatusInternalServerError, ErrorBody{"UNKNOWN_ERROR", "an unexpected error occurred"}
	}
	s, ok := status[e.Kind]
	if !ok {
		s = status[profileapi.EINTERNAL]
	}
	body := ErrorBody{Code: s.code, Message: e.Message}
	if e.Code != "" {
		body.Code = e.Code
	}
	if s.status == http.StatusInternalServerError {
		body.Message = "an unexpected error occurred"
	}
	return s.status, body
}

// Status returns err's HTTP status and wire code.
func Status(err error) (int, string) {
	code, body := StatusOf(err)
	return code, body.Code
}

// WriteError answers with err's status and JSON body. Only the public
// message reaches the client; the cause is logged with the request id.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	code, body := StatusOf(err)
	h := w.Header()
	var e *profileapi.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	} else if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
		h.Set("Retry-After", "1")
	}
	if code == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	if i := InfoFrom(r.Context()); i != nil {
		i.ErrorCode = body.Code
		if code >= 500 {
			i.Err = err // the cause, for the log line only
		}
	}
	Encode(w, code, body)
}

// Encode writes v as JSON with the status.
func Encode(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"UNKNOWN_ERROR","message":"an unexpected error occurred"}`)
	}
	WriteJSON(w, status, append(b, '\n'))
}

// WriteJSON writes an encoded JSON body.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var jsonContentType = []string{"application/json; charset=utf-8"}

// Decode reads one JSON value of type T from the body: at most maxBytes,
// no unknown fields, nothing after it. Each failure is EINVALID or
// ETOOLARGE with a message naming the problem.
func Decode[T any](w http.ResponseWriter, r *http.Request, maxBytes int64) (T, error) {
	var v T
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return v, profileapi.Errorf(profileapi.EINVALID, "Content-Type must be application/json, not %q", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeError(err, maxBytes)
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return v, decodeError(err, maxBytes)
		}
		return v, profileapi.Errorf(profileapi.EINVALID, "the body must hold a single JSON value")
	}
	return v, nil
}

func decodeError(err error, maxBytes int64) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		domainErr *profileapi.Error
	)
	switch {
	case errors.As(err, &tooLarge):
		return profileapi.Errorf(profileapi.ETOOLARGE, "the body is larger than %d bytes", maxBytes)
	case errors.As(err, &domainErr):
		return domainErr
	case errors.Is(err, io.EOF):
		return profileapi.Errorf(profileapi.EINVALID, "the body is empty: a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return profileapi.Errorf(profileapi.EINVALID, "the body is truncated JSON")
	case errors.As(err, &syntax):
		return profileapi.Errorf(profileapi.EINVALID, "the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return profileapi.Errorf(profileapi.EINVALID, "%s must be a %s, not a JSON %s", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
		}
		return profileapi.Errorf(profileapi.EINVALID, "a value in the body is a JSON %s where a %s is needed", typeErr.Value, jsonTypeName(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return profileapi.Errorf(profileapi.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return profileapi.Errorf(profileapi.EINVALID, "the body is not valid: %v", err)
}

func jsonTypeName(kind string) string {
	switch kind {
	case "struct", "map":
		return "JSON object"
	case "slice", "array":
		return "JSON array"
	case "int", "int64", "int32", "uint8", "uint", "uint64":
		return "number"
	}
	return kind
}

// HandlerFunc is an HTTP handler that returns its error instead of
// writing it, so one place decides how every error is answered.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP answers a returned error with WriteError.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		WriteError(w, r, err)
	}
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	infoKey
)

// RequestID returns the request's id, set by Middleware.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Info is what a request leaves for its log line and metrics: set by the
// handlers, read by Middleware after the handler returns.
type Info struct {
	Status    int
	ErrorCode string
	Attrs     []slog.Attr
	// Call is what the listener's handlers tell its done hook, such as
	// the skill and customer of a public-API call.
	Call any
	// Err is the cause of a 5xx answer, logged, never sent.
	Err error
}

// InfoFrom returns the request's Info, or nil outside Middleware.
func InfoFrom(ctx context.Context) *Info {
	i, _ := ctx.Value(infoKey).(*Info)
	return i
}

// AddAttrs adds attributes to the request's log line. Never personal data.
func AddAttrs(ctx context.Context, attrs ...slog.Attr) {
	if i := InfoFrom(ctx); i != nil {
		i.Attrs = append(i.Attrs, attrs...)
	}
}

// NewRequestID returns a fresh random request id.
func NewRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validRequestID keeps a client-given X-Request-Id only if it is short and
// plain, so it cannot forge log lines.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
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

// Recorder captures the status a handler wrote.
type Recorder struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records the status.
func (r *Recorder) WriteHeader(code int) {
	if r.Status == 0 {
		r.Status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Middleware gives each request an id (X-Request-Id), recovers panics into
// a JSON 500, and logs one line per request; then calls done, if set, with
// the outcome (for metrics and the journal).
func Middleware(logger *slog.Logger, name string, next http.Handler, done func(r *http.Request, info *Info, d time.Duration)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = NewRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		info := &Info{}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), infoKey, info)
		r = r.WithContext(ctx)
		rec := &Recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.ErrorContext(ctx, "panic", "request_id", id, "panic", fmt.Sprint(p))
				if rec.Status == 0 {
					WriteError(rec, r, profileapi.Errorf(profileapi.EINTERNAL, "panic"))
				}
			}
			d := time.Since(start)
			info.Status = rec.Status
			if info.Status == 0 {
				info.Status = http.StatusOK
			}
			if done != nil {
				done(r, info, d)
			}
			if logger.Enabled(ctx, slog.LevelInfo) || info.Err != nil {
				attrs := append([]slog.Attr{
					slog.String("listener", name),
					slog.String("request_id", id),
					slog.String("method", r.Method),
					slog.String("route", r.Pattern),
					slog.Int("status", info.Status),
					slog.Duration("duration", d),
				}, info.Attrs...)
				level := slog.LevelInfo
				if info.ErrorCode != "" {
					attrs = append(attrs, slog.String("code", info.ErrorCode))
				}
				if info.Err != nil {
					level = slog.LevelWarn
					attrs = append(attrs, slog.String("err", info.Err.Error()))
				}
				logger.LogAttrs(ctx, level, "request", attrs...)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}
