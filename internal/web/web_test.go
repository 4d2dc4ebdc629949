package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

// FuzzAppendJSONString: the string encoder writes what encoding/json writes.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "John Smith", `a"b\c`, "<script>&</script>", "\x00\x01\b\f\n\r\t\x1f\x7f", "Müller", "\u2028\u2029", "\xff\xfe", "日本語", "a\xc3", "\U0001F600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}

func TestMiddlewareAt(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var seen *Info
	h := MiddlewareAt(slog.LevelDebug, logger, "test", HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		info := InfoOf(w)
		info.AddAttrs(slog.String("a", "1"), slog.String("b", "2"), slog.String("c", "3"), slog.String("d", "4"), slog.String("e", "5"))
		// A writer that wraps the request's still finds its Info.
		if InfoOf(&muxErrors{ResponseWriter: w, r: r}) != info || info.RequestID == "" {
			t.Error("a wrapping writer lost the request's Info")
		}
		switch r.URL.Path {
		case "/fail":
			return errors.New("a bug")
		case "/missing":
			return profileapi.Errorf(profileapi.ENOTFOUND, "no")
		}
		Encode(w, http.StatusOK, map[string]string{"ok": "yes"})
		return nil
	}), func(r *http.Request, info *Info, d time.Duration) { seen = info })

	ids := map[string]bool{}
	for _, path := range []string{"/ok", "/missing", "/ok"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		id := rec.Header().Get("X-Request-Id")
		// The state is reused: nothing of the previous request may remain.
		if len(id) != 24 || ids[id] || seen.RequestID != id || len(seen.Attrs) != 5 || (path == "/ok") != (seen.ErrorCode == "") {
			t.Fatalf("%s: id %q (seen %v), info %+v", path, id, ids, seen)
		}
		ids[id] = true
	}
	if logs.Len() != 0 {
		t.Fatalf("requests logged above their level: %s", logs.String())
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/fail", nil)
	req.Header.Set("X-Request-Id", "given-id")
	h.ServeHTTP(rec, req)
	if rec.Code != 500 || rec.Header().Get("X-Request-Id") != "given-id" {
		t.Fatalf("500: %d %q", rec.Code, rec.Header().Get("X-Request-Id"))
	}
	if line := logs.String(); !strings.Contains(line, "level=WARN") || !strings.Contains(line, "request_id=given-id") || !strings.Contains(line, "err=\"a bug\"") || !strings.Contains(line, "e=5") {
		t.Fatalf("a 5xx is logged at Warn with its cause: %s", line)
	}
}

