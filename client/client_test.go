package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/profileapi/profileapi/client"
	"github.com/profileapi/profileapi/client/internal/clienttest"
)

// The operations, the contract and the fake server are shared with the
// tests against the real server, in client/internal/realserver.
var (
	ops            = clienttest.Ops
	allScopes      = clienttest.AllScopes
	john           = clienttest.John
	checkSentinels = clienttest.CheckSentinels
)

func TestContractFake(t *testing.T) { clienttest.RunContract(t, clienttest.FakeClient) }

// reply is one canned response.
type reply struct {
	status int
	header map[string]string
	body   string
}

// replayServer answers with its replies in order, repeating the last one.
type replayServer struct {
	*httptest.Server
	requests atomic.Int32
}

func replay(t *testing.T, replies ...reply) *replayServer {
	t.Helper()
	s := &replayServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp := replies[min(int(s.requests.Add(1))-1, len(replies)-1)]
		if rp.body != "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		for k, v := range rp.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rp.status)
		_, _ = io.WriteString(w, rp.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *replayServer) count() int { return int(s.requests.Load()) }

// The responses of the contract's status table, byte for byte.
func TestErrorResponses(t *testing.T) {
	tests := []struct {
		name  string
		reply reply
		errs  []error
		code  string
		retry time.Duration
	}{
		{"400", reply{400, nil, `{"code":"INVALID_REQUEST","message":"a GET request has no body"}`}, nil, "INVALID_REQUEST", 0},
		{"401", reply{401, map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`},
			`{"code":"INVALID_TOKEN","message":"the access token has expired"}`}, []error{client.ErrUnauthorized}, "INVALID_TOKEN", 0},
		{"403 not requested", reply{403, nil, `{"code":"ACCESS_DENIED","message":"Access denied with reason: ACCESS_NOT_REQUESTED"}`},
			[]error{client.ErrAccessDenied, client.ErrPermissionNotGranted}, "ACCESS_DENIED", 0},
		{"403 forbidden", reply{403, nil, `{"code":"ACCESS_DENIED","message":"Access denied with reason: FORBIDDEN"}`},
			[]error{client.ErrAccessDenied, client.ErrPermissionNotDeclared}, "ACCESS_DENIED", 0},
		{"403 other reason", reply{403, nil, `{"code":"ACCESS_DENIED","message":"Access denied with reason: DEVICE_NOT_SUPPORTED"}`},
			[]error{client.ErrAccessDenied}, "ACCESS_DENIED", 0},
		{"403 without body", reply{403, map[string]string{"Content-Type": "text/html"}, `<h1>Forbidden</h1>`},
			[]error{client.ErrAccessDenied}, "", 0},
		{"404 NOT_FOUND", reply{404, nil, `{"code":"NOT_FOUND","message":"the customer has no email address"}`},
			[]error{client.ErrNoValue}, "NOT_FOUND", 0},
		{"404 INVALID_KEY", reply{404, nil, `{"code":"INVALID_KEY","message":"unknown setting Profile.address"}`}, nil, "INVALID_KEY", 0},
		{"404 plain text", reply{404, map[string]string{"Content-Type": "text/plain"}, "404 page not found\n"}, nil, "", 0},
		{"204", reply{204, nil, ""}, []error{client.ErrNoValue}, "", 0},
		{"405", reply{405, map[string]string{"Allow": "GET, HEAD"}, `{"code":"METHOD_NOT_ALLOWED","message":"use GET"}`}, nil, "METHOD_NOT_ALLOWED", 0},
		{"429", reply{429, map[string]string{"Retry-After": "1"}, `{"code":"TOO_MANY_REQUESTS","message":"rate limit exceeded"}`},
			[]error{client.ErrThrottled}, "TOO_MANY_REQUESTS", time.Second},
		{"500", reply{500, nil, `{"code":"UNKNOWN_ERROR","message":"an unexpected error occurred"}`}, []error{client.ErrUnavailable}, "UNKNOWN_ERROR", 0},
		{"502 from a proxy", reply{502, map[string]string{"Content-Type": "text/html"}, "<html>Bad Gateway</html>"}, []error{client.ErrUnavailable}, "", 0},
		{"503", reply{503, map[string]string{"Retry-After": "2"}, `{"code":"SERVICE_UNAVAILABLE","message":"try again later"}`},
			[]error{client.ErrUnavailable}, "SERVICE_UNAVAILABLE", 2 * time.Second},
		{"504", reply{504, nil, ""}, []error{client.ErrUnavailable}, "", 0},
		{"418", reply{418, nil, `{"code":"TEAPOT","message":"short and stout"}`}, nil, "TEAPOT", 0},
	}
	for _, tt := range tests {
		for _, o := range ops {
			t.Run(tt.name+"/"+o.Method, func(t *testing.T) {
				srv := replay(t, tt.reply)
				c := client.New(srv.URL, "token", client.WithMaxAttempts(1))
				_, err := o.Read(t.Context(), c)
				checkSentinels(t, err, tt.errs...)
				apiErr, ok := errors.AsType[*client.APIError](err)
				if !ok {
					t.Fatalf("error %v is not an *APIError", err)
				}
				if apiErr.StatusCode != tt.reply.status || apiErr.Code != tt.code || apiErr.Scope != o.Scope || apiErr.RetryAfter != tt.retry {
					t.Errorf("APIError = %+v, want status %d, code %q, scope %q, retry after %v",
						apiErr, tt.reply.status, tt.code, o.Scope, tt.retry)
				}
				if srv.count() != 1 {
					t.Errorf("%d requests, want 1", srv.count())
				}
			})
		}
	}
}

func TestAPIErrorMessage(t *testing.T) {
	srv := replay(t, reply{403, nil, `{"code":"ACCESS_DENIED","message":"Access denied with reason: ACCESS_NOT_REQUESTED"}`})
	_, err := client.New(srv.URL, "token").Email(t.Context())
	want := "client: Profile.email: 403 Forbidden: ACCESS_DENIED: Access denied with reason: ACCESS_NOT_REQUESTED"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}

	srv = replay(t, reply{503, map[string]string{"X-Request-Id": "9f2c4e"}, `{"code":"SERVICE_UNAVAILABLE","message":"try again later"}`})
	_, err = client.New(srv.URL, "token", client.WithMaxAttempts(1)).Email(t.Context())
	want = "client: Profile.email: 503 Service Unavailable: SERVICE_UNAVAILABLE: try again later (request id 9f2c4e)"
	if e, ok := errors.AsType[*client.APIError](err); !ok || e.RequestID != "9f2c4e" || err.Error() != want {
		t.Errorf("err = %v, want %s, with RequestID 9f2c4e", err, want)
	}
}

// A gateway that refuses a token may echo it: the error must not.
func TestAPIErrorHidesToken(t *testing.T) {
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	srv := replay(t, reply{401, nil, `{"code":"` + token + `","message":"bad token ` + token + `, refused"}`})
	_, err := client.New(srv.URL, token).Email(t.Context())
	e, ok := errors.AsType[*client.APIError](err)
	if !ok || strings.Contains(err.Error(), token) || e.Code != "[token]" || e.Message != "bad token [token], refused" {
		t.Errorf("err = %v (%#v), want the token shown as [token]", err, e)
	}
}

// Printing or logging a Client, by pointer or by value, alone or inside a
// struct of the skill's, never shows its token; a System is plain data, and
// an envelope embedding one prints whole.
func TestPrintingHidesTokens(t *testing.T) {
	const token = "SECRET-ACCESS-TOKEN"
	c := client.New("https://user:pw@api.example.com", token)
	wrapped := struct {
		Ptr *client.Client
		Val client.Client
	}{c, *c}
	var out strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		fmt.Fprintf(&out, verb+"\n", c)
		fmt.Fprintf(&out, verb+"\n", *c)
		fmt.Fprintf(&out, verb+"\n", wrapped)
	}
	for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
		slog.New(h).Info("call", "client", c, "value", *c)
	}
	if s := out.String(); strings.Contains(s, token) || strings.Contains(s, ":pw@") {
		t.Errorf("printed a token or password:\n%s", s)
	}
	if !strings.Contains(out.String(), "api.example.com") {
		t.Errorf("printed without the endpoint:\n%s", out.String())
	}

	type envelope struct {
		client.System
		Intent string
	}
	env := envelope{client.System{APIEndpoint: "https://api.example.com"}, "OrderPizza"}
	if got := fmt.Sprintf("%+v", env); !strings.Contains(got, "OrderPizza") || !strings.Contains(got, "api.example.com") {
		t.Errorf("an envelope embedding a System printed %s, want all its fields", got)
	}
}

// Both wire modes' bodies, and the odd ones a lenient reader should take.
func TestDecode(t *testing.T) {
	name, given, email, mobile := ops[0], ops[1], ops[2], ops[3]
	tests := []struct {
		op   clienttest.Op
		body string
		want any // nil: the call fails
		errs []error
	}{
		{name, `{"name":"John Smith"}`, "John Smith", nil},
		{name, `"John Smith"`, "John Smith", nil},
		{name, "  \"John Smith\"\n", "John Smith", nil},
		{name, `{ "name" : "John Smith", "extra": [1, 2] }`, "John Smith", nil},
		{name, `"J\u00f6rg M\u00fcller"`, "Jörg Müller", nil},
		{given, `{"name":"John"}`, "John", nil},
		{given, `"John"`, "John", nil},
		{given, `{"givenName":"John"}`, "John", nil},
		{email, `{"email":"jsmith@example.com"}`, "jsmith@example.com", nil},
		{email, `"jsmith@example.com"`, "jsmith@example.com", nil},
		{mobile, `{"countryCode":"+91","phoneNumber":"7799-82-77-11"}`, client.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799-82-77-11"}, nil},
		{mobile, `{"countryCode":"+91","phoneNumber":"+917799827710","extra":true}`, client.PhoneNumber{CountryCode: "+91", PhoneNumber: "+917799827710"}, nil},
		{mobile, `{"phoneNumber":"7799827710"}`, client.PhoneNumber{PhoneNumber: "7799827710"}, nil},

		// Empty values are no values.
		{name, `""`, nil, []error{client.ErrNoValue}},
		{name, `{"name":null}`, nil, []error{client.ErrNoValue}},
		{email, `{"email":""}`, nil, []error{client.ErrNoValue}},
		{mobile, `{"countryCode":"+1","phoneNumber":""}`, nil, []error{client.ErrNoValue}},

		// No answer is no value: neither mode says "none" with a 200, and
		// a catch-all route must not pass for a customer without one.
		{name, ``, nil, nil},
		{name, `null`, nil, nil},
		{email, " \n", nil, nil},
		{mobile, ``, nil, nil},
		{mobile, `null`, nil, nil},

		// Bodies no reader can make sense of match no sentinel.
		{name, `42`, nil, nil},
		{name, `["John Smith"]`, nil, nil},
		{name, `{"nom":"John Smith"}`, nil, nil},
		{name, `{"name":42}`, nil, nil},
		{name, `{"name":`, nil, nil},
		{name, `<html>John</html>`, nil, nil},
		{email, `{"name":"jsmith@example.com"}`, nil, nil},
		{mobile, `"+917799827710"`, nil, nil},
		{mobile, `{"countryCode":91}`, nil, nil},
		{mobile, `{}`, nil, nil},
		{mobile, `{"countryCode":"+91"}`, nil, nil},
		{mobile, `{"email":"jsmith@example.com"}`, nil, nil},
		{mobile, `{"mobileNumber":{"countryCode":"+91","phoneNumber":"7799827710"}}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.op.Method+" "+tt.body, func(t *testing.T) {
			srv := replay(t, reply{200, nil, tt.body})
			got, err := tt.op.Read(t.Context(), client.New(srv.URL, "token"))
			if tt.want != nil {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s = %#v, %v; want %#v", tt.op.Method, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s = %#v, want an error", tt.op.Method, got)
			}
			checkSentinels(t, err, tt.errs...)
			if _, ok := errors.AsType[*client.APIError](err); ok {
				t.Errorf("error %v is an *APIError: a 200 is not an API error", err)
			}
			if srv.count() != 1 {
				t.Errorf("%d requests, want 1: a bad 200 body is not retried", srv.count())
			}
		})
	}
}

func TestRequest(t *testing.T) {
	type seen struct {
		method, requestURI, auth, accept, userAgent, contentType string
		contentLength                                            int64
	}
	record := func(t *testing.T) (*httptest.Server, chan seen) {
		got := make(chan seen, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select { // only the first request counts; a retry would be a bug
			case got <- seen{r.Method, r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Accept"),
				r.Header.Get("User-Agent"), r.Header.Get("Content-Type"), r.ContentLength}:
			default:
				t.Errorf("more than one request")
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		return srv, got
	}

	for _, o := range ops {
		for _, prefix := range []string{"", "/", "/alexa", "/alexa/", "/a/b/"} {
			t.Run(o.Method+" prefix "+prefix, func(t *testing.T) {
				srv, got := record(t)
				_, _ = o.Read(t.Context(), client.New(srv.URL+prefix, "tok.en-1"))
				req := <-got
				wantURI := strings.TrimSuffix(prefix, "/") + "/v2/accounts/~current/settings/" + o.Setting
				if req.method != http.MethodGet || req.requestURI != wantURI {
					t.Errorf("request %s %s, want GET %s", req.method, req.requestURI, wantURI)
				}
				if req.auth != "Bearer tok.en-1" || req.accept != "application/json" {
					t.Errorf("Authorization %q, Accept %q; want %q, %q", req.auth, req.accept, "Bearer tok.en-1", "application/json")
				}
				if !strings.HasPrefix(req.userAgent, "profileapi-go-client/") {
					t.Errorf("User-Agent %q, want the default", req.userAgent)
				}
				if req.contentLength != 0 || req.contentType != "" {
					t.Errorf("request has Content-Length %d and Content-Type %q, want no body", req.contentLength, req.contentType)
				}
			})
		}
	}

	t.Run("user agent", func(t *testing.T) {
		srv, got := record(t)
		_, _ = client.New(srv.URL, "t", client.WithUserAgent("my-skill/1.0")).Name(t.Context())
		if req := <-got; req.userAgent != "my-skill/1.0" {
			t.Errorf("User-Agent %q, want my-skill/1.0", req.userAgent)
		}
	})
	t.Run("no token", func(t *testing.T) {
		srv, got := record(t)
		_, _ = client.New(srv.URL, "").Name(t.Context())
		if req := <-got; req.auth != "" {
			t.Errorf("Authorization %q, want none", req.auth)
		}
	})
	t.Run("http client", func(t *testing.T) {
		srv, got := record(t)
		var used atomic.Bool
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			used.Store(true)
			return http.DefaultTransport.RoundTrip(r)
		})}
		_, _ = client.New(srv.URL, "t", client.WithHTTPClient(hc)).Name(t.Context())
		<-got
		if !used.Load() {
			t.Error("the request did not go through WithHTTPClient's client")
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBadEndpoint(t *testing.T) {
	for _, endpoint := range []string{"", "api.amazonalexa.com", "/v2", "ftp://api.amazonalexa.com", "http://", "https://a b.com", "%zz"} {
		t.Run(endpoint, func(t *testing.T) {
			_, err := client.New(endpoint, "t").Email(t.Context())
			if err == nil || !strings.Contains(err.Error(), "endpoint") {
				t.Errorf("err = %v, want an error about the endpoint", err)
			}
			checkSentinels(t, err)
		})
	}
	var zero client.Client
	if _, err := zero.Name(t.Context()); err == nil {
		t.Error("the zero Client made a call")
	}
}

// recorder stands in for the clock and the jitter: it records the waits the
// client asks for and, by default, returns the largest jitter allowed.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
	rands  []int64
	jitter func(n int64) int64
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	return ctx.Err()
}

func (r *recorder) randN(n int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rands = append(r.rands, n)
	if r.jitter != nil {
		return r.jitter(n)
	}
	return n - 1
}

func (r *recorder) options() []client.Option {
	return []client.Option{client.WithSleep(r.sleep), client.WithRand(r.randN)}
}

const ms = time.Millisecond

var (
	unavailable = reply{503, nil, `{"code":"SERVICE_UNAVAILABLE","message":"try again later"}`}
	ok          = reply{200, nil, `{"email":"jsmith@example.com"}`}
)

func TestBackoffSchedule(t *testing.T) {
	tests := []struct {
		name      string
		base, max time.Duration
		attempts  int
		want      []time.Duration
	}{
		{"doubling", 100 * ms, 10 * time.Second, 5, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms}},
		{"capped", 100 * ms, 300 * ms, 6, []time.Duration{100 * ms, 200 * ms, 300 * ms, 300 * ms, 300 * ms}},
		{"max below base", 100 * ms, 50 * ms, 3, []time.Duration{100 * ms, 100 * ms}},
		{"no wait", 0, 0, 3, []time.Duration{0, 0}},
		// Doubling 1 s passes what time.Duration holds after 33 retries:
		// the ceiling must stop at maxWait, not wrap to 0 or below.
		{"largest maxWait", time.Second, math.MaxInt64 - 1, 40, longSchedule(time.Second, math.MaxInt64-1, 39)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := replay(t, unavailable)
			rec := &recorder{}
			opts := append(rec.options(), client.WithMaxAttempts(tt.attempts), client.WithBackoff(tt.base, tt.max))
			_, err := client.New(srv.URL, "t", opts...).Email(t.Context())
			checkSentinels(t, err, client.ErrUnavailable)
			if !slices.Equal(rec.sleeps, tt.want) {
				t.Errorf("waits %v, want %v", rec.sleeps, tt.want)
			}
			if srv.count() != tt.attempts {
				t.Errorf("%d requests, want %d", srv.count(), tt.attempts)
			}
		})
	}

	t.Run("defaults", func(t *testing.T) {
		srv := replay(t, unavailable)
		rec := &recorder{}
		_, err := client.New(srv.URL, "t", rec.options()...).Email(t.Context())
		checkSentinels(t, err, client.ErrUnavailable)
		want := []time.Duration{client.DefaultBackoffBase, 2 * client.DefaultBackoffBase}
		if !slices.Equal(rec.sleeps, want) || srv.count() != client.DefaultMaxAttempts {
			t.Errorf("%d requests with waits %v, want %d with %v", srv.count(), rec.sleeps, client.DefaultMaxAttempts, want)
		}
	})

	t.Run("full jitter lower bound", func(t *testing.T) {
		srv := replay(t, unavailable)
		rec := &recorder{jitter: func(int64) int64 { return 0 }}
		_, _ = client.New(srv.URL, "t", append(rec.options(), client.WithMaxAttempts(4))...).Email(t.Context())
		if want := []time.Duration{0, 0, 0}; !slices.Equal(rec.sleeps, want) {
			t.Errorf("waits %v, want %v", rec.sleeps, want)
		}
		// The jitter is drawn from [0, ceiling], the ceiling included.
		if want := []int64{int64(100*ms) + 1, int64(200*ms) + 1, int64(400*ms) + 1}; !slices.Equal(rec.rands, want) {
			t.Errorf("jitter drawn with n = %v, want %v", rec.rands, want)
		}
	})

	t.Run("jitter source misbehaves", func(t *testing.T) {
		srv := replay(t, unavailable)
		rec := &recorder{jitter: func(n int64) int64 { return []int64{-5, n * 3}[n%2] }}
		_, _ = client.New(srv.URL, "t", append(rec.options(), client.WithMaxAttempts(3))...).Email(t.Context())
		for i, d := range rec.sleeps {
			if ceiling := 100 * ms << i; d < 0 || d > ceiling {
				t.Errorf("wait %d is %v, want it clamped to [0, %v]", i, d, ceiling)
			}
		}
	})
}

// longSchedule is the waits before n retries with the largest jitter:
// base·2^k, until that passes maxWait.
func longSchedule(base, maxWait time.Duration, n int) []time.Duration {
	var waits []time.Duration
	for k := range n {
		w := maxWait
		if k < 62 && base <= maxWait>>k {
			w = base << k
		}
		waits = append(waits, w)
	}
	return waits
}

// With the real jitter source, every wait lies in [0, ceiling] and the
// waits are spread out, not pinned to the ceiling.
func TestBackoffJitter(t *testing.T) {
	srv := replay(t, unavailable)
	const base, maxWait, attempts = 10 * ms, 200 * ms, 8
	var (
		mu    sync.Mutex
		waits [attempts - 1][]time.Duration
		k     int
	)
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits[k] = append(waits[k], d)
		k++
		return nil
	}
	c := client.New(srv.URL, "t", client.WithSleep(sleep), client.WithMaxAttempts(attempts), client.WithBackoff(base, maxWait))
	for range 50 {
		k = 0
		_, _ = c.Email(t.Context())
	}
	for i, ws := range waits {
		ceiling := min(base<<i, maxWait)
		low := 0
		for _, w := range ws {
			if w < 0 || w > ceiling {
				t.Errorf("retry %d waited %v, want [0, %v]", i, w, ceiling)
			}
			if w < ceiling/2 {
				low++
			}
		}
		if len(ws) != 50 || low == 0 || low == len(ws) {
			t.Errorf("retry %d: %d waits, %d below half the ceiling; want 50, spread out", i, len(ws), low)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	clock := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		wantWaits  []time.Duration
		wantCount  int
	}{
		{"seconds", "2", []time.Duration{2 * time.Second}, 2},
		{"seconds with spaces", " 3 ", []time.Duration{3 * time.Second}, 2},
		{"the cap", "5", []time.Duration{5 * time.Second}, 2},
		{"HTTP-date", clock.Add(3 * time.Second).Format(http.TimeFormat), []time.Duration{3 * time.Second}, 2},
		{"HTTP-date in the past", clock.Add(-time.Hour).Format(http.TimeFormat), []time.Duration{100 * ms}, 2},
		{"zero", "0", []time.Duration{100 * ms}, 2},
		{"malformed", "soon", []time.Duration{100 * ms}, 2},
		{"negative", "-1", []time.Duration{100 * ms}, 2},
		{"over the cap", "30", nil, 1},
		{"HTTP-date over the cap", clock.Add(time.Minute).Format(http.TimeFormat), nil, 1},
		{"absurd", "99999999999999999999", nil, 1},
	}
	for _, status := range []int{429, 503} {
		for _, tt := range tests {
			t.Run(http.StatusText(status)+"/"+tt.name, func(t *testing.T) {
				srv := replay(t, reply{status, map[string]string{"Retry-After": tt.retryAfter}, `{"code":"X","message":"later"}`}, ok)
				rec := &recorder{}
				opts := append(rec.options(), client.WithClock(func() time.Time { return clock }))
				email, err := client.New(srv.URL, "t", opts...).Email(t.Context())
				if !slices.Equal(rec.sleeps, tt.wantWaits) || srv.count() != tt.wantCount {
					t.Errorf("%d requests with waits %v, want %d with %v", srv.count(), rec.sleeps, tt.wantCount, tt.wantWaits)
				}
				if tt.wantCount == 2 {
					if err != nil || email != "jsmith@example.com" {
						t.Errorf("Email = %q, %v after the retry", email, err)
					}
					return
				}
				apiErr, ok := errors.AsType[*client.APIError](err)
				if !ok || apiErr.StatusCode != status || apiErr.RetryAfter <= client.DefaultBackoffMax {
					t.Errorf("err = %v (%+v), want the %d with its long Retry-After", err, apiErr, status)
				}
			})
		}
	}
}

func TestRetryRecovers(t *testing.T) {
	srv := replay(t,
		reply{500, nil, `{"code":"UNKNOWN_ERROR","message":"oops"}`},
		reply{429, nil, `{"code":"TOO_MANY_REQUESTS","message":"slow down"}`},
		reply{502, nil, ""},
		reply{504, nil, ""},
		unavailable,
		ok)
	rec := &recorder{}
	email, err := client.New(srv.URL, "t", append(rec.options(), client.WithMaxAttempts(6))...).Email(t.Context())
	if err != nil || email != "jsmith@example.com" {
		t.Fatalf("Email = %q, %v", email, err)
	}
	if srv.count() != 6 || len(rec.sleeps) != 5 {
		t.Errorf("%d requests, %d waits; want 6, 5", srv.count(), len(rec.sleeps))
	}
}

func TestMaxAttempts(t *testing.T) {
	for _, tt := range []struct{ option, want int }{{-1, 1}, {0, 1}, {1, 1}, {2, 2}, {7, 7}} {
		srv := replay(t, reply{429, nil, `{"code":"TOO_MANY_REQUESTS","message":"slow down"}`})
		rec := &recorder{}
		_, err := client.New(srv.URL, "t", append(rec.options(), client.WithMaxAttempts(tt.option))...).Name(t.Context())
		checkSentinels(t, err, client.ErrThrottled)
		if srv.count() != tt.want || len(rec.sleeps) != tt.want-1 {
			t.Errorf("WithMaxAttempts(%d): %d requests, %d waits; want %d, %d", tt.option, srv.count(), len(rec.sleeps), tt.want, tt.want-1)
		}
	}
}

func TestNoRetry(t *testing.T) {
	for _, status := range []int{204, 400, 401, 403, 404, 405, 409, 418, 422} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := replay(t, reply{status, map[string]string{"Retry-After": "1"}, ""}, ok)
			rec := &recorder{}
			_, err := client.New(srv.URL, "t", append(rec.options(), client.WithMaxAttempts(5))...).Email(t.Context())
			if err == nil || srv.count() != 1 || len(rec.sleeps) != 0 {
				t.Errorf("err %v after %d requests and %d waits; want an error after 1 request and no wait", err, srv.count(), len(rec.sleeps))
			}
		})
	}
}

