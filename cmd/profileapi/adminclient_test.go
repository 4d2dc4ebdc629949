package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// cliWith runs one control-plane command with its own environment and
// no --admin-url or --data-dir added: the test gives what it needs.
func cliWith(env map[string]string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), err
}

// TestAdminKeyWithSpaces: a key given with surrounding whitespace (as
// `$(cat file)` or a quoted shell line gives it) is the key without it, as
// for the key file, on both the server's and the CLI's side.
func TestAdminKeyWithSpaces(t *testing.T) {
	const key = "spaced-admin-key-0123456789"
	in := start(t, t.TempDir(), "--admin-key", "  "+key+"\n")
	req, _ := http.NewRequest(http.MethodGet, in.adminURL+"/admin/v1/skills", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the key without its spaces: %d, want 200", resp.StatusCode)
	}
	if _, err := in.cli(t, "skills", "list", "--admin-key", "\t"+key+" \n"); err != nil {
		t.Fatalf("CLI with --admin-key padded: %v", err)
	}
	env := map[string]string{"PROFILEAPI_ADMIN_KEY": " " + key + "\n"}
	if _, err := cliWith(env, "skills", "list", "--admin-url", in.adminURL, "--data-dir", t.TempDir()); err != nil {
		t.Fatalf("CLI with PROFILEAPI_ADMIN_KEY padded: %v", err)
	}
	// The CLI checks a given key as serve does.
	env["PROFILEAPI_ADMIN_KEY"] = "   short          "
	if _, err := cliWith(env, "skills", "list", "--admin-url", in.adminURL, "--data-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "at least 16 characters") {
		t.Fatalf("CLI with a short key: %v", err)
	}
}

// TestCLIWrongScheme: the CLI's default http:// --admin-url against a TLS
// admin API, or https:// against a plain one, says which URL to use.
func TestCLIWrongScheme(t *testing.T) {
	dir := t.TempDir()
	tlsOn := start(t, dir, "--tls", "auto")
	httpURL := strings.Replace(tlsOn.adminURL, "https://", "http://", 1)
	plain := start(t, t.TempDir())
	httpsURL := strings.Replace(plain.adminURL, "http://", "https://", 1)
	// import streams its body through code of its own; a long one meets
	// the TLS listener's close before its answer is read.
	long := filepath.Join(t.TempDir(), "long.ndjson")
	line := `{"id":"amzn1.ask.account.LONG","region":"NA","profile":{"name":"` + strings.Repeat("x", 1000) + `"}}` + "\n"
	if err := os.WriteFile(long, []byte(strings.Repeat(line, 4000)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"skills", "list"}, {"import", "-"}, {"import", long}} {
		_, err := cliWith(nil, append(cmd, "--admin-url", httpURL, "--data-dir", dir)...)
		if err == nil {
			t.Fatalf("%v: plain HTTP to the TLS admin API succeeded", cmd)
		}
		for _, want := range []string{"speaks HTTPS", "--admin-url " + tlsOn.adminURL} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: error %q does not say %q", cmd, err, want)
			}
		}

		_, err = cliWith(nil, append(cmd, "--admin-url", httpsURL, "--data-dir", plain.dataDir)...)
		if err == nil {
			t.Fatalf("%v: HTTPS to the plain admin API succeeded", cmd)
		}
		for _, want := range []string{"speaks plain HTTP", "--admin-url " + plain.adminURL} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: error %q does not say %q", cmd, err, want)
			}
		}
	}
}

// TestCLIOutputEndsWithOneNewline: the admin API's body already ends with
// a newline; the CLI's indented copy must not add a blank line.
func TestCLIOutputEndsWithOneNewline(t *testing.T) {
	in := start(t, t.TempDir())
	for _, args := range [][]string{
		{"skills", "create", "--id", "amzn1.ask.skill.nl", "--name", "Newline"},
		{"skills", "list"},
	} {
		out := in.mustCLI(t, args...)
		if !strings.HasSuffix(out, "}\n") || strings.HasSuffix(out, "\n\n") {
			t.Errorf("%v: output ends %q, want one newline after the JSON", args, out[max(0, len(out)-10):])
		}
	}
}

