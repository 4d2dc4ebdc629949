package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

// The generated customers are valid, in id order, and all different.
func TestLoadtestCustomers(t *testing.T) {
	g := &generator{seed: 7, n: 3000}
	seen := map[string]bool{}
	last := ""
	for _, i := range g.inOrder() {
		var line struct {
			ID       string                         `json:"id"`
			Region   profileapi.Region              `json:"region"`
			Profile  profileapi.Profile             `json:"profile"`
			Consents map[string]profileapi.ScopeSet `json:"consents"`
		}
		b := g.customerLine(nil, int(i))
		if err := json.Unmarshal(b, &line); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		c := profileapi.Customer{ID: line.ID, Region: line.Region, Profile: line.Profile}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if seen[c.ID] || c.ID <= last || len(c.ID) != len("amzn1.ask.account.")+64 || line.Consents[loadtestSkill] != profileapi.AllScopes {
			t.Fatalf("customer %d: %s", i, b)
		}
		seen[c.ID], last = true, c.ID
	}
}

func TestHistogram(t *testing.T) {
	h := &histogram{}
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 5 * time.Millisecond, 0.99: 9900 * time.Microsecond, 0.999: 9990 * time.Microsecond, 1: 10 * time.Millisecond} {
		got := h.quantile(q)
		if d := got - want; d < -want/100 || d > want/100 {
			t.Errorf("quantile %v = %s, want %s within 1%%", q, got, want)
		}
	}
	for _, ns := range []uint64{0, 1, 127, 128, 255, 256, 1000, 123456789} {
		if b := bucketOf(ns); valueOf(b) < ns || (b > 0 && valueOf(b-1) >= ns) {
			t.Errorf("%d ns is in bucket %d, which ends at %d", ns, b, valueOf(b))
		}
	}
}

func TestReadResponse(t *testing.T) {
	rd := bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 5\r\n\r\nhello" +
		"HTTP/1.1 204 No Content\r\nX-Request-Id: a\r\n\r\n" +
		"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"))
	for _, want := range []struct {
		status    int
		keepAlive bool
	}{{200, true}, {204, true}, {401, false}} {
		status, keepAlive, err := readResponse(rd)
		if err != nil || status != want.status || keepAlive != want.keepAlive {
			t.Fatalf("got %d %v %v, want %+v", status, keepAlive, err, want)
		}
	}
}

