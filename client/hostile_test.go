package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/profileapi/profileapi/client"
)

// The endpoint comes from the request envelope, so a client must not trust
// what answers there: these are the ways such a server, or a skill's own
// mistake, could leak the token or flood the skill's logs.

const secretToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJza2lsbCJ9.SECRET-SIGNATURE"

// A redirect is not followed, not even with a client whose CheckRedirect
// would: net/http resends Authorization to the same host name, plain http
// included.
func TestRedirectNotFollowed(t *testing.T) {
	var leaked atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		_, _ = io.WriteString(w, `"jsmith@example.com"`)
	}))
	t.Cleanup(plain.Close)
	redirect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)

	hc := redirect.Client()
	follow := func(*http.Request, []*http.Request) error { return nil }
	hc.CheckRedirect = follow
	_, err := client.New(redirect.URL, secretToken, client.WithHTTPClient(hc)).Email(t.Context())
	if e, ok := errors.AsType[*client.APIError](err); !ok || e.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("err = %v, want an *APIError of status 307", err)
	}
	checkSentinels(t, err)
	if leaked.Load() != 0 {
		t.Errorf("the token reached the server redirected to, over plain http")
	}
	if hc.CheckRedirect == nil || hc.CheckRedirect(nil, nil) != nil {
		t.Error("WithHTTPClient changed the caller's http.Client")
	}

	// The default client refuses as well.
	insecure := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(insecure.Close)
	_, err = client.New(insecure.URL, secretToken).Email(t.Context())
	if e, ok := errors.AsType[*client.APIError](err); !ok || e.StatusCode != http.StatusFound || leaked.Load() != 0 {
		t.Errorf("err = %v (token leaked %d times), want an *APIError of status 302 and no request to the target", err, leaked.Load())
	}
}

// What a server says goes into the error and its fields with nothing that
// could forge a log line or drive a terminal, and bounded.
func TestAPIErrorLoggable(t *testing.T) {
	forged := "denied\nlevel=INFO msg=\"all good\"\r\x1b[2J\u202e"
	long := strings.Repeat("é", 20<<10) // 40 KiB, under the body's cap: cut at a rune
	body, err := json.Marshal(map[string]string{"code": "ACCESS_DENIED" + strings.Repeat("X", 100), "message": forged + long})
	if err != nil {
		t.Fatal(err)
	}
	srv := replay(t, reply{403, map[string]string{"X-Request-Id": strings.Repeat("R", 100<<10)}, string(body)})
	_, err = client.New(srv.URL, "t").Email(t.Context())
	e, ok := errors.AsType[*client.APIError](err)
	if !ok {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	for name, s := range map[string]string{"Error()": err.Error(), "Code": e.Code, "Message": e.Message} {
		if strings.ContainsAny(s, "\n\r\x1b\u202e") || !utf8.ValidString(s) {
			t.Errorf("%s = %q: control characters or invalid UTF-8 left in", name, s)
		}
	}
	if len(e.Code) > 64 || !strings.HasPrefix(e.Code, "ACCESS_DENIEDXXX") || !strings.HasSuffix(e.Code, "…") {
		t.Errorf("Code = %q (%d bytes), want its start, cut to 64 bytes with …", e.Code, len(e.Code))
	}
	if len(e.Message) > 512 || !strings.HasPrefix(e.Message, "denied\uFFFDlevel=INFO") || !strings.HasSuffix(e.Message, "é…") {
		t.Errorf("Message = %q (%d bytes), want its start, control characters replaced, cut at a rune to 512 bytes with …", e.Message, len(e.Message))
	}
	if e.RequestID != "" || len(err.Error()) > 1024 {
		t.Errorf("RequestID = %d bytes, Error() = %d bytes: a 100 KiB X-Request-Id is no request id", len(e.RequestID), len(err.Error()))
	}
	for _, id := range []string{"id with spaces", "id/with/slashes", strings.Repeat("a", 65)} {
		srv := replay(t, reply{503, map[string]string{"X-Request-Id": id}, ""})
		_, err := client.New(srv.URL, "t", client.WithMaxAttempts(1)).Email(t.Context())
		if e, _ := errors.AsType[*client.APIError](err); e == nil || e.RequestID != "" {
			t.Errorf("X-Request-Id %q: err = %v, want an *APIError without a RequestID", id, err)
		}
	}
}

// A firewall's or proxy's 403 is access denied, but not the skill's
// undeclared permission: only the live service's wording says that.
func TestForbiddenOnlyInTheServicesWords(t *testing.T) {
	for _, body := range []string{
		`{"code":"FORBIDDEN","message":"Request blocked by WAF"}`,
		`{"code":"ACCESS_DENIED","message":"FORBIDDEN by policy"}`,
		`{"code":"ACCESS_DENIED","message":"Access denied with reason: FORBIDDEN_BY_POLICY"}`,
		`{"code":"ACCESS_NOT_REQUESTED","message":"blocked"}`,
	} {
		srv := replay(t, reply{403, nil, body})
		_, err := client.New(srv.URL, "t").Email(t.Context())
		checkSentinels(t, err, client.ErrAccessDenied)
	}
}

// An endpoint the client refuses is not repeated in the error: one given
// in the token's place, or with a password in it, would be logged.
func TestEndpointErrorsDoNotRepeatIt(t *testing.T) {
	for _, endpoint := range []string{
		secretToken, // New(token, endpoint): the arguments swapped
		"ftp://user:SECRET-PASSWORD@api.example.com",
		"https://user:SECRET-PASSWORD@api example.com/",
		"https://user:SECRET-PASSWORD@:8443/",
	} {
		_, err := client.New(endpoint, client.EndpointNA).Email(t.Context())
		if err == nil || !strings.Contains(err.Error(), "endpoint") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("New(%q): err = %v, want an error about the endpoint that does not repeat it", endpoint, err)
		}
	}
}

