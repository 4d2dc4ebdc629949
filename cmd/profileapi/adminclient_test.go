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