func TestContext(t *testing.T) {
	t.Run("cancelled while waiting", func(t *testing.T) {
		srv := replay(t, unavailable)
		ctx, cancel := context.WithCancel(t.Context())
		sleep := func(ctx context.Context, d time.Duration) error {
			cancel()
			return ctx.Err()
		}
		_, err := client.New(srv.URL, "t", client.WithSleep(sleep), client.WithMaxAttempts(5)).Email(ctx)
		if !errors.Is(err, context.Canceled) || !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("err = %v, want context.Canceled wrapping the 503", err)
		}
		if srv.count() != 1 {
			t.Errorf("%d requests, want 1", srv.count())
		}
	})

	t.Run("cancelled before the call", func(t *testing.T) {
		srv := replay(t, ok)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := client.New(srv.URL, "t").Email(ctx)
		if !errors.Is(err, context.Canceled) || srv.count() != 0 {
			t.Errorf("err = %v after %d requests, want context.Canceled and none", err, srv.count())
		}
	})

	t.Run("cancelled during a request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if requests.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			cancel()
			<-r.Context().Done()
		}))
		t.Cleanup(srv.Close)
		rec := &recorder{}
		_, err := client.New(srv.URL, "t", append(rec.options(), client.WithMaxAttempts(5))...).Email(ctx)
		if !errors.Is(err, context.Canceled) || !errors.Is(err, client.ErrUnavailable) || requests.Load() != 2 {
			t.Errorf("err = %v after %d requests; want context.Canceled wrapping the 503, after 2", err, requests.Load())
		}
	})

	// A wait that would outlast the deadline is not taken: the caller gets
	// the server's answer while it still has time to use it.
	t.Run("deadline sooner than the wait", func(t *testing.T) {
		srv := replay(t, reply{429, map[string]string{"Retry-After": "2"}, `{"code":"TOO_MANY_REQUESTS","message":"slow down"}`}, ok)
		deadline := time.Now().Add(time.Hour)
		ctx, cancel := context.WithDeadline(t.Context(), deadline)
		defer cancel()
		rec := &recorder{}
		now := func() time.Time { return deadline.Add(-time.Second) }
		_, err := client.New(srv.URL, "t", append(rec.options(), client.WithClock(now))...).Email(ctx)
		checkSentinels(t, err, client.ErrThrottled)
		if errors.Is(err, context.DeadlineExceeded) || srv.count() != 1 || len(rec.sleeps) != 0 {
			t.Errorf("err = %v after %d requests and waits %v; want the 429 at once", err, srv.count(), rec.sleeps)
		}
	})

	t.Run("deadline later than the wait", func(t *testing.T) {
		srv := replay(t, reply{429, map[string]string{"Retry-After": "2"}, `{"code":"TOO_MANY_REQUESTS","message":"slow down"}`}, ok)
		deadline := time.Now().Add(time.Hour)
		ctx, cancel := context.WithDeadline(t.Context(), deadline)
		defer cancel()
		rec := &recorder{}
		now := func() time.Time { return deadline.Add(-3 * time.Second) }
		email, err := client.New(srv.URL, "t", append(rec.options(), client.WithClock(now))...).Email(ctx)
		if err != nil || email == "" || !slices.Equal(rec.sleeps, []time.Duration{2 * time.Second}) {
			t.Errorf("Email = %q, %v with waits %v; want the value after waiting 2s", email, err, rec.sleeps)
		}
	})

	// The default sleep really waits, and stops when the context ends.
	t.Run("default sleep", func(t *testing.T) {
		srv := replay(t, unavailable, ok)
		email, err := client.New(srv.URL, "t", client.WithBackoff(ms, ms)).Email(t.Context())
		if err != nil || email == "" {
			t.Errorf("Email = %q, %v", email, err)
		}
		srv = replay(t, reply{503, map[string]string{"Retry-After": "5"}, ""})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(10*ms, cancel)
		_, err = client.New(srv.URL, "t").Email(ctx)
		if !errors.Is(err, context.Canceled) || !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("err = %v, want context.Canceled wrapping the 503", err)
		}
	})
}

