// Package web holds what both listeners share: the handler adapter that
// turns a returned error into the one JSON error body, JSON encoding and
// size-capped decoding, request ids, logging and panic recovery.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	mathrand "math/rand/v2"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"
	"unicode/utf8"

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

// ErrShuttingDown ends the context of the requests still running when a
// server's shutdown timeout has passed. Whatever error that makes a
// handler return, the answer is 503 with Retry-After: a client retries it
// (on another node), where a cut connection may be taken for a lost answer.
var ErrShuttingDown = errors.New("the server is shutting down")

// ShutdownError is err, or if the server ended r's context because it is
// shutting down, the 503 that says so, whatever err the handler made of it,
// unless err says so already (wraps ErrShuttingDown).
func ShutdownError(r *http.Request, err error) error {
	if r != nil && context.Cause(r.Context()) == ErrShuttingDown && !errors.Is(err, ErrShuttingDown) {
		return &profileapi.Error{Kind: profileapi.EUNAVAILABLE, Message: "the server is shutting down; retry, on another node if there is one", RetryAfter: time.Second, Err: err}
	}
	return err
}

// goneError is err as EUNAVAILABLE when it is only the end of r's context,
// its client gone or its connection's time up, which a database call
// waiting on it fails with: not a bug, as the 500 of an unknown error says
// in the log, the journal and the metrics.
func goneError(r *http.Request, err error) error {
	if r == nil || r.Context().Err() == nil || profileapi.ErrorKind(err) != profileapi.EINTERNAL ||
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &profileapi.Error{Kind: profileapi.EUNAVAILABLE, Message: "the call ended before its answer: its client went away or its time ran out", RetryAfter: time.Second, Err: err}
}

// WriteError answers with err's status and JSON body. Only the public
// message reaches the client; the cause is logged with the request id.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	err = goneError(r, ShutdownError(r, err))
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
	NoteError(w, code, body.Code, err)
	Encode(w, code, body)
}

// NoteError tells the log line and the observers of w's request that it
// was answered with err, as status and code say: WriteError does, and so
// does a stream that ends with an error body after its status was sent.
func NoteError(w http.ResponseWriter, status int, code string, err error) {
	if i := InfoOf(w); i != nil {
		i.ErrorCode = code
		if status >= 500 {
			i.Err = err // the cause, for the log line only
		}
	}
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
	h["Date"] = dateHeader(time.Now())
	// net/http sets the Content-Length of a body this small itself, when
	// the handler returns, without the header copy and parse a set one
	// costs on every answer.
	if len(body) >= implicitLength {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// date is the Date header of the answers written in one second.
type date struct {
	unix  int64
	value []string // shared, never appended to in place, as jsonContentType
}

var lastDate atomic.Pointer[date]

// dateHeader returns the Date header for an answer written at now. net/http
// formats one for every answer that has none; this formats one a second.
// In a CPU profile under load, net/http's writing of a public API answer's
// headers fell from 1.75 to 1.27 µs with it.
func dateHeader(now time.Time) []string {
	unix := now.Unix()
	if d := lastDate.Load(); d != nil && d.unix == unix {
		return d.value
	}
	d := &date{unix: unix, value: []string{now.UTC().Format(http.TimeFormat)}}
	lastDate.Store(d)
	return d.value
}

// implicitLength is the body net/http buffers whole before it sends the
// headers (its bufferBeforeChunkingSize, 2 KiB), less a margin.
const implicitLength = 1 << 10

// jsonContentType is shared by every response, so that answering
// allocates none: a header's slice is replaced, never appended to in place
// (its capacity is its length).
var jsonContentType = []string{"application/json; charset=utf-8"}

// Decode reads one JSON value of type T from the body: at most maxBytes,
// no unknown fields, nothing after it. Each failure is EINVALID or
// ETOOLARGE with a message naming the problem.
func Decode[T any](w http.ResponseWriter, r *http.Request, maxBytes int64) (T, error) {
	var v T
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// Parameters net/http clients get wrong are no reason to refuse.
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) || mt != "application/json" && mt != "application/merge-patch+json" {
			return v, profileapi.Errorf(profileapi.EINVALID, "Content-Type must be application/json, not %q", ct)
		}
	}
	if err := CheckEncoding(r); err != nil {
		return v, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		return v, decodeError(err, "body", maxBytes)
	}
	if err := textError(body, "body"); err != nil {
		return v, err
	}
	if string(bytes.TrimSpace(body)) == "null" {
		// Decodes as nothing at all: a PATCH of null changed nothing but
		// updatedAt.
		return v, profileapi.Errorf(profileapi.EINVALID, "the body must be a JSON object, not null")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeError(err, "body", maxBytes)
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, profileapi.Errorf(profileapi.EINVALID, "the body must hold a single JSON value")
	}
	if err := checkNames(body, reflect.TypeFor[T]()); err != nil {
		return v, decodeError(err, "body", maxBytes)
	}
	return v, nil
}

