package connerr

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi/admin"
)

// serve runs an http.Server on a Listener over a real socket. Its handler
// answers /json with JSON and /plain as close to net/http's own errors as
// a handler can: text, Connection: close, no Date.
func serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		MaxHeaderBytes: 1 << 10,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/plain" {
				h := w.Header()
				h["Date"] = nil
				h.Set("Content-Type", "text/plain; charset=utf-8")
				h.Set("Connection", "close")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, "plain by choice\n")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true}`)
		}),
	}
	go func() { _ = srv.Serve(Listener(ln)) }()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// exchange sends raw on a new connection and reads the answers until the
// server closes it.
func exchange(t *testing.T, addr, raw string, answers int) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(c)
	var out []*http.Response
	for range answers {
		resp, err := http.ReadResponse(rd, nil)
		if err != nil {
			t.Fatalf("answer %d of %q: %v", len(out)+1, raw, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, resp)
	}
	if rest, err := io.ReadAll(rd); err != nil || len(rest) != 0 {
		t.Fatalf("after %d answers to %q: %q, %v; want the connection closed", answers, raw, rest, err)
	}
	return out
}

func decodeError(t *testing.T, resp *http.Response) (code, message string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	var e struct{ Code, Message string }
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("body: %v", err)
	}
	if e.Code == "" || e.Message == "" {
		t.Errorf("body %+v: want a code and a message", e)
	}
	return e.Code, e.Message
}

func TestNetHTTPErrorsAreJSON(t *testing.T) {
	addr := serve(t)
	// The codes are the API's: a client generated from its OpenAPI
	// document must be able to decode them.
	var doc struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Code struct{ Enum []string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(admin.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	documented := doc.Components.Schemas.Error.Properties.Code.Enum
	for _, tc := range []struct {
		name, raw   string
		status      int
		code, where string // where: a phrase the message must hold
	}{
		{"Host", "GET /json HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "INVALID_REQUEST", "malformed Host header"},
		{"header value", "GET /json HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n", 400, "INVALID_REQUEST", "a header could not be parsed"},
		{"no Host", "GET /json HTTP/1.1\r\n\r\n", 400, "INVALID_REQUEST", "missing required Host header"},
		{"header line", "GET /json HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400, "INVALID_REQUEST", "could not be parsed"},
		{"request line", "NONSENSE\r\n\r\n", 400, "INVALID_REQUEST", "request line"},
		{"too large", "GET /json HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n", 431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "too large"},
		{"transfer encoding", "POST /json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "NOT_IMPLEMENTED", "Transfer-Encoding"},
		{"version", "GET /json HTTP/3.0\r\nHost: x\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED", "HTTP version"},
		{"expect", "GET /json HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n", 417, "EXPECTATION_FAILED", "100-continue"},
		{"escape", "GET /json%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "INVALID_REQUEST", "request line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := exchange(t, addr, tc.raw, 1)[0]
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			code, msg := decodeError(t, resp)
			if code != tc.code || !strings.Contains(msg, tc.where) {
				t.Errorf("body %s %q, want %s and a message with %q", code, msg, tc.code, tc.where)
			}
			if !slices.Contains(documented, code) {
				t.Errorf("code %s is not among the Error codes of admin/openapi.json: %v", code, documented)
			}
			if resp.ContentLength <= 0 || !resp.Close {
				t.Errorf("Content-Length %d, Connection: close %v; want both", resp.ContentLength, resp.Close)
			}
		})
	}
}

// A request answered before the bad one is not touched, nor is a handler's
// own plain-text answer.
func TestHandlerAnswersPassUnchanged(t *testing.T) {
	addr := serve(t)
	got := exchange(t, addr, "GET /json HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\nX-Bad: \x7f\r\n\r\n", 2)
	if b, _ := io.ReadAll(got[0].Body); got[0].StatusCode != 200 || string(b) != `{"ok":true}` {
		t.Errorf("first answer %d %q, want the handler's", got[0].StatusCode, b)
	}
	if code, _ := decodeError(t, got[1]); got[1].StatusCode != 400 || code != "INVALID_REQUEST" {
		t.Errorf("second answer %d %s, want 400 INVALID_REQUEST", got[1].StatusCode, code)
	}

	resp := exchange(t, addr, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n", 1)[0]
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || string(b) != "plain by choice\n" {
		t.Errorf("handler's answer became %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

func TestPlainAnswer(t *testing.T) {
	for _, tc := range []struct {
		in     string
		status int
		reason string
		ok     bool
	}{
		{"HTTP/1.1 400 Bad Request: invalid header name" + plainHeaders + "400 Bad Request: invalid header name", 400, "invalid header name", true},
		{"HTTP/1.1 400 Bad Request" + plainHeaders + "400 Bad Request", 400, "", true},
		{"HTTP/1.1 431 Request Header Fields Too Large" + plainHeaders + "431 Request Header Fields Too Large", 431, "", true},
		{"HTTP/1.1 400 Bad Request\r\nDate: Fri, 27 Nov 2026 07:00:00 GMT" + plainHeaders, 0, "", false},
		{"HTTP/1.1 200 OK" + plainHeaders, 0, "", false},
		{"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nDate: Fri, 27 Nov 2026 07:00:00 GMT\r\nContent-Length: 0\r\n\r\n", 417, "", true},
		{"HTTP/1.1 418 I'm a teapot\r\nConnection: close\r\n\r\n", 0, "", false},
		{"HTTP/1.1 4", 0, "", false},
		{"HTTP/1.1 4x0 Bad" + plainHeaders, 0, "", false},
		{"", 0, "", false},
	} {
		status, reason, ok := plainAnswer([]byte(tc.in))
		if status != tc.status || reason != tc.reason || ok != tc.ok {
			t.Errorf("plainAnswer(%q) = %d %q %v, want %d %q %v", tc.in, status, reason, ok, tc.status, tc.reason, tc.ok)
		}
	}
}