func TestNetworkErrors(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		rec := &recorder{}
		_, err = client.New("http://"+addr, "t", rec.options()...).Email(t.Context())
		checkSentinels(t, err, client.ErrUnavailable)
		if _, ok := errors.AsType[*url.Error](err); !ok {
			t.Errorf("err = %v, want it to wrap the *url.Error", err)
		}
		if len(rec.sleeps) != client.DefaultMaxAttempts-1 {
			t.Errorf("waits %v, want %d", rec.sleeps, client.DefaultMaxAttempts-1)
		}
	})

	t.Run("connection dropped, then answered", func(t *testing.T) {
		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if requests.Add(1) == 1 {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
			_, _ = io.WriteString(w, `"jsmith@example.com"`)
		}))
		t.Cleanup(srv.Close)
		rec := &recorder{}
		email, err := client.New(srv.URL, "t", rec.options()...).Email(t.Context())
		if err != nil || email != "jsmith@example.com" || len(rec.sleeps) != 1 {
			t.Errorf("Email = %q, %v after waits %v; want the value after one retry", email, err, rec.sleeps)
		}
	})

	// Whatever the status: a cut error body's code is lost, so it is
	// retried rather than read as the bare status.
	for _, status := range []int{http.StatusOK, http.StatusForbidden, http.StatusNotFound, http.StatusServiceUnavailable} {
		t.Run("body cut short/"+strconv.Itoa(status), func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if requests.Add(1) == 1 {
					w.Header().Set("Content-Length", "200")
					w.WriteHeader(status)
					_, _ = io.WriteString(w, `{"code":"ACCESS_DEN`)
					return // the server closes a connection whose body is short
				}
				_, _ = io.WriteString(w, `{"email":"jsmith@example.com"}`)
			}))
			t.Cleanup(srv.Close)
			rec := &recorder{}
			email, err := client.New(srv.URL, "t", rec.options()...).Email(t.Context())
			if err != nil || email != "jsmith@example.com" || len(rec.sleeps) != 1 {
				t.Errorf("Email = %q, %v after waits %v; want the value after one retry", email, err, rec.sleeps)
			}
		})
	}

	// A deadline that ends mid-body is the context's error.
	t.Run("deadline mid-body", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "200")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"code":`)
			http.NewResponseController(w).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err := client.New(srv.URL, "t").Email(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
		}
	})
}

// A token or User-Agent that no header can carry fails at once, without a
// request or a retry, and is not mistaken for an unavailable service.
func TestUnsendableHeader(t *testing.T) {
	tests := []struct {
		name, token string
		opts        []client.Option
	}{
		{"newline in the token", "abc\ndef", nil},
		{"NUL in the token", "abc\x00", nil},
		{"DEL in the token", "abc\x7f", nil},
		{"CR LF in the User-Agent", "t", []client.Option{client.WithUserAgent("x\r\nX-Evil: 1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := replay(t, ok)
			rec := &recorder{}
			_, err := client.New(srv.URL, tt.token, append(rec.options(), tt.opts...)...).Email(t.Context())
			if err == nil || !strings.Contains(err.Error(), "control character") {
				t.Errorf("err = %v, want one saying the header has a control character", err)
			}
			checkSentinels(t, err)
			if srv.count() != 0 || len(rec.sleeps) != 0 {
				t.Errorf("%d requests, waits %v; want none", srv.count(), rec.sleeps)
			}
		})
	}
	t.Run("tab is allowed", func(t *testing.T) {
		srv := replay(t, ok)
		if _, err := client.New(srv.URL, "t", client.WithUserAgent("skill\t1.0")).Email(t.Context()); err != nil {
			t.Errorf("err = %v, want the value", err)
		}
	})
	// The client adds the scheme: one given with the token would go out
	// twice and come back a 401 that blames the token.
	t.Run("Bearer prefix", func(t *testing.T) {
		srv := replay(t, ok)
		for _, tok := range []string{"bearer eyJ.x.y", "Bearer\teyJ.x.y", " BEARER  eyJ.x.y"} {
			_, err := client.New(srv.URL, tok).Email(t.Context())
			if err == nil || !strings.Contains(err.Error(), `without its "Bearer " prefix`) || strings.Contains(err.Error(), "eyJ") {
				t.Errorf("token %q: err = %v, want one about the prefix, without the token", tok, err)
			}
			checkSentinels(t, err)
		}
		if srv.count() != 0 {
			t.Errorf("%d requests, want none", srv.count())
		}
	})
}

// A server whose certificate the client does not trust is a configuration
// to fix: no retry, and not ErrUnavailable ("try again later").
func TestUntrustedCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `"jsmith@example.com"`)
	}))
	t.Cleanup(srv.Close)
	rec := &recorder{}
	_, err := client.New(srv.URL, "t", rec.options()...).Email(t.Context()) // the default client: no CA
	checkSentinels(t, err)
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); !ok || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("err = %v, want a certificate verification error saying the certificate is not trusted", err)
	}
	if len(rec.sleeps) != 0 {
		t.Errorf("waits %v, want no retry", rec.sleeps)
	}
	// Trusted, the same server answers.
	if email, err := client.New(srv.URL, "t", client.WithHTTPClient(srv.Client())).Email(t.Context()); err != nil || email != "jsmith@example.com" {
		t.Errorf("with the CA: %q, %v", email, err)
	}
}

func TestBodyCap(t *testing.T) {
	huge := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
	srv := replay(t, reply{200, nil, huge})
	_, err := client.New(srv.URL, "t").Name(t.Context())
	if err == nil || !strings.Contains(err.Error(), "64 KiB") || srv.count() != 1 {
		t.Errorf("err = %v after %d requests, want one saying the body is over 64 KiB after 1", err, srv.count())
	}

	// An oversized error body still yields the status.
	srv = replay(t, reply{403, nil, `{"code":"ACCESS_DENIED","message":"` + strings.Repeat("x", 70<<10) + `"}`})
	_, err = client.New(srv.URL, "t").Name(t.Context())
	checkSentinels(t, err, client.ErrAccessDenied)
}

// Every response body is read to the end and closed, so one connection
// serves every call.
func TestConnectionReuse(t *testing.T) {
	replies := []reply{
		{200, nil, `{"email":"jsmith@example.com"}`},
		{204, nil, ""},
		{403, nil, `{"code":"ACCESS_DENIED","message":"` + strings.Repeat("x", 10<<10) + `"}`},
		{404, nil, `{"code":"NOT_FOUND","message":"no value"}`},
		{503, nil, `{"code":"SERVICE_UNAVAILABLE","message":"later"}`},
		{200, nil, `{"email":"` + strings.Repeat("x", 60<<10) + `"}`},
		{401, nil, strings.Repeat(" ", 100<<10)},
		{200, nil, `"jsmith@example.com"`},
	}
	var (
		newConns atomic.Int32
		i        atomic.Int32
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp := replies[int(i.Add(1)-1)%len(replies)]
		w.WriteHeader(rp.status)
		_, _ = io.WriteString(w, rp.body)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	c := client.New(srv.URL, "t", client.WithHTTPClient(srv.Client()), client.WithMaxAttempts(1))
	for range 2 * len(replies) {
		_, _ = c.Email(t.Context())
	}
	if n := newConns.Load(); n != 1 {
		t.Errorf("%d connections for %d calls, want 1", n, 2*len(replies))
	}
}

// A Client is shared by the goroutines of one skill request.
func TestConcurrentUse(t *testing.T) {
	srv := httptest.NewServer(&clienttest.FakeServer{Wire: "alexa", Token: "t", Profile: john, Declared: allScopes, Granted: allScopes})
	t.Cleanup(srv.Close)
	c := client.New(srv.URL, "t")
	var wg sync.WaitGroup
	for range 4 {
		for _, o := range ops {
			wg.Go(func() {
				if got, err := o.Read(t.Context(), c); err != nil || !reflect.DeepEqual(got, o.John) {
					t.Errorf("%s = %#v, %v", o.Method, got, err)
				}
			})
		}
	}
	wg.Wait()
}

// One set of options serves every request of a skill, each making its
// own Client at once: applying an Option must change only the Client.
// (go test -race, which .ci/run runs on this package, catches the rest.)
func TestSharedOptions(t *testing.T) {
	srv := replay(t, unavailable)
	rec := &recorder{}
	opts := append(rec.options(), client.WithBackoff(-time.Second, 2*ms), client.WithHTTPClient(nil),
		client.WithUserAgent(""), client.WithClock(nil), client.WithMaxAttempts(2))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := client.New(srv.URL, "t", opts...).Email(t.Context())
			checkSentinels(t, err, client.ErrUnavailable)
		})
	}
	wg.Wait()
	if len(rec.sleeps) != 8 || slices.ContainsFunc(rec.sleeps, func(d time.Duration) bool { return d != 0 }) {
		t.Errorf("waits %v, want 8 of 0 (a negative base counts as 0)", rec.sleeps)
	}
}

// envelope is a LaunchRequest as Alexa sends it.
const envelope = `{
  "version": "1.0",
  "session": {"new": true, "sessionId": "amzn1.echo-api.session.1", "application": {"applicationId": "amzn1.ask.skill.1"}},
  "context": {
    "System": {
      "application": {"applicationId": "amzn1.ask.skill.1"},
      "user": {"userId": "amzn1.ask.account.AAA", "permissions": {"consentToken": "consent.1"}},
      "device": {"deviceId": "amzn1.ask.device.1", "supportedInterfaces": {}},
      "apiEndpoint": "ENDPOINT",
      "apiAccessToken": "token-of-john"
    }
  },
  "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.1", "timestamp": "2025-03-14T15:09:26Z", "locale": "en-US"}
}`

func TestFromRequest(t *testing.T) {
	srv := httptest.NewServer(&clienttest.FakeServer{Wire: "documented", Token: "token-of-john", Profile: john, Declared: allScopes, Granted: allScopes})
	t.Cleanup(srv.Close)
	body := []byte(strings.Replace(envelope, "ENDPOINT", srv.URL, 1))

	sys, err := client.ParseSystem(body)
	if err != nil {
		t.Fatal(err)
	}
	want := client.System{
		APIEndpoint:    srv.URL,
		APIAccessToken: "token-of-john",
		User:           client.User{UserID: "amzn1.ask.account.AAA", Permissions: client.Permissions{ConsentToken: "consent.1"}},
		Application:    client.Application{ApplicationID: "amzn1.ask.skill.1"},
	}
	if sys != want {
		t.Errorf("ParseSystem = %+v, want %+v", sys, want)
	}

	c, err := client.FromRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if name, err := c.GivenName(t.Context()); err != nil || name != "John" {
		t.Errorf("GivenName = %q, %v; want John", name, err)
	}

	bad := map[string]string{
		"not JSON":     `<xml/>`,
		"no context":   `{"version":"1.0","request":{"type":"LaunchRequest"}}`,
		"no token":     strings.Replace(envelope, `"token-of-john"`, `""`, 1),
		"no endpoint":  strings.Replace(envelope, `"ENDPOINT"`, `""`, 1),
		"bad endpoint": strings.Replace(envelope, "ENDPOINT", "api.amazonalexa.com", 1),
		"wrong type":   strings.Replace(envelope, `"token-of-john"`, `42`, 1),
	}
	for name, body := range bad {
		t.Run(name, func(t *testing.T) {
			if c, err := client.FromRequest([]byte(body)); err == nil || c != nil {
				t.Errorf("FromRequest = %v, %v; want an error", c, err)
			}
		})
	}
}