// CheckEncoding refuses a compressed body, which would otherwise be read
// as bytes and refused as "not valid UTF-8", which does not say why.
func CheckEncoding(r *http.Request) error {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return profileapi.Errorf(profileapi.EINVALID, "Content-Encoding %.40q is not supported: send the body uncompressed", ce)
	}
	return nil
}

// textError refuses what encoding/json would silently replace with U+FFFD,
// so that what is stored is what was sent: invalid UTF-8, and a \u escape
// of half a surrogate pair. Escapes stand only in strings, and a valid
// body's "\\" is skipped whole, so no string state is needed; what is not
// JSON at all is left to the decoder.
func textError(b []byte, what string) error {
	if !utf8.Valid(b) {
		return profileapi.Errorf(profileapi.EINVALID, "the %s is not valid UTF-8", what)
	}
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 || i+j+1 >= len(b) {
			return nil
		}
		i += j
		if b[i+1] != 'u' {
			i += 2
			continue
		}
		r, ok := hex4(b[i+2:])
		switch {
		case !ok:
			return nil // the decoder says what is wrong
		case utf16.IsSurrogate(r) && r < 0xdc00: // a high half: a low one must follow
			if lo, ok := hex4(b[min(i+8, len(b)):]); !ok || b[i+6] != '\\' || b[i+7] != 'u' || lo < 0xdc00 || lo > 0xdfff {
				return profileapi.Errorf(profileapi.EINVALID, "the %s holds half a UTF-16 surrogate pair (at byte %d)", what, i)
			}
			i += 12
		case utf16.IsSurrogate(r):
			return profileapi.Errorf(profileapi.EINVALID, "the %s holds half a UTF-16 surrogate pair (at byte %d)", what, i)
		default:
			i += 6
		}
	}
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 16)
	return rune(v), err == nil
}

// AppendJSONString appends s as a JSON string, escaped exactly as
// encoding/json escapes it (HTML characters, U+2028 and U+2029 included,
// invalid UTF-8 as U+FFFD), for bodies written without reflection.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Unmarshal decodes data, which must hold exactly one JSON value, with
// Decode's rules and messages: unknown fields are rejected, and each
// failure is EINVALID naming the problem. It is for bodies read in parts,
// such as one line of NDJSON.
func Unmarshal[T any](data []byte) (T, error) {
	var v T
	if err := textError(data, "line"); err != nil {
		return v, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeError(err, "line", int64(len(data)))
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, profileapi.Errorf(profileapi.EINVALID, "the line must hold a single JSON value")
	}
	if err := checkNames(data, reflect.TypeFor[T]()); err != nil {
		return v, decodeError(err, "line", int64(len(data)))
	}
	return v, nil
}

