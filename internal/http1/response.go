package http1

import (
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// response is the http.ResponseWriter of a connection's requests, one at
// a time. The body is kept until the handler returns, and goes out with
// its length: this package serves small answers to small requests.
type response struct {
	c         *conn
	req       *http.Request
	header    http.Header
	keepAlive bool
	body      []byte

	// Set by the final WriteHeader, which takes the header as it then is,
	// as net/http does: the status line and the handler's header lines,
	// and what it leaves to the framing.
	status    int // 0 until then
	head      []byte
	typeSet   bool // Content-Type set (or removed with a nil value)
	dateSet   bool
	closeAsks bool // Connection: close
	keys      []string
}

var _ http.ResponseWriter = (*response)(nil)

func (w *response) reset(r *http.Request, keepAlive bool) {
	w.req, w.keepAlive = r, keepAlive
	clear(w.header)
	w.status = 0
	w.body = w.body[:0]
	if cap(w.body) > 64<<10 {
		w.body = nil // not kept for the connection's life
	}
}

func (w *response) Header() http.Header { return w.header }

// WriteHeader takes the status and the header. An informational (1xx)
// answer goes out at once, as net/http sends it.
func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if w.status != 0 {
		return // net/http ignores it too, with a warning in its log
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.c.out = w.appendHeader(w.c.out, code, false)
		w.c.out = append(w.c.out, "\r\n"...)
		_ = w.c.flush()
		return
	}
	w.status = code
	_, w.typeSet = w.header["Content-Type"]
	if _, encoded := w.header["Content-Encoding"]; encoded {
		w.typeSet = true // net/http sniffs no encoded body
	}
	_, w.dateSet = w.header["Date"]
	w.closeAsks = hasToken(w.header["Connection"], "close")
	w.head = w.appendHeader(w.head[:0], code, true)
}

// Write adds p to the body.
func (w *response) Write(p []byte) (int, error) {
	if err := w.writable(); err != nil {
		return 0, err
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

// WriteString saves a conversion for handlers that write strings.
func (w *response) WriteString(s string) (int, error) {
	if err := w.writable(); err != nil {
		return 0, err
	}
	w.body = append(w.body, s...)
	return len(s), nil
}

// writable takes a status of 200 if none was written, and reports whether
// it allows a body.
func (w *response) writable() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return http.ErrBodyNotAllowed
	}
	return nil
}

// finish puts the answer in the connection's output, and reports whether
// the connection is to close after it. The framing is this package's:
// Content-Length is the body's (none for a status without a body), and
// Connection is "close" if the connection is to close. net/http adds a
// Content-Type (sniffed) and a Date where the handler set none.
func (w *response) finish() (closing bool) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	closing = !w.keepAlive || w.closeAsks || w.c.s.inShutdown.Load()
	b := append(w.c.out, w.head...)
	if !w.typeSet && len(w.body) > 0 {
		b = append(b, "Content-Type: "...)
		b = append(b, http.DetectContentType(w.body)...)
		b = append(b, "\r\n"...)
	}
	if !w.dateSet {
		b = append(b, "Date: "...)
		b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
		b = append(b, "\r\n"...)
	}
	if bodyAllowed(w.status) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(w.body)), 10)
		b = append(b, "\r\n"...)
	}
	if closing {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	w.c.out = append(b, w.body...)
	return closing
}

// appendHeader appends the status line and the header's lines as net/http
// writes them: keys sorted, values trimmed and with newlines as spaces,
// invalid names left out. The framing headers (Content-Length,
// Transfer-Encoding, and in a final answer Connection) are left to finish,
// or out of an informational answer, as net/http leaves them.
func (w *response) appendHeader(b []byte, status int, final bool) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	if text := http.StatusText(status); text != "" {
		b = append(b, ' ')
		b = append(b, text...)
	} else {
		// net/http's form for a code it has no text for.
		b = append(b, " status code "...)
		b = strconv.AppendInt(b, int64(status), 10)
	}
	b = append(b, "\r\n"...)

	w.keys = w.keys[:0]
	for k := range w.header {
		w.keys = append(w.keys, k)
	}
	slices.Sort(w.keys)
	for _, k := range w.keys {
		switch {
		case k == "Content-Length" || k == "Transfer-Encoding" || final && k == "Connection":
			continue
		case !validName(k):
			continue
		}
		for _, v := range w.header[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			b = appendValue(b, v)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// appendValue appends v as net/http writes a header value: trimmed, with
// each CR and LF as a space, so that no value can end the header early.
func appendValue(b []byte, v string) []byte {
	v = textproto.TrimString(v)
	if !strings.ContainsAny(v, "\r\n") {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' {
			b = append(b, ' ')
		} else {
			b = append(b, c)
		}
	}
	return b
}

// bodyAllowed reports whether an answer with status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// hasToken reports whether one of the comma-separated lists vs holds tok,
// in any case.
func hasToken(vs []string, tok string) bool {
	for _, v := range vs {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(part), tok) {
				return true
			}
		}
	}
	return false
}
