package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/profileapi/profileapi/client"
)

func (in *instance) mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := in.cli(t, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out
}

// TestBackoffThroughInjectedFaults is the README's back-off walk-through:
// inject three 503s, watch the Go client retry through them, then read the
// journal, evaluate, and scrape the metrics.
func TestBackoffThroughInjectedFaults(t *testing.T) {
	in := start(t, t.TempDir(), "--demo", "--wire", "alexa")
	tok := curlLine.FindStringSubmatch(in.stdout.String())[1]

	in.mustCLI(t, "faults", "add", "--status", "503", "--count", "3", "--retry-after", "2", "--operation", "Profile.email")
	var waits []time.Duration
	c := client.New(in.publicURL, tok,
		client.WithMaxAttempts(5),
		client.WithSleep(func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }))
	email, err := c.Email(context.Background())
	if err != nil || email != "jsmith@example.com" {
		t.Fatalf("after three 503s: %q %v", email, err)
	}
	if len(waits) != 3 {
		t.Fatalf("client waited %v, want three waits", waits)
	}
	for _, w := range waits {
		if w != 2*time.Second {
			t.Errorf("wait %s, want the server's Retry-After of 2s", w)
		}
	}
	// The fault is spent: the next call goes straight through.
	if _, err := c.Email(context.Background()); err != nil || len(waits) != 3 {
		t.Fatalf("after the fault was spent: %v, waits %v", err, waits)
	}

	var journal struct {
		Entries []struct {
			Operation, Code, SkillID, CustomerID, Region string
			Status                                       int
		}
	}
	if err := json.Unmarshal([]byte(in.mustCLI(t, "journal", "--skill", "amzn1.ask.skill.demo")), &journal); err != nil {
		t.Fatal(err)
	}
	var statuses []int
	for _, e := range journal.Entries {
		if e.Operation != "Profile.email" || e.CustomerID != "amzn1.ask.account.DEMO" || e.Region != "NA" {
			t.Fatalf("journal entry %+v", e)
		}
		statuses = append(statuses, e.Status)
	}
	if want := []int{200, 200, 503, 503, 503}; !equalInts(statuses, want) {
		t.Fatalf("journal statuses (newest first) %v, want %v", statuses, want)
	}

	// A throttled skill: 429 with Retry-After, and the client reports ErrThrottled.
	in.mustCLI(t, "faults", "add", "--status", "429", "--retry-after", "1")
	_, err = client.New(in.publicURL, tok, client.WithMaxAttempts(1)).Name(context.Background())
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrThrottled) || !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Second || apiErr.Code != "TOO_MANY_REQUESTS" {
		t.Fatalf("429: %v", err)
	}
	in.mustCLI(t, "faults", "clear")

	// Revoke one scope: evaluate says why the call now gets 403.
	in.mustCLI(t, "consents", "grant", "amzn1.ask.account.DEMO", "amzn1.ask.skill.demo", "--scope", "alexa::profile:name:read")
	var ev struct {
		Operations []struct {
			Operation string
			Status    int
			Granted   bool
			Why       string
		}
	}
	if err := json.Unmarshal([]byte(in.mustCLI(t, "evaluate", "amzn1.ask.account.DEMO", "amzn1.ask.skill.demo")), &ev); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, o := range ev.Operations {
		got[o.Operation] = o.Status
	}
	if got["Profile.name"] != 200 || got["Profile.email"] != 403 || got["Profile.mobileNumber"] != 403 {
		t.Fatalf("evaluate: %+v", ev)
	}
	if _, err := c.Email(context.Background()); !errors.Is(err, client.ErrPermissionNotGranted) {
		t.Fatalf("the real call disagrees with evaluate: %v", err)
	}

	// Metrics: parse the exposition and find the calls above.
	resp, err := http.Get(in.adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	count := func(name string, labels map[string]string) float64 {
		var sum float64
		for _, m := range families[name].GetMetric() {
			match := true
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					match = false
				}
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
		return sum
	}
	if n := count("profileapi_requests_total", map[string]string{"operation": "Profile.email", "status": "503", "region": "NA"}); n != 3 {
		t.Errorf("requests_total{Profile.email,503,NA} = %v, want 3", n)
	}
	if n := count("profileapi_consent_denials_total", map[string]string{"reason": "ACCESS_NOT_REQUESTED"}); n != 1 {
		t.Errorf("consent_denials_total{ACCESS_NOT_REQUESTED} = %v, want 1", n)
	}
	if families["profileapi_request_duration_seconds"] == nil {
		t.Error("no latency histogram")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRateLimitFromFlagAndAdmin(t *testing.T) {
	in := start(t, t.TempDir(), "--demo", "--skill-rate", "2", "--skill-burst", "3")
	tok := curlLine.FindStringSubmatch(in.stdout.String())[1]
	c := client.New(in.publicURL, tok, client.WithMaxAttempts(1))
	var ok, throttled int
	for range 10 {
		_, err := c.GivenName(context.Background())
		switch {
		case err == nil:
			ok++
		case errors.Is(err, client.ErrThrottled):
			throttled++
		default:
			t.Fatal(err)
		}
	}
	// A burst of 3, then at most a request or two more as time passes.
	if ok < 3 || ok > 5 || throttled != 10-ok {
		t.Fatalf("%d ok, %d throttled", ok, throttled)
	}
	in.mustCLI(t, "rate-limit", "set", "amzn1.ask.skill.demo", "--rate", "0")
	if _, err := c.GivenName(context.Background()); err != nil {
		t.Fatalf("after lifting the limit: %v", err)
	}

	// Without --burst, one second's worth, rounded up as --skill-burst is:
	// with --redis, nodes count together only under the same limit.
	out := in.mustCLI(t, "rate-limit", "set", "amzn1.ask.skill.demo", "--rate", "2.0004")
	if !strings.Contains(out, `"burst": 3`) {
		t.Errorf("rate-limit set --rate 2.0004: %s, want a burst of 3", out)
	}
	for _, rate := range []string{"NaN", "Inf", "-Inf"} {
		if out, err := in.cli(t, "rate-limit", "set", "amzn1.ask.skill.demo", "--rate", rate); err == nil || !strings.Contains(err.Error(), "--rate") {
			t.Errorf("rate-limit set --rate %s: %q, %v; want an error naming --rate", rate, out, err)
		}
	}
}

func TestFixtures(t *testing.T) {
	path, err := filepath.Abs("../../examples/fixtures/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenLine := regexp.MustCompile(`(?m)^token (\S+) (\S+) (\S+) (\S+)$`)
	for run := range 2 { // idempotent: the second start finds the same world
		in := start(t, dir, "--fixtures", path, "--wire", "alexa")
		lines := tokenLine.FindAllStringSubmatch(in.stdout.String(), -1)
		if len(lines) != 5 {
			t.Fatalf("run %d: %d token lines in %s", run, len(lines), in.stdout.String())
		}
		want := map[string]string{ // customer skill → given name or the error
			"amzn1.ask.account.PRIYA amzn1.ask.skill.pizza":     "Priya",
			"amzn1.ask.account.ARJUN amzn1.ask.skill.pizza":     "Arjun",
			"amzn1.ask.account.JOHN amzn1.ask.skill.newsletter": "declared? no",
			"amzn1.ask.account.ANNA amzn1.ask.skill.newsletter": "declared? no",
			"amzn1.ask.account.JOHN amzn1.ask.skill.pizza":      "John",
		}
		for _, l := range lines {
			c := client.New(l[3], l[4])
			name, err := c.GivenName(context.Background())
			w := want[l[1]+" "+l[2]]
			if w == "declared? no" {
				if !errors.Is(err, client.ErrPermissionNotDeclared) {
					t.Errorf("%s %s: %q %v, want FORBIDDEN", l[1], l[2], name, err)
				}
			} else if err != nil || name != w {
				t.Errorf("%s %s: %q %v, want %q", l[1], l[2], name, err, w)
			}
		}
		if !strings.HasSuffix(lines[2][3], "/fe") {
			t.Errorf("PRIYA (FE) got endpoint %s", lines[2][3])
		}
		// The phone-number variants are kept as entered.
		ph, err := client.New(lines[3][3], lines[3][4]).MobileNumber(context.Background())
		if err != nil || ph.CountryCode != "0091" || ph.PhoneNumber != "7799827710" {
			t.Errorf("ARJUN's mobile: %+v %v", ph, err)
		}
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("customers:\n  - id: amzn1.ask.account.X\n    region: NA\n    profil: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--fixtures", bad}, func(string) string { return "" }, strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "line 4: unknown field in an entry of customers") {
		t.Fatalf("a typo in the fixtures: %v, want its line named", err)
	}
}

func TestJournalNegativeLimit(t *testing.T) {
	in := start(t, t.TempDir())
	_, err := in.cli(t, "journal", "--limit", "-1")
	if err == nil || !strings.Contains(err.Error(), "--limit -1") {
		t.Fatalf("journal --limit -1: %v, want an error naming --limit", err)
	}
	if _, err := in.cli(t, "journal", "--limit", "5"); err != nil {
		t.Fatalf("journal --limit 5: %v", err)
	}
}

// faults add --latency takes what the admin API keeps, whole milliseconds,
// and says so rather than drop a part of one or overflow.
func TestParseMillis(t *testing.T) {
	for s, want := range map[string]int64{"250": 250, "0": 0, "2s": 2000, "1.5s": 1500, "250ms": 250} {
		if got, err := parseMillis(s); err != nil || got != want {
			t.Errorf("parseMillis(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"288230376151712744", "99999999999999999999", "900us", "0.5ms", "1.5ms", "ten", ""} {
		if got, err := parseMillis(s); err == nil {
			t.Errorf("parseMillis(%q) = %d, want an error", s, got)
		}
	}
}

// The data directory follows XDG_DATA_HOME when it is absolute; a relative
// one is ignored, as the convention says, or the directory would move with
// the working directory.
func TestDefaultDataDir(t *testing.T) {
	for _, tc := range []struct{ xdg, home, want string }{
		{"/srv/data", "/home/ann", "/srv/data/profileapi"},
		{"data", "/home/ann", "/home/ann/.local/share/profileapi"},
		{"", "/home/ann", "/home/ann/.local/share/profileapi"},
		{"", "", "profileapi-data"},
	} {
		env := map[string]string{"XDG_DATA_HOME": tc.xdg, "HOME": tc.home}
		if got := defaultDataDir(func(k string) string { return env[k] }); got != tc.want {
			t.Errorf("XDG_DATA_HOME %q, HOME %q: %s, want %s", tc.xdg, tc.home, got, tc.want)
		}
	}
}

// A scoping flag given empty, as a script's unset variable gives it, is
// refused: left out, it would mean every skill or customer.
func TestToolsRefuseEmptyScopes(t *testing.T) {
	in := start(t, t.TempDir())
	for _, args := range [][]string{
		{"faults", "add", "--status", "503", "--skill", ""},
		{"faults", "add", "--status", "503", "--customer", ""},
		{"faults", "add", "--status", "503", "--operation", ""},
		{"journal", "--skill", ""},
		{"journal", "--customer", ""},
	} {
		if _, err := in.cli(t, args...); err == nil || !strings.Contains(err.Error(), "is empty (an unset variable?)") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if out, err := in.cli(t, "faults", "list"); err != nil || strings.Contains(out, `"id"`) {
		t.Errorf("a fault was made: %s %v", out, err)
	}
	// A latency over the cap is told in the flag's terms, not the API's.
	if _, err := in.cli(t, "faults", "add", "--latency", "30s"); err == nil || err.Error() != "--latency 30s: want from 0 to 25s" {
		t.Errorf("faults add --latency 30s: %v", err)
	}
}