// A group given a subcommand it lacks fails, so a script notices the typo;
// the group alone still prints its help.
func TestUnknownSubcommand(t *testing.T) {
	for _, args := range [][]string{{"consents", "show"}, {"tls", "ca-pth"}, {"rate-limit", "show", "x"}} {
		if _, err := cliWith(nil, args...); err == nil || !strings.Contains(err.Error(), "unknown command") {
			t.Errorf("%v: %v, want an unknown command error", args, err)
		}
	}
	if _, err := cliWith(nil, "consents"); err != nil {
		t.Errorf("consents alone: %v, want its help", err)
	}
}

// TestGivenKeyDemoAndCLI: with the key given to serve, the CLI does not
// make a key of its own in the data directory, which `admin-key` would
// then print though the server refuses it; it says how to pass the key,
// and the demo's revoke line works once KEY is replaced.
func TestGivenKeyDemoAndCLI(t *testing.T) {
	const key = "given-admin-key-0123456789"
	dir := t.TempDir()
	in := start(t, dir, "--admin-key", key, "--demo")
	_, err := cliWith(nil, "--admin-url", in.adminURL, "--data-dir", dir, "skills", "list")
	if err == nil || !strings.Contains(err.Error(), "pass --admin-key or set PROFILEAPI_ADMIN_KEY") {
		t.Fatalf("CLI without the key: %v, want it to say how to pass it", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "admin.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the CLI left an admin.key: %v", err)
	}

	revoke := regexp.MustCompile("`profileapi ([^`]*consents revoke[^`]*)`(.*)").FindStringSubmatch(in.stdout.String())
	if revoke == nil || !strings.Contains(revoke[1], "--admin-key KEY") || !strings.Contains(revoke[2], "KEY: the --admin-key given to serve") {
		t.Fatalf("revoke line %q, want one naming KEY", revoke)
	}
	if _, err := cliWith(nil, strings.Fields(strings.Replace(revoke[1], "KEY", key, 1))...); err != nil {
		t.Fatalf("the revoke line with the key: %v", err)
	}
}

// A key no Authorization header can carry (openssl rand -base64 64 breaks
// its output into lines) is refused at start, not by every later call.
func TestAdminKeyWithALineBreak(t *testing.T) {
	key := "abcdefghijklmnop\nqrstuvwxyz012345"
	// A --db that cannot be opened ends serve, should it take the key.
	_, err := cliWith(nil, "serve", "--admin-key", key, "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--db", filepath.Join(t.TempDir(), "missing", "profileapi.db"))
	if err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("serve with a key holding a line break: %v, want it refused", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin.key"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cliWith(nil, "admin-key", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("a key file holding a line break: %v, want it refused", err)
	}
}

// Processes started together on a new data directory end up with one
// admin key: none reads the file before it is written. A reader spins
// while the key is made, to catch the file between its creation and its
// writing, if it can be seen so.
func TestAdminKeyMadeOnce(t *testing.T) {
	for round := range 200 {
		g := &globals{dataDir: filepath.Join(t.TempDir(), "data")}
		if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var readErr error
		wg.Go(func() {
			for {
				_, _, err := readAdminKey(g)
				if !errors.Is(err, fs.ErrNotExist) {
					readErr = err
					return
				}
			}
		})
		if _, _, err := loadAdminKey(g); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if readErr != nil {
			t.Fatalf("round %d: a process reading the key while it was made: %v", round, readErr)
		}
	}
	for round := range 20 {
		g := &globals{dataDir: filepath.Join(t.TempDir(), "data")}
		const n = 8
		keys := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { keys[i], _, errs[i] = loadAdminKey(g) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || keys[i] != keys[0] {
				t.Fatalf("round %d: process %d: key %q, %v; process 0: %q", round, i, keys[i], errs[i], keys[0])
			}
		}
		if leftovers, _ := filepath.Glob(filepath.Join(g.dataDir, ".admin.key-*")); len(leftovers) != 0 {
			t.Fatalf("round %d: temporary files left: %v", round, leftovers)
		}
	}
}