func TestPanicRecovery(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	mux := NewMux()
	mux.Handle("GET /string", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret internal detail") }))
	mux.Handle("GET /error", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(errors.New("secret error detail")) }))
	mux.Handle("GET /after-write", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"partial":`))
		panic("half way")
	}))
	mux.Handle("GET /ok", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { Encode(w, 200, map[string]string{"ok": "yes"}) }))
	srv := httptest.NewServer(Middleware(logger, "test", mux, nil))
	defer srv.Close()

	for _, path := range []string{"/string", "/error"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || string(body) != `{"code":"UNKNOWN_ERROR","message":"an unexpected error occurred"}`+"\n" {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	// A panic after the answer started cuts the connection: the client
	// sees an error, not a short body it could take for a whole one.
	if resp, err := http.Get(srv.URL + "/after-write"); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Fatal("a half-written answer read as complete")
		}
	}
	resp, err := http.Get(srv.URL + "/ok")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the panics: %v %v", resp, err)
	}
	resp.Body.Close()
	if !strings.Contains(logs.String(), "secret internal detail") || !strings.Contains(logs.String(), "request_id=") {
		t.Errorf("the panic is not in the log with its request id:\n%s", logs.String())
	}
}

func TestMuxErrorsAreJSON(t *testing.T) {
	mux := NewMux()
	mux.Handle("GET /thing", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { Encode(w, 200, "x") }))
	mux.Handle("DELETE /thing", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	srv := httptest.NewServer(Middleware(slog.New(slog.DiscardHandler), "test", mux, nil))
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/nothing", 404, "NOT_FOUND", ""},
		{"POST", "/thing", 405, "METHOD_NOT_ALLOWED", "DELETE, GET, HEAD"},
		// Not the mux's redirect to the clean path, in HTML.
		{"GET", "//thing", 404, "NOT_FOUND", ""},
		{"GET", "/./thing", 404, "NOT_FOUND", ""},
		{"POST", "/x/../thing", 404, "NOT_FOUND", ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e ErrorBody
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status || e.Code != tc.code || e.Message == "" || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d %+v Allow=%q (%v)", tc.method, tc.path, resp.StatusCode, e, resp.Header.Get("Allow"), err)
		}
	}
}

// A request to no route that announces a body and never sends it is
// answered at once, not once the read timeout has passed: net/http reads
// an unread body before it answers, unless the connection is to close.
func TestMuxErrorsDoNotWaitForBody(t *testing.T) {
	mux := NewMux()
	mux.Handle("GET /thing", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { Encode(w, 200, "x") }))
	srv := httptest.NewServer(Middleware(slog.New(slog.DiscardHandler), "test", mux, nil))
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		status       int
	}{{"POST", "/nothing", 404}, {"POST", "/thing", 405}} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", tc.method, tc.path)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Errorf("%s %s: no answer: %v", tc.method, tc.path, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || !resp.Close {
			t.Errorf("%s %s: %d, close %v; want %d and the connection closed", tc.method, tc.path, resp.StatusCode, resp.Close, tc.status)
		}
	}
}

func TestRetryAfterAndDecodeLimits(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest("GET", "/", nil), profileapi.Unavailable(errors.New("db gone"), 2500*time.Millisecond))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "3" || strings.Contains(rec.Body.String(), "db gone") {
		t.Fatalf("503: %d Retry-After=%q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	type body struct{ Name string }
	for _, tc := range []struct {
		in   string
		kind string
	}{
		{`{"Name":"x"}`, ""},
		{`{"Name":"x","Extra":1}`, profileapi.EINVALID},
		{`{"Name":"x"} {}`, profileapi.EINVALID},
		{`{"Name":`, profileapi.EINVALID},
		{``, profileapi.EINVALID},
		{`{"Name":"` + strings.Repeat("a", 100) + `"}`, profileapi.ETOOLARGE},
	} {
		req := httptest.NewRequest("POST", "/", strings.NewReader(tc.in))
		_, err := Decode[body](httptest.NewRecorder(), req, 64)
		if got := kindOf(err); got != tc.kind {
			t.Errorf("%q: kind %q, want %q (%v)", tc.in, got, tc.kind, err)
		}
	}
}

// TestShutdownError: once the server has ended a request's context because
// it is shutting down, any error answers 503 with Retry-After, saying so,
// unless it says so already; before, errors answer as they are.
func TestShutdownError(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrShuttingDown)
	ending := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	ownMessage := &profileapi.Error{Kind: profileapi.EUNAVAILABLE, Message: "shutting down: 5 stored", Err: errors.Join(ErrShuttingDown, context.Canceled)}
	goneCtx, goneCancel := context.WithCancel(context.Background())
	goneCancel()
	gone := httptest.NewRequest("GET", "/", nil).WithContext(goneCtx)
	for _, tc := range []struct {
		name    string
		r       *http.Request
		err     error
		code    int
		message string
	}{
		{"any error, shutting down", ending, profileapi.Errorf(profileapi.EINVALID, "bad line"), 503, "the server is shutting down; retry, on another node if there is one"},
		{"an error that says so", ending, ownMessage, 503, "shutting down: 5 stored"},
		{"not shutting down", httptest.NewRequest("GET", "/", nil), profileapi.Errorf(profileapi.EINVALID, "bad line"), 400, "bad line"},
		// A database call the client gave up on is no bug (500).
		{"client gone", gone, fmt.Errorf("postgres: find access: %w", context.Canceled), 503, "the call ended before its answer: its client went away or its time ran out"},
		{"client gone, a domain error", gone, profileapi.Errorf(profileapi.ENOTFOUND, "no such customer"), 404, "no such customer"},
		{"canceled, client still there", httptest.NewRequest("GET", "/", nil), fmt.Errorf("x: %w", context.Canceled), 500, "an unexpected error occurred"},
	} {
		rec := httptest.NewRecorder()
		WriteError(rec, tc.r, tc.err)
		var body struct{ Message string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		retry := rec.Header().Get("Retry-After")
		if rec.Code != tc.code || body.Message != tc.message || (tc.code == 503) != (retry != "") {
			t.Errorf("%s: %d %q (Retry-After %q), want %d %q", tc.name, rec.Code, body.Message, retry, tc.code, tc.message)
		}
	}
}

// A value of the wrong JSON type is named in JSON's terms, not Go's.
func TestDecodeTypeMessages(t *testing.T) {
	type body struct {
		Count int     `json:"count"`
		Rate  float64 `json:"rate"`
		On    bool    `json:"on"`
		Tags  []string
	}
	for in, want := range map[string]string{
		`{"count":2.5}`:  "count must be a whole number, not a JSON number",
		`{"count":"2"}`:  "count must be a whole number, not a JSON string",
		`{"rate":"5"}`:   "rate must be a number, not a JSON string",
		`{"on":1}`:       "on must be a boolean, not a JSON number",
		`{"Tags":"a,b"}`: "Tags must be a JSON array, not a JSON string",
	} {
		_, err := Decode[body](httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(in)), 1024)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

func kindOf(err error) string {
	if err == nil {
		return ""
	}
	return profileapi.ErrorKind(err)
}

// TestDateHeader: WriteJSON sets the answer's Date itself, formatted once
// a second: one value within a second, a new one in the next.
func TestDateHeader(t *testing.T) {
	rec := httptest.NewRecorder()
	before := time.Now().Truncate(time.Second)
	WriteJSON(rec, http.StatusOK, []byte(`{}`))
	got, err := http.ParseTime(rec.Header().Get("Date"))
	if err != nil {
		t.Fatalf("Date %q: %v", rec.Header().Get("Date"), err)
	}
	if after := time.Now(); got.Before(before) || got.After(after) {
		t.Errorf("Date %v, want between %v and %v", got, before, after)
	}

	t0 := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	a := dateHeader(t0)
	if a[0] != "Fri, 27 Nov 2026 05:00:00 GMT" {
		t.Errorf("Date %q", a[0])
	}
	if b := dateHeader(t0.Add(999 * time.Millisecond)); &b[0] != &a[0] {
		t.Error("one second's Date was formatted twice")
	}
	if c := dateHeader(t0.Add(time.Second).In(time.FixedZone("CET", 3600))); c[0] != "Fri, 27 Nov 2026 05:00:01 GMT" {
		t.Errorf("the next second: Date %q", c[0])
	}
}

func TestParseWhole(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"503", 503, true},
		{"503.0", 503, true},
		{"5.03e2", 503, true},
		{"5.03E+2", 503, true},
		{"5030e-1", 503, true},
		{"-7.0", -7, true},
		{"-0", 0, true},
		{"0e999", 0, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"1e19", 0, false},
		{"1e400", 0, false},
		{"9007199254740992.0", 1 << 53, true},
		{"1.5", 0, false},
		{"1.00000000000000001", 0, false}, // 1 as a float64
		{"2.9999999999999999999", 0, false},
		{"4503599627370496.5", 0, false},
		{"9007199254740993.0", 9007199254740993, true}, // 2^53+1, not a float64
		{"1234567890123456789.0", 1234567890123456789, true},
		{"9.223372036854775807e18", math.MaxInt64, true},
		{"1e1000", 0, false},
		{"-1.5", 0, false},
		{"5e-1", 0, false},
		{"1e-400", 0, false},
		{`"5"`, 0, false},
		{"true", 0, false},
		{"{}", 0, false},
	} {
		got, ok := ParseWhole(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseWhole(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestDecodeInt: an Int field takes any whole JSON number, and its refusals
// name the field in JSON's terms.
func TestDecodeInt(t *testing.T) {
	type body struct {
		Count Int  `json:"count"`
		Seed  *Int `json:"seed"`
	}
	for in, want := range map[string]body{
		`{"count":2}`:                   {Count: 2},
		`{"count":2.0}`:                 {Count: 2},
		`{"count":2e0}`:                 {Count: 2},
		`{"count":-2E+0}`:               {Count: -2},
		`{"count":null}`:                {},
		`{"seed":7.0}`:                  {Seed: ptr(Int(7))},
		`{"seed":-9223372036854775808}`: {Seed: ptr(Int(math.MinInt64))},
		`{"seed":null}`:                 {},
		`{"count":1e3,"seed":1234567890123456789}`: {Count: 1000, Seed: ptr(Int(1234567890123456789))},
	} {
		got, err := Decode[body](httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(in)), 1024)
		if err != nil || got.Count != want.Count || (got.Seed == nil) != (want.Seed == nil) || got.Seed != nil && *got.Seed != *want.Seed {
			t.Errorf("%s: %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		`{"count":2.5}`:  "count must be a whole number, not a JSON number 2.5",
		`{"count":"2"}`:  "count must be a whole number, not a JSON string",
		`{"count":true}`: "count must be a whole number, not a JSON bool",
		`{"count":{}}`:   "count must be a whole number, not a JSON object",
		`{"count":[1]}`:  "count must be a whole number, not a JSON array",
		`{"seed":0.5}`:   "seed must be a whole number, not a JSON number 0.5",
	} {
		_, err := Decode[body](httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(in)), 1024)
		if kindOf(err) != profileapi.EINVALID || messageOf(err) != want {
			t.Errorf("%s: %v, want EINVALID %q", in, err, want)
		}
	}
	// Unmarshal, for a line of NDJSON, says the same.
	if _, err := Unmarshal[body]([]byte(`{"count":2.5}`)); messageOf(err) != "count must be a whole number, not a JSON number 2.5" {
		t.Errorf("Unmarshal: %v", err)
	}
}

// messageOf is the public message of err, as the client reads it.
func messageOf(err error) string {
	if err == nil {
		return ""
	}
	_, body := StatusOf(err)
	return body.Message
}

func TestIntInt(t *testing.T) {
	for _, n := range []Int{0, 503, -1, math.MaxInt32 + 1, math.MinInt32 - 1, math.MaxInt64, math.MinInt64} {
		got := n.Int()
		if int64(got) != int64(n) && (got != math.MaxInt || n < math.MaxInt) && (got != math.MinInt || n > math.MinInt) {
			t.Errorf("Int(%d).Int() = %d, want it or the nearest int", n, got)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestDecodeKeepsTextAsSent: what encoding/json would silently turn into
// U+FFFD is refused, so that what is stored is what was sent; a body of
// another media type is refused by its type, not by a prefix.
func TestDecodeKeepsTextAsSent(t *testing.T) {
	type body struct {
		Name string `json:"name"`
	}
	decode := func(ct, in string) (body, error) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(in))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return Decode[body](httptest.NewRecorder(), r, 1024)
	}
	for in, want := range map[string]string{
		`{"name":"A\ud83d\ude00B"}`:       "A😀B",
		`{"name":"Zoë"}`:                  "Zoë",
		`{"name":"\\ud800"}`:              `\ud800`, // an escaped backslash, then text
		`{"name":"\u00e9\\\ud83d\ude00"}`: `é\😀`,
	} {
		got, err := decode("", in)
		if err != nil || got.Name != want {
			t.Errorf("%s: %q %v, want %q", in, got.Name, err, want)
		}
		if got, err := Unmarshal[body]([]byte(in)); err != nil || got.Name != want {
			t.Errorf("Unmarshal %s: %q %v, want %q", in, got.Name, err, want)
		}
	}
	for in, want := range map[string]string{
		"{\"name\":\"A\xff\xfeB\"}":     "not valid UTF-8",
		`{"name":"A\ud800B"}`:           "half a UTF-16 surrogate pair",
		`{"name":"A\udc00B"}`:           "half a UTF-16 surrogate pair",
		`{"name":"A\ud800\u0041B"}`:     "half a UTF-16 surrogate pair",
		`{"name":"A\ud800"}`:            "half a UTF-16 surrogate pair",
		`{"name":"\\\ud800"}`:           "half a UTF-16 surrogate pair",
		`{"name":"\ud83d\ude00\ude00"}`: "half a UTF-16 surrogate pair",
	} {
		if _, err := decode("", in); kindOf(err) != profileapi.EINVALID || !strings.Contains(messageOf(err), want) {
			t.Errorf("%s: %v, want EINVALID with %q", in, err, want)
		}
		if _, err := Unmarshal[body]([]byte(in)); kindOf(err) != profileapi.EINVALID || !strings.Contains(messageOf(err), want) {
			t.Errorf("Unmarshal %s: %v, want EINVALID with %q", in, err, want)
		}
	}
	for ct, ok := range map[string]bool{
		"application/json": true, "Application/JSON; charset=utf-8": true, "application/merge-patch+json": true,
		"application/json; charset": true, // a bad parameter is no reason
		"application/jsonfoo":       false, "application/json-seq": false, "text/plain": false,
	} {
		if _, err := decode(ct, `{"name":"x"}`); (err == nil) != ok {
			t.Errorf("Content-Type %q: %v, want accepted %v", ct, err, ok)
		}
	}
}

// A handler that writes nothing has its headers written by net/http once
// the middleware returns, when the middleware's reused state may be
// another request's: the id sent must still be this request's.
func TestRequestIDOfAnEmptyAnswer(t *testing.T) {
	h := Middleware(slog.New(slog.DiscardHandler), "test", HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return nil // nothing written
	}), nil)
	first := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-Id", "first-request")
	h.ServeHTTP(first, r)
	// The next request, on this goroutine, gets the state back.
	second := httptest.NewRecorder()
	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-Id", "second-request")
	h.ServeHTTP(second, r)
	if got := first.Result().Header.Get("X-Request-Id"); got != "first-request" {
		t.Errorf("the first answer's X-Request-Id is %q, want first-request", got)
	}
}

// encoding/json takes "Email" for the field "email"; the API's names are
// case-sensitive, in nested objects, lists, maps' values and the members of
// a type that decodes itself from another (Shaped) too.
func TestDecodeNamesAreCaseSensitive(t *testing.T) {
	type phone struct {
		Number string `json:"phoneNumber"`
	}
	type inner struct {
		Email  string           `json:"email"`
		Phones []phone          `json:"phones"`
		ByName map[string]phone `json:"byName"`
		Wrap   shaped[phone]    `json:"wrap"`
		PWrap  pshaped[phone]   `json:"pwrap"`
		Count  Int              `json:"count"`
	}
	type body struct {
		Profile *inner `json:"profile"`
		inner
	}
	ok := `{"profile":{"email":"a","phones":[{"phoneNumber":"1"}],"byName":{"Anna":{"phoneNumber":"2"}},"wrap":{"phoneNumber":"3"},"count":1},"email":"b"}`
	for in, want := range map[string]string{
		ok:                          "",
		`{"Profile":{}}`:            `unknown field "Profile": names are case-sensitive; did you mean "profile"?`,
		`{"EMAIL":"b"}`:             `unknown field "EMAIL": names are case-sensitive; did you mean "email"?`,
		`{"profile":{"Email":"a"}}`: `unknown field "Email" in profile: names are case-sensitive; did you mean "email"?`,
		`{"phones":[{"phoneNumber":"1"},{"PhoneNumber":"2"}]}`: `unknown field "PhoneNumber" in phones[]`,
		`{"byName":{"Anna":{"phonenumber":"2"}}}`:              `unknown field "phonenumber" in byName.Anna`,
		`{"wrap":{"PHONENUMBER":"3"}}`:                         `unknown field "PHONENUMBER" in wrap`,
		`{"pwrap":{"Phonenumber":"3"}}`:                        `unknown field "Phonenumber" in pwrap`,
	} {
		_, err := Decode[body](httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(in)), 1024)
		_, lineErr := Unmarshal[body]([]byte(in))
		for _, err := range []error{err, lineErr} {
			if want == "" && err != nil || want != "" && (kindOf(err) != profileapi.EINVALID || !strings.Contains(err.Error(), want)) {
				t.Errorf("%s: %v, want %q", in, err, want)
			}
		}
	}
}

// shaped decodes itself, as a T.
type shaped[T any] struct{ v T }

func (shaped[T]) JSONShape() reflect.Type { return reflect.TypeFor[T]() }

func (s *shaped[T]) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &s.v) }

// pshaped is shaped with its methods on the pointer, as UnmarshalJSON's are.
type pshaped[T any] struct{ v T }

func (*pshaped[T]) JSONShape() reflect.Type { return reflect.TypeFor[T]() }

func (s *pshaped[T]) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &s.v) }