// A URL with a port but no host name is no endpoint: net/http would dial
// this machine.
func TestEndpointWithoutHostName(t *testing.T) {
	srv := replay(t, reply{200, nil, `"jsmith@example.com"`})
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	endpoint := "http://:" + port
	if _, err := client.New(endpoint, "t").Email(t.Context()); err == nil || !strings.Contains(err.Error(), "no host name") {
		t.Errorf("New(%q): err = %v, want an error saying it has no host name", endpoint, err)
	}
	envelope := `{"context":{"System":{"apiEndpoint":"` + endpoint + `","apiAccessToken":"t"}}}`
	if _, err := client.FromRequest([]byte(envelope)); err == nil {
		t.Errorf("FromRequest accepted the endpoint %q", endpoint)
	}
	if srv.count() != 0 {
		t.Errorf("%d requests reached this machine's server", srv.count())
	}
}

// An endpoint that cannot work (no such host, https on a plain http port)
// fails at once: it is no outage, and no retry cures it.
func TestMisconfiguredEndpoint(t *testing.T) {
	srv := replay(t, reply{200, nil, `"jsmith@example.com"`})
	rec := &recorder{}
	_, err := client.New(strings.Replace(srv.URL, "http://", "https://", 1), "t", rec.options()...).Email(t.Context())
	checkSentinels(t, err)
	if err == nil || !strings.Contains(err.Error(), "check the endpoint") || len(rec.sleeps) != 0 {
		t.Errorf("https on an http port: err = %v after waits %v, want one attempt and an error about the endpoint", err, rec.sleeps)
	}

	// A resolver's "no such host", which a test cannot count on getting
	// from the machine's own.
	noSuchHost := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true}}
	}}}
	rec = &recorder{}
	_, err = client.New("https://api.example.invalid", "t", append(rec.options(), client.WithHTTPClient(noSuchHost))...).Email(t.Context())
	checkSentinels(t, err)
	if err == nil || !strings.Contains(err.Error(), "no such host") || len(rec.sleeps) != 0 {
		t.Errorf("no such host: err = %v after waits %v, want one attempt", err, rec.sleeps)
	}

	// A lookup that timed out is an outage like any other.
	timedOut := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "i/o timeout", Name: "api.example.com", IsTimeout: true}}
	}}}
	rec = &recorder{}
	_, err = client.New("https://api.example.com", "t", append(rec.options(), client.WithHTTPClient(timedOut))...).Email(t.Context())
	checkSentinels(t, err, client.ErrUnavailable)
	if len(rec.sleeps) != client.DefaultMaxAttempts-1 {
		t.Errorf("lookup timeout: waits %v, want %d retries", rec.sleeps, client.DefaultMaxAttempts-1)
	}
}

// A body cut short is an outage, retried; its error names the status by
// its code, not by the server's own words for it.
func TestCutBodyErrorHoldsNoServerText(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(conn, "HTTP/1.1 503 Forbidden\x1b[2J\u202eforged level=INFO msg=ok"+strings.Repeat("A", 4000)+"\r\nContent-Length: 100\r\n\r\n{\"code\"")
			conn.Close()
		}
	}()
	_, err = client.New("http://"+ln.Addr().String(), "t", client.WithMaxAttempts(1)).Email(t.Context())
	checkSentinels(t, err, client.ErrUnavailable)
	if s := err.Error(); strings.ContainsAny(s, "\x1b\u202e") || strings.Contains(s, "forged") || len(s) > 1024 {
		t.Errorf("err = %q: the server's status text in it", s)
	}
}