// --admin-url is checked once, with a message naming it and the fix; a
// failure to send says what failed, not always that serve is not running.
func TestCLIAdminURL(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PROFILEAPI_ADMIN_KEY": "a-key-long-enough-0123456789"}
	for url, want := range map[string]string{
		"127.0.0.1:8081":            "want a URL with its scheme, such as http://127.0.0.1:8081",
		"localhost:8081":            "want a URL with its scheme, such as http://localhost:8081",
		"ftp://127.0.0.1:8081":      "want an http:// or https:// URL",
		"http://":                   "want an http:// or https:// URL",
		"http://127.0.0.1:1/admin/": "cannot reach the admin API at http://127.0.0.1:1/admin (is `profileapi serve` running?",
	} {
		_, err := cliWith(env, "skills", "list", "--admin-url", url, "--data-dir", dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--admin-url %s: %v, want %q", url, err, want)
		}
	}
	// A certificate the CLI does not trust is no sign of a stopped server.
	tlsOn := start(t, t.TempDir(), "--tls", "auto")
	_, err := cliWith(env, "skills", "list", "--admin-url", tlsOn.adminURL, "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "certificate this machine does not trust") || strings.Contains(err.Error(), "is `profileapi serve` running") {
		t.Errorf("an untrusted certificate: %v", err)
	}
}

// The banner's admin-key and tls ca-path commands find the server's data
// directory; admin-key says when it makes a key rather than print one a
// server has.
func TestBannerNamesTheDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my data")
	in := start(t, dir, "--tls", "auto")
	for _, want := range []string{"`profileapi admin-key --data-dir '" + dir + "'` prints it", "`profileapi tls ca-path --data-dir '" + dir + "'` says how"} {
		if !strings.Contains(in.stdout.String(), want) {
			t.Errorf("the banner does not say %q:\n%s", want, in.stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	fresh := t.TempDir()
	if err := run(context.Background(), []string{"admin-key", "--data-dir", fresh}, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "made a new admin key") || len(strings.TrimSpace(stdout.String())) < minAdminKeyLen {
		t.Errorf("admin-key on a new data directory: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if err := run(context.Background(), []string{"admin-key", "--data-dir", fresh}, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr); err != nil || stderr.Len() != 0 {
		t.Errorf("admin-key again: %v, stderr %q: want the key alone", err, stderr.String())
	}
}

// A refused key or a public URL given for the admin API's: the error says
// which key was sent, or which listener was reached.
func TestCLIErrorsSayWhy(t *testing.T) {
	in := start(t, t.TempDir())
	stale := t.TempDir()
	if err := os.WriteFile(filepath.Join(stale, "admin.key"), []byte("a-key-of-another-server-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"skills", "list", "--admin-url", in.adminURL, "--data-dir", stale}, "the key sent is the one in " + filepath.Join(stale, "admin.key")},
		{[]string{"skills", "list", "--admin-url", in.adminURL, "--admin-key", "a-key-of-another-server-0123456789"}, "the key sent is --admin-key"},
		{[]string{"import", "-", "--admin-url", in.adminURL, "--admin-key", "a-key-of-another-server-0123456789"}, "the key sent is --admin-key"},
		{[]string{"skills", "list", "--admin-url", in.publicURL, "--data-dir", in.dataDir}, "is the public API's listener"},
	} {
		_, err := cliWith(nil, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want it to say %q", c.args, err, c.want)
		}
	}
}