// decodeError says what is wrong with a body, or a line of one (what).
func decodeError(err error, what string, maxBytes int64) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		domainErr *profileapi.Error
	)
	switch {
	case errors.As(err, &tooLarge):
		return profileapi.Errorf(profileapi.ETOOLARGE, "the %s is larger than %d bytes", what, maxBytes)
	case errors.As(err, &domainErr):
		return domainErr
	case errors.Is(err, io.EOF):
		return profileapi.Errorf(profileapi.EINVALID, "the %s is empty: a JSON object is required", what)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return profileapi.Errorf(profileapi.EINVALID, "the %s is truncated JSON", what)
	case errors.As(err, &syntax):
		return profileapi.Errorf(profileapi.EINVALID, "the %s is not valid JSON (at byte %d)", what, syntax.Offset)
	case errors.As(err, &typeErr):
		if num, ok := strings.CutPrefix(typeErr.Value, "number "); ok && typeErr.Type == floatType {
			if _, err := strconv.ParseFloat(num, 64); err != nil {
				return profileapi.Errorf(profileapi.EINVALID, "%s must be a number a float64 holds, not %s", typeErr.Field, num)
			}
			return profileapi.Errorf(profileapi.EINVALID, "%s must be 0 or a number a float64 tells from 0, not %s", typeErr.Field, num)
		}
		if typeErr.Field != "" {
			return profileapi.Errorf(profileapi.EINVALID, "%s must be a %s, not a JSON %s", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
		}
		return profileapi.Errorf(profileapi.EINVALID, "a value in the %s is a JSON %s where a %s is needed", what, typeErr.Value, jsonTypeName(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return profileapi.Errorf(profileapi.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return profileapi.Errorf(profileapi.EINVALID, "the %s is not valid: %v", what, err)
}

func jsonTypeName(kind string) string {
	switch kind {
	case "struct", "map":
		return "JSON object"
	case "slice", "array":
		return "JSON array"
	case "int", "int64", "int32", "int16", "int8", "uint", "uint64", "uint32", "uint16", "uint8":
		return "whole number" // a JSON number with a fraction is refused too
	case "float64", "float32":
		return "number"
	case "bool":
		return "boolean"
	}
	return kind
}

// Int is a whole number in a JSON body, for every integer field of a
// request. JSON Schema's "integer" is any number without a fraction, so
// 503.0 and 5.03e2 decode as 503, where encoding/json refuses all but 503
// for a Go int. Anything else is a *json.UnmarshalTypeError, which Decode
// answers with EINVALID naming the field. null leaves it unchanged, as for
// an int.
type Int int64

var intType = reflect.TypeFor[Int]()

// UnmarshalJSON decodes a whole JSON number with ParseWhole.
func (n *Int) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, ok := ParseWhole(string(b))
	if !ok {
		return &json.UnmarshalTypeError{Value: jsonValueName(b), Type: intType}
	}
	*n = Int(v)
	return nil
}

// Int returns n as an int, saturated where int is 32 bits, so that a value
// out of range stays out of range for the field's own check.
func (n Int) Int() int {
	return int(max(min(int64(n), math.MaxInt), math.MinInt))
}

// jsonValueName names a JSON value as encoding/json's UnmarshalTypeError
// does: "string", "number 1.5".
func jsonValueName(b []byte) string {
	if len(b) == 0 {
		return "number"
	}
	switch b[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number " + string(b)
}

// Float is a JSON number for a float field of a request. encoding/json
// takes 1e-400, too small for a float64, for 0, which may mean something
// else entirely (an unlimited rate); Float refuses it as a
// *json.UnmarshalTypeError, which Decode answers naming the field.
type Float float64

var floatType = reflect.TypeFor[Float]()

// UnmarshalJSON decodes a JSON number, unless it is one that rounds to 0.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if digits, _, _ := strings.Cut(strings.ToLower(string(b)), "e"); err != nil || v == 0 && strings.Trim(digits, "-0.") != "" {
		return &json.UnmarshalTypeError{Value: jsonValueName(b), Type: floatType}
	}
	*f = Float(v)
	return nil
}

// ParseWhole reads s, a JSON number encoding/json has checked, if it is a
// whole number an int64 holds: 503, 503.0 or 5.03e2, exactly (a float64
// would take 1.00000000000000001 for 1). ok is false for a fraction, a
// number past int64, an exponent of more than three digits, which no such
// number needs and which would cost big.Rat a power of ten that large, and
// any other JSON value.
func ParseWhole(s string) (n int64, ok bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if _, exp, _ := strings.Cut(strings.ToLower(s), "e"); len(strings.TrimLeft(exp, "+-0")) > 3 {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// HasBody reports whether r carries a body: a Content-Length above 0, or a
// chunked body with at least a byte, which it reads. An empty chunked body,
// as some clients send on a GET, is none. A chunked body of which nothing
// comes within bodyWait counts as one: the client is answered, not held
// until the connection's read timeout. Over HTTP/1, a connection with a
// body is closed after the answer, which the caller is expected to give
// at once.
func HasBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength >= 0 {
		if r.ContentLength > 0 && r.ProtoMajor == 1 {
			// net/http reads an unread body before it answers: one
			// announced and never sent would hold the answer until the
			// read timeout. Closing the connection after it skips that.
			w.Header().Set("Connection", "close")
		}
		return r.ContentLength > 0
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bodyWait))
	var b [1]byte
	if n, err := io.ReadAtLeast(r.Body, b[:], 1); n > 0 || err != io.EOF {
		// The deadline stays: net/http reads what is left of the body
		// before it answers, which a stalled client would hold forever.
		return true
	}
	_ = rc.SetReadDeadline(time.Time{})
	return false
}

// bodyWait is how long HasBody waits for a chunked body's first chunk.
const bodyWait = time.Second

// HandlerFunc is an HTTP handler that returns its error instead of
// writing it, so one place decides how every error is answered.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP answers a returned error with WriteError.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// Info is what a request leaves for its log line and metrics: set by the
// handlers, read by Middleware after the handler returns. It lives only as
// long as the request: Middleware reuses it for a later one.
type Info struct {
	RequestID string
	Status    int
	ErrorCode string
	Attrs     []slog.Attr
	// Call is what the listener's handlers tell its done hook, such as
	// the skill and customer of a public-API call.
	Call any
	// Err is the cause of a 5xx answer, logged, never sent.
	Err error
	// Body is room for a small answer's body, to append to from its
	// start: a write copies it out, and a later request reuses it.
	Body []byte
}

// InfoOf returns the Info of the request whose ResponseWriter is w, or nil
// outside Middleware. It is found through the writer, not the request's
// context, so that Middleware need not copy each request to add a value.
func InfoOf(w http.ResponseWriter) *Info {
	for {
		switch v := w.(type) {
		case *Recorder:
			if v.info != nil {
				return v.info
			}
			w = v.ResponseWriter
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
}

// AddAttrs adds attributes to the request's log line. Never personal data.
// A nil Info takes none.
func (i *Info) AddAttrs(attrs ...slog.Attr) {
	if i != nil {
		i.Attrs = append(i.Attrs, attrs...)
	}
}

// A request id is a random prefix for the process and 64 random bits
// from the runtime's per-thread generator: it costs no system call and no
// memory shared between cores, and two processes, or two runs of one, do
// not repeat each other's.
var requestIDPrefix [4]byte

func init() {
	_, _ = rand.Read(requestIDPrefix[:])
}

// NewRequestID returns a fresh request id: 24 hex digits.
func NewRequestID() string {
	var b [12]byte
	copy(b[:4], requestIDPrefix[:])
	binary.BigEndian.PutUint64(b[4:], mathrand.Uint64())
	var out [24]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
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
	info   *Info // set by Middleware, for InfoOf
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

// requestState is what Middleware keeps for one request, in one reused
// allocation: its Info, the recorder, and room for the usual number of log
// attributes and for a public API answer's body.
type requestState struct {
	info     Info
	rec      Recorder
	idHeader [1]string
	attrs    [4]slog.Attr
	body     [256]byte
}

// states are reused: every public call needs one, and nothing keeps one
// past its request (the done hook and the handlers must not either).
var states = sync.Pool{New: func() any { return new(requestState) }}

// Middleware gives each request an id (X-Request-Id), recovers panics into
// a JSON 500, and logs one line per request at Info; then calls done, if
// set, with the outcome (for metrics and the journal). The Info is reused
// for a later request once done returns.
func Middleware(logger *slog.Logger, name string, next http.Handler, done func(r *http.Request, info *Info, d time.Duration)) http.Handler {
	return MiddlewareAt(slog.LevelInfo, logger, name, next, done)
}

// MiddlewareAt is Middleware logging each request's line at level, and a
// 5xx answer at Warn, whatever the level.
func MiddlewareAt(level slog.Level, logger *slog.Logger, name string, next http.Handler, done func(r *http.Request, info *Info, d time.Duration)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var id string
		if v := r.Header["X-Request-Id"]; len(v) > 0 { // the server canonicalized the name
			id = v[0]
		}
		if !validRequestID(id) {
			id = NewRequestID()
		}
		st := states.Get().(*requestState)
		*st = requestState{}
		st.idHeader[0] = id
		w.Header()["X-Request-Id"] = st.idHeader[:]
		info := &st.info
		info.RequestID = id
		info.Attrs = st.attrs[:0]
		info.Body = st.body[:0]
		rec := &st.rec
		rec.ResponseWriter, rec.info = w, info
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.ErrorContext(r.Context(), "panic", "request_id", id, "panic", fmt.Sprint(p))
				if rec.Status != 0 {
					// Part of an answer is out: cut the connection, so the
					// client sees a failure, not a short body that looks whole.
					defer panic(http.ErrAbortHandler)
				} else {
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
			level := level
			if info.Err != nil {
				level = slog.LevelWarn
			}
			if logger.Enabled(r.Context(), level) {
				attrs := append([]slog.Attr{
					slog.String("listener", name),
					slog.String("request_id", id),
					slog.String("method", r.Method),
					slog.String("route", r.Pattern),
					slog.Int("status", info.Status),
					slog.Duration("duration", d),
				}, info.Attrs...)
				if info.ErrorCode != "" {
					attrs = append(attrs, slog.String("code", info.ErrorCode))
				}
				if info.Err != nil {
					attrs = append(attrs, slog.String("err", info.Err.Error()))
				}
				logger.LogAttrs(r.Context(), level, "request", attrs...)
			}
			if rec.Status == 0 {
				// Nothing written: net/http writes the headers once this
				// returns, when st may be another request's.
				w.Header()["X-Request-Id"] = []string{id}
			}
			states.Put(st)
		}()
		next.ServeHTTP(rec, r)
	})
}
