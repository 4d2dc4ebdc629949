// Package connerr gives the answers net/http writes itself, to a request it
// cannot parse, the JSON error body every other answer has.
//
// net/http answers a malformed request line or header (400), headers over
// MaxHeaderBytes (431), an unknown Transfer-Encoding (501), an unknown
// HTTP version (505) and an Expect header other than 100-continue (417)
// before any handler runs, in plain text or with no body. A client that
// decodes every error as {"code","message"}, as the API's contract
// promises, gets nothing it can read. Listener's connections recognise
// those writes and send the same status with a JSON body instead.
//
// It only works on plain HTTP: over TLS net/http writes to the *tls.Conn
// it wraps around the accepted connection, and what reaches this one is
// encrypted.
package connerr

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/profileapi/profileapi/internal/web"
)

// Listener returns ln with connections whose net/http error answers are
// JSON. It rewrites those of TCP connections; others it passes as they are.
func Listener(ln net.Listener) net.Listener { return listener{ln} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return &conn{tc}, nil
	}
	return c, err
}

// conn keeps the TCP connection's CloseWrite, which net/http half-closes
// with before it closes (so the client reads the last answer), and its
// ReadFrom (sendfile).
type conn struct{ *net.TCPConn }

// plainHeaders follow the status line of every answer net/http writes
// itself. No handler of this service answers in plain text, and net/http
// would put a Date header among these in a handler's answer.
const plainHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

const expectationFailed = "HTTP/1.1 417 Expectation Failed"

// Write passes p on, unless it is one of net/http's plain-text answers,
// which each come in one Write: then it writes the JSON answer instead.
func (c *conn) Write(p []byte) (int, error) {
	status, reason, ok := plainAnswer(p)
	if !ok {
		return c.TCPConn.Write(p)
	}
	if _, err := c.TCPConn.Write(answer(status, reason)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// plainAnswer reports whether p is an answer net/http wrote itself, and
// its status and reason: "HTTP/1.1 400 Bad Request: invalid header
// value" + plainHeaders + a text body.
func plainAnswer(p []byte) (status int, reason string, ok bool) {
	const proto = "HTTP/1.1 "
	if len(p) < len(proto)+3 || (p[len(proto)] != '4' && p[len(proto)] != '5') || !bytes.HasPrefix(p, []byte(proto)) {
		return 0, "", false
	}
	line, rest, found := bytes.Cut(p, []byte("\r\n"))
	// net/http refuses an Expect header other than 100-continue with an
	// empty 417 of its own, which no handler of this service answers.
	if !found || !bytes.HasPrefix(rest, []byte(plainHeaders[2:])) && !bytes.Equal(line, []byte(expectationFailed)) {
		return 0, "", false
	}
	code, text, _ := strings.Cut(string(line[len(proto):]), " ")
	status, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 {
		return 0, "", false
	}
	// "Bad Request: invalid header value": the reason is what follows
	// the status text, if anything does.
	_, reason, _ = strings.Cut(text, ": ")
	return status, reason, true
}

// answer is the JSON answer in place of net/http's, closing the
// connection as net/http's did.
func answer(status int, reason string) []byte {
	body := errorBody(status, reason)
	b := make([]byte, 0, 160+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}

// errorBody says what net/http found wrong, in the API's error body.
// net/http's reasons are fixed phrases: none repeats what the client sent.
func errorBody(status int, reason string) []byte {
	var e web.ErrorBody
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		e = web.ErrorBody{Code: "REQUEST_HEADER_FIELDS_TOO_LARGE", Message: "the request line and headers are too large"}
	case http.StatusNotImplemented:
		e = web.ErrorBody{Code: "NOT_IMPLEMENTED", Message: "the request's Transfer-Encoding is not supported: only chunked is"}
	case http.StatusExpectationFailed:
		e = web.ErrorBody{Code: "EXPECTATION_FAILED", Message: "the Expect header is not supported: only 100-continue is"}
	case http.StatusHTTPVersionNotSupported:
		e = web.ErrorBody{Code: "HTTP_VERSION_NOT_SUPPORTED", Message: "the request's HTTP version is not supported: use HTTP/1.1"}
	default:
		e = web.ErrorBody{Code: "INVALID_REQUEST", Message: "the request line or a header could not be parsed"}
		if reason != "" {
			e.Message = "the request could not be parsed: " + reason
		}
	}
	b, _ := json.Marshal(e)
	return append(b, '\n')
}