// The load test end to end, small: the server and the ceiling run as child
// processes (this test binary acting as profileapi).
func TestLoadtest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Setenv("PROFILEAPI_TEST_AS_MAIN", "1")
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.txt")
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"loadtest", "--customers", "300", "--connections", "4", "--duration", "600ms", "--warmup", "200ms",
		"--rounds", "2", "--tokens-out", tokens, "--work-dir", dir}, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("loadtest: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	t.Log(out)
	for _, want := range []string{"import   300 customers", "tokens   300 minted", "round 2", "ratio              throughput"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the report", want)
		}
	}
	m := regexp.MustCompile(`(?m)^profileapi\s+(\d+)\s+\S+\s+\S+\s+\S+\s+\S+\s+(\d+)\s+(\S+)\s+(\S+)\s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no profileapi line")
	}
	if rate, _ := strconv.Atoi(m[1]); rate == 0 || m[2] != "0" {
		t.Errorf("profileapi: %s req/s, %s non-2xx", m[1], m[2])
	}
	for _, cpu := range m[3:5] { // the server's and the driver's CPU per request
		if _, err := time.ParseDuration(cpu); err != nil {
			t.Errorf("CPU per request %q: %v", cpu, err)
		}
	}
	b, err := os.ReadFile(tokens)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 300 {
		t.Errorf("%d token lines, want 300", n)
	}
}

// A run whose answers are errors, here 429s from a rate limit, is cheaper
// than one of profiles: it must fail, not report a ratio as if it counted.
func TestLoadtestFailsOnErrorAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Setenv("PROFILEAPI_TEST_AS_MAIN", "1")
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"loadtest", "--customers", "100", "--connections", "4", "--duration", "400ms", "--warmup", "100ms",
		"--rounds", "2", "--serve-flag=--skill-rate=1"}, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "were not 2xx (the first: 429)") {
		t.Fatalf("loadtest against a rate limit: %v, want an error naming the 429s\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "(not 2xx: profileapi ") {
		t.Errorf("no round flagged:\n%s", stdout.String())
	}
}

// import streams a file to the admin API; a bad line is reported with
// what was imported.
func TestImportCommand(t *testing.T) {
	in := start(t, t.TempDir())
	if _, err := in.cli(t, "skills", "create", "--id", "amzn1.ask.skill.imp", "--name", "Imp", "--permission", "alexa::profile:email:read"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "customers.ndjson")
	lines := `{"id":"amzn1.ask.account.CLI1","region":"NA","profile":{"email":"one@example.com"},"consents":{"amzn1.ask.skill.imp":["alexa::profile:email:read"]}}
{"id":"amzn1.ask.account.CLI2","region":"EU","profile":{"name":"Two"}}
`
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := in.cli(t, "import", file)
	if err != nil || !strings.HasPrefix(out, "imported 2 customers in ") {
		t.Fatalf("import: %q %v", out, err)
	}
	one := filepath.Join(t.TempDir(), "one.ndjson")
	if err := os.WriteFile(one, []byte(strings.SplitAfter(lines, "\n")[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := in.cli(t, "import", one); err != nil || !strings.HasPrefix(out, "imported 1 customer in ") {
		t.Fatalf("import of one: %q %v", out, err)
	}
	if out, err := in.cli(t, "consents", "get", "amzn1.ask.account.CLI1", "amzn1.ask.skill.imp"); err != nil || !strings.Contains(out, "alexa::profile:email:read") {
		t.Fatalf("imported consent: %q %v", out, err)
	}
	if err := os.WriteFile(file, []byte(lines+`{"id":"amzn1.ask.account.CLI3","region":"XX"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = in.cli(t, "import", file)
	if err == nil || !strings.Contains(err.Error(), "line 3: region") || !strings.Contains(err.Error(), "2 customers from the lines before line 3 were imported") {
		t.Fatalf("import of a bad line: %v", err)
	}
}

func TestTokensBatchCommand(t *testing.T) {
	in := start(t, t.TempDir(), "--demo")
	pair := `{"customerId":"` + demoCustomerID + `","skillId":"` + demoSkillID + `"}` + "\n"
	file := filepath.Join(t.TempDir(), "pairs.ndjson")
	if err := os.WriteFile(file, []byte(pair+`{"customerId":"`+demoCustomerID+`","skillId":"`+demoSkillID+`","ttlSeconds":60}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := in.cli(t, "tokens", "batch", file)
	if err != nil {
		t.Fatalf("tokens batch: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out)
	}
	type token struct {
		APIAccessToken string    `json:"apiAccessToken"`
		APIEndpoint    string    `json:"apiEndpoint"`
		ExpiresAt      time.Time `json:"expiresAt"`
	}
	var minted []token
	for _, l := range lines {
		var m token
		if err := json.Unmarshal([]byte(l), &m); err != nil || m.APIAccessToken == "" {
			t.Fatalf("line %q: %v", l, err)
		}
		minted = append(minted, m)
	}
	if d := time.Until(minted[1].ExpiresAt); d > 61*time.Second || d < 50*time.Second { // exp is to the second
		t.Errorf("the second token expires in %s, want the 60 s asked for", d)
	}
	req, _ := http.NewRequest(http.MethodGet, minted[0].APIEndpoint+"/v2/accounts/~current/settings/Profile.name", nil)
	req.Header.Set("Authorization", "Bearer "+minted[0].APIAccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a batch token: %d at %s", resp.StatusCode, req.URL)
	}

	// From standard input; a bad line ends the batch with an error that
	// names it, once the tokens before it are written.
	bad := `{"customerId":"amzn1.ask.account.NOBODY","skillId":"` + demoSkillID + `"}` + "\n"
	for _, tc := range []struct {
		good, written int // written: the answer's status waits for the first lines
		want          string
	}{{1, 0, "line 2"}, {3000, 3000, "line 3001"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"tokens", "batch", "-", "--admin-url", in.adminURL, "--data-dir", in.dataDir},
			func(string) string { return "" }, strings.NewReader(strings.Repeat(pair, tc.good)+bad), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d good lines, then a bad one: %v, want an error naming %s", tc.good, err, tc.want)
		}
		if n := strings.Count(stdout.String(), "apiAccessToken"); n != tc.written {
			t.Errorf("%d good lines, then a bad one: %d tokens written, want %d", tc.good, n, tc.written)
		}
	}
	if _, err := in.cli(t, "tokens", "batch", t.TempDir()); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("a directory: %v", err)
	}
}

// A run that could measure nothing is refused before it starts a server,
// not reported as ratios of NaN.
func TestLoadtestRejectsEmptyRuns(t *testing.T) {
	for _, args := range [][]string{{"--duration", "0"}, {"--duration", "-5s"}, {"--warmup", "-1s"}, {"--rounds", "0"}, {"--rounds", "-2"}} {
		var stdout, stderr bytes.Buffer
		argv := append([]string{"loadtest", "--customers", "10", "--connections", "2"}, args...)
		err := run(context.Background(), argv, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), args[0]) || stdout.Len() != 0 {
			t.Errorf("loadtest %v: %v, stdout %q; want an error naming %s, and nothing run", args, err, stdout.String(), args[0])
		}
	}
}
