package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi/client"
)

// api stands in for the Customer Profile API, giving one answer to every
// request for the given name.
func api(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/accounts/~current/settings/Profile.givenName" || r.Header.Get("Authorization") != "Bearer token-of-john" {
			t.Errorf("the skill asked for %s with %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func envelope(requestType, endpoint string) string {
	return `{"version":"1.0","context":{"System":{"apiEndpoint":"` + endpoint + `","apiAccessToken":"token-of-john",` +
		`"user":{"userId":"amzn1.ask.account.AAA"},"application":{"applicationId":"amzn1.ask.skill.1"}}},` +
		`"request":{"type":"` + requestType + `","requestId":"amzn1.echo-api.request.1","locale":"en-US"}}`
}

// post sends an envelope to the skill and returns the status and body.
func post(t *testing.T, body string) (int, string) {
	t.Helper()
	noWait := client.WithSleep(func(ctx context.Context, d time.Duration) error { return ctx.Err() })
	h := newHandler(slog.New(slog.NewTextHandler(t.Output(), nil)), noWait)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

const (
	sorryLater   = `{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"Hello! I can't look up your name right now. Please try again in a moment."},"shouldEndSession":true}}`
	sorry        = `{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"Hello! Sorry, something went wrong."},"shouldEndSession":true}}`
	noFirstName  = `{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"Hello! Add your first name to your Amazon account and I'll greet you by name."},"shouldEndSession":true}}`
	askForAccess = `{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"Hello! To greet you by name, I need permission to use your first name. I've sent a card to your Alexa app where you can grant it."},` +
		`"card":{"type":"AskForPermissionsConsent","permissions":["alexa::profile:given_name:read"]},"shouldEndSession":true}}`
)

func TestLaunchRequest(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"documented mode", 200, `{"name":"John"}`,
			`{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"Hello, John!"},"shouldEndSession":true}}`},
		{"alexa mode", 200, `"John"`,
			`{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"Hello, John!"},"shouldEndSession":true}}`},
		{"not granted", 403, `{"code":"ACCESS_DENIED","message":"Access denied with reason: ACCESS_NOT_REQUESTED"}`, askForAccess},
		{"unknown 403 reason", 403, `{"code":"ACCESS_DENIED","message":"Access denied"}`, askForAccess},
		{"not declared", 403, `{"code":"ACCESS_DENIED","message":"Access denied with reason: FORBIDDEN"}`,
			`{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"Hello! Sorry, I can't greet you by name yet."},"shouldEndSession":true}}`},
		{"no value, documented mode", 404, `{"code":"NOT_FOUND","message":"no given name"}`, noFirstName},
		{"no value, alexa mode", 204, ``, noFirstName},
		{"throttled", 429, `{"code":"TOO_MANY_REQUESTS","message":"slow down"}`, sorryLater},
		{"unavailable", 503, `{"code":"SERVICE_UNAVAILABLE","message":"try again later"}`, sorryLater},
		{"server error", 500, `{"code":"UNKNOWN_ERROR","message":"oops"}`, sorryLater},
		{"expired token", 401, `{"code":"INVALID_TOKEN","message":"the access token has expired"}`, sorry},
		{"unknown setting", 404, `{"code":"INVALID_KEY","message":"unknown setting"}`, sorry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := api(t, tt.status, tt.body)
			status, got := post(t, envelope("LaunchRequest", srv.URL))
			if status != http.StatusOK || got != tt.want {
				t.Errorf("got %d %s\nwant 200 %s", status, got, tt.want)
			}
		})
	}
}

func TestOtherRequests(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"session ended", envelope("SessionEndedRequest", "http://unused.invalid"), 200, `{"version":"1.0","response":{}}`},
		{"intent", envelope("IntentRequest", "http://unused.invalid"), 200,
			`{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"I can only say hello. Open the skill to hear it."},"shouldEndSession":true}}`},
		{"no token", strings.Replace(envelope("LaunchRequest", "http://unused.invalid"), "token-of-john", "", 1), 200, sorry},
		{"not JSON", `hello`, 400, "not an Alexa request envelope"},
		{"no request type", `{"version":"1.0"}`, 400, "not an Alexa request envelope"},
		{"too large", `{"pad":"` + strings.Repeat("x", maxEnvelope) + `"}`, 400, "cannot read the request body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := post(t, tt.body)
			if status != tt.status || got != tt.want {
				t.Errorf("got %d %s\nwant %d %s", status, got, tt.status, tt.want)
			}
		})
	}

	rec := httptest.NewRecorder()
	newHandler(slog.New(slog.DiscardHandler)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET / = %d, want 405", rec.Code)
	}
}

func TestRun(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"-nope"}, func(string) string { return "" }, &stderr); err == nil {
		t.Error("run accepted an unknown flag")
	}

	ctx, cancel := context.WithCancel(t.Context())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(string) string { return "" }, logs) }()

	var addr string
	for range 500 {
		if _, after, ok := strings.Cut(logs.String(), "addr="); ok {
			addr = strings.TrimSpace(after)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		cancel()
		t.Fatalf("run did not say where it listens: %s", logs.String())
	}
	resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(envelope("SessionEndedRequest", "http://unused.invalid")))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.TrimSpace(string(body)); resp.StatusCode != 200 || got != `{"version":"1.0","response":{}}` {
		t.Errorf("POST / = %d %s", resp.StatusCode, got)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel = %v, want nil", err)
	}
}

// syncBuffer is a bytes.Buffer that run's logger and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
