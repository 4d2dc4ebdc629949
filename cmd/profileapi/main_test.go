package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
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

type instance struct {
	stdout, stderr *syncBuffer
	publicURL      string
	adminURL       string
	dataDir        string
	stop           func() error
}

var (
	naLine    = regexp.MustCompile(`NA apiEndpoint\s+(\S+)`)
	adminLine = regexp.MustCompile(`admin API\s+(\S+)`)
)

// start runs `profileapi serve` in process on free loopback ports, as a
// user would from the shell, and waits until both listeners answer.
func start(t *testing.T, dataDir string, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{stdout: &syncBuffer{}, stderr: &syncBuffer{}, dataDir: dataDir}
	done := make(chan error, 1)
	argv := append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", dataDir}, args...)
	go func() {
		done <- run(ctx, argv, func(string) string { return "" }, strings.NewReader(""), in.stdout, in.stderr)
	}()
	var once sync.Once
	var runErr error
	in.stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { _ = in.stop() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out := in.stdout.String()
		if m, a := naLine.FindStringSubmatch(out), adminLine.FindStringSubmatch(out); m != nil && a != nil {
			in.publicURL, in.adminURL = m[1], a[1]
			// Only waiting for the port here; the TLS tests check trust themselves.
			poll := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			if resp, err := poll.Get(in.adminURL + "/healthz"); err == nil {
				resp.Body.Close()
				return in
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\nstderr: %s", err, in.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start; stdout: %s\nstderr: %s", in.stdout.String(), in.stderr.String())
	return nil
}

// cli runs one control-plane command against the instance.
func (in *instance) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	argv := append(args, "--admin-url", in.adminURL, "--data-dir", in.dataDir)
	err := run(context.Background(), argv, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), err
}

var curlLine = regexp.MustCompile(`curl -i (?:--cacert \S+ )?-H 'Authorization: Bearer ([^']+)' (\S+)`)

func TestDemoCurlLinesWork(t *testing.T) {
	in := start(t, t.TempDir(), "--demo")
	lines := curlLine.FindAllStringSubmatch(in.stdout.String(), -1)
	if len(lines) != 4 {
		t.Fatalf("want 4 curl lines, got %d in:\n%s", len(lines), in.stdout.String())
	}
	want := map[string]string{
		"Profile.name":         `{"name":"John Smith"}`,
		"Profile.givenName":    `{"name":"John"}`,
		"Profile.email":        `{"email":"jsmith@example.com"}`,
		"Profile.mobileNumber": `{"countryCode":"+91","phoneNumber":"7799-82-77-11"}`,
	}
	for _, l := range lines {
		req, _ := http.NewRequest(http.MethodGet, l[2], nil)
		req.Header.Set("Authorization", "Bearer "+l[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		field := l[2][strings.LastIndex(l[2], "/")+1:]
		if resp.StatusCode != 200 || string(body) != want[field] {
			t.Errorf("%s: got %d %s, want 200 %s", field, resp.StatusCode, body, want[field])
		}
	}
	// The revoke line works as printed, against this server and data dir.
	revoke := regexp.MustCompile("`profileapi ([^`]*consents revoke[^`]*)`").FindStringSubmatch(in.stdout.String())
	if revoke == nil {
		t.Fatalf("no revoke line in:\n%s", in.stdout.String())
	}
	if _, err := cliWith(nil, strings.Fields(revoke[1])...); err != nil {
		t.Fatalf("profileapi %s: %v", revoke[1], err)
	}
	req, _ := http.NewRequest(http.MethodGet, lines[0][2], nil)
	req.Header.Set("Authorization", "Bearer "+lines[0][1])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("after the revoke line: %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}
	if err := in.stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
}

// An endpoint at a host name the server does not listen at (the live
// one, behind a TLS proxy; a load balancer's) gets curl lines that reach
// this server anyway, keeping the Host the server tells regions by, and
// never send the token to that host.
func TestDemoCurlLinesReachThisServer(t *testing.T) {
	line := regexp.MustCompile(`curl -i (-H 'Host: ([^']+)' |--connect-to ([^' ]+) )-H 'Authorization: Bearer ([^']+)' (\S+)`)
	for _, c := range []struct{ endpoint, option string }{
		{"https://api.amazonalexa.com", "-H 'Host: api.amazonalexa.com'"},
		{"http://profiles.example:8000/na", "--connect-to profiles.example:8000:127.0.0.1:"},
	} {
		in := start(t, t.TempDir(), "--demo", "--endpoint-na", c.endpoint)
		out := in.stdout.String()
		m := line.FindStringSubmatch(out)
		if m == nil || !strings.HasPrefix(m[1], c.option) {
			t.Fatalf("--endpoint-na %s: no curl line with %s in:\n%s", c.endpoint, c.option, out)
		}
		req, _ := http.NewRequest(http.MethodGet, m[5], nil)
		req.Header.Set("Authorization", "Bearer "+m[4])
		hc := &http.Client{}
		if m[2] != "" {
			req.Host = m[2]
		} else { // --connect-to HOST:PORT:HOST2:PORT2, as curl reads it
			parts := strings.SplitN(m[3], ":", 3)
			if req.URL.Host != parts[0]+":"+parts[1] {
				t.Fatalf("--connect-to %s for %s", m[3], m[5])
			}
			hc.Transport = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, parts[2])
			}}
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != `{"name":"John Smith"}` {
			t.Errorf("--endpoint-na %s: %s answered %d %s", c.endpoint, m[0][:40], resp.StatusCode, body)
		}
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDemoIsIdempotentAndKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	first := start(t, dir, "--demo")
	tok := curlLine.FindStringSubmatch(first.stdout.String())[1]
	// The demo customer is changed, then the server restarted with --demo.
	if _, err := first.cli(t, "customers", "update", "amzn1.ask.account.DEMO", "--name", ""); err != nil {
		t.Fatal(err)
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	second := start(t, dir, "--demo")
	// The first run's token still verifies (the signing key persisted), and
	// the demo profile is whole again. Ports differ, so the token is for
	// another endpoint: the new server must refuse it as such, not as forged.
	req, _ := http.NewRequest(http.MethodGet, second.publicURL+"/v2/accounts/~current/settings/Profile.name", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), "another endpoint") {
		t.Fatalf("old token at new port: %d %s", resp.StatusCode, body)
	}
	out, err := second.cli(t, "customers", "get", "amzn1.ask.account.DEMO")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Profile   struct{ Name string }
		UpdatedAt time.Time
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Profile.Name != "John Smith" {
		t.Fatalf("demo profile not restored: %v %s", err, out)
	}
	consent := func(in *instance) string {
		out, err := in.cli(t, "consents", "get", "amzn1.ask.account.DEMO", "amzn1.ask.skill.demo")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	restoredAt, consentBefore := c.UpdatedAt, consent(second)

	// Restarted once more with nothing changed, the demo writes nothing:
	// the customer and the consent keep when they last changed.
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	third := start(t, dir, "--demo")
	out, err = third.cli(t, "customers", "get", "amzn1.ask.account.DEMO")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || !c.UpdatedAt.Equal(restoredAt) {
		t.Errorf("the unchanged demo customer was written again: updatedAt %v, was %v (%v)", c.UpdatedAt, restoredAt, err)
	}
	if after := consent(third); after != consentBefore {
		t.Errorf("the unchanged demo consent was written again:\n%s\nwas\n%s", after, consentBefore)
	}
}

func TestControlPlaneCLI(t *testing.T) {
	in := start(t, t.TempDir(), "--wire", "alexa")
	mustCLI := func(args ...string) string {
		t.Helper()
		out, err := in.cli(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	mustCLI("skills", "create", "--id", "amzn1.ask.skill.cli", "--name", "CLI skill", "--permission", "alexa::profile:email:read", "--permission", "alexa::profile:mobile_number:read")
	mustCLI("customers", "create", "--id", "amzn1.ask.account.CLI", "--region", "EU", "--email", "cli@example.com", "--country-code", "+44", "--phone-number", "07911 123456")
	mustCLI("consents", "grant", "amzn1.ask.account.CLI", "amzn1.ask.skill.cli", "--scope", "alexa::profile:email:read")
	var tok struct{ APIAccessToken, APIEndpoint string }
	if err := json.Unmarshal([]byte(mustCLI("tokens", "mint", "amzn1.ask.account.CLI", "amzn1.ask.skill.cli")), &tok); err != nil {
		t.Fatal(err)
	}
	if tok.APIEndpoint != in.publicURL+"/eu" {
		t.Fatalf("EU customer's token names endpoint %s", tok.APIEndpoint)
	}
	get := func(field string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, tok.APIEndpoint+"/v2/accounts/~current/settings/"+field, nil)
		req.Header.Set("Authorization", "Bearer "+tok.APIAccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("Profile.email"); code != 200 || body != `"cli@example.com"` {
		t.Fatalf("email: %d %s", code, body)
	}
	if code, body := get("Profile.mobileNumber"); code != 403 || !strings.Contains(body, "ACCESS_NOT_REQUESTED") {
		t.Fatalf("mobile before grant: %d %s", code, body)
	}
	mustCLI("consents", "revoke", "amzn1.ask.account.CLI", "amzn1.ask.skill.cli")
	if code, _ := get("Profile.email"); code != 403 {
		t.Fatalf("email after revoke: %d", code)
	}
	// Errors of the admin API reach the user with their code and message.
	_, err := in.cli(t, "consents", "grant", "amzn1.ask.account.CLI", "amzn1.ask.skill.cli", "--scope", "alexa::profile:name:read")
	if err == nil || !strings.Contains(err.Error(), "400 INVALID_REQUEST") || !strings.Contains(err.Error(), "does not declare") {
		t.Fatalf("granting an undeclared scope: %v", err)
	}
	// An update of nothing is refused before a call, rather than a PATCH
	// that changes only updatedAt.
	if _, err := in.cli(t, "customers", "update", "amzn1.ask.account.CLI"); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Fatalf("an update with no flag: %v, want nothing to change", err)
	}
	// A grant of nothing would revoke: it is refused before a call.
	if _, err := in.cli(t, "consents", "grant", "amzn1.ask.account.CLI", "amzn1.ask.skill.cli"); err == nil || !strings.Contains(err.Error(), `"scope"`) {
		t.Fatalf("granting no scope: %v, want the --scope flag required", err)
	}
	envelope := mustCLI("requests", "launch", "amzn1.ask.account.CLI", "amzn1.ask.skill.cli")
	var env struct {
		Context struct {
			System struct {
				APIEndpoint, APIAccessToken string
				User                        struct{ UserID string }
			}
		}
		Request struct{ Type, Locale string }
	}
	if err := json.Unmarshal([]byte(envelope), &env); err != nil {
		t.Fatal(err)
	}
	s := env.Context.System
	if s.APIEndpoint != tok.APIEndpoint || s.APIAccessToken == "" || s.User.UserID != "amzn1.ask.account.CLI" || env.Request.Type != "LaunchRequest" || env.Request.Locale != "en-GB" {
		t.Fatalf("envelope: %s", envelope)
	}
}

func TestAdminKeyIsRequiredAndKept(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	resp, err := http.Get(in.adminURL + "/admin/v1/skills")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("no key: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, in.adminURL+"/admin/v1/skills", nil)
	req.Header.Set("Authorization", "Bearer wrong-key-wrong-key")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("wrong key: %d", resp.StatusCode)
	}
	key, err := in.cli(t, "admin-key")
	if err != nil || len(strings.TrimSpace(key)) < 32 {
		t.Fatalf("admin-key: %q %v", key, err)
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(key))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("right key: %d", resp.StatusCode)
	}
	// The public listener does not serve the admin API.
	resp, err = http.Get(in.publicURL + "/admin/v1/skills")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("admin path on the public listener: %d", resp.StatusCode)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--wire", "soap"},
		{"serve", "--admin-key", "short"},
		{"serve", "--log-level", "loud"},
		{"serve", "--endpoint-eu", "ftp://example.com"},
		{"serve", "--addr", "not-an-address"},
	} {
		err := run(context.Background(), append(args, "--data-dir", t.TempDir(), "--admin-addr", "127.0.0.1:0"), func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}
