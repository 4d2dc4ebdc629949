package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestExportImportRoundTrip: what one server exports, another imports as
// it is, and then exports the same.
func TestExportImportRoundTrip(t *testing.T) {
	from, to := start(t, t.TempDir()), start(t, t.TempDir())
	for _, in := range []*instance{from, to} {
		if _, err := in.cli(t, "skills", "create", "--id", "amzn1.ask.skill.exp", "--name", "Exp",
			"--permission", "alexa::profile:email:read", "--permission", "alexa::profile:name:read"); err != nil {
			t.Fatal(err)
		}
	}
	var lines strings.Builder
	for i := range 2500 { // more than a page of the store's listing
		fmt.Fprintf(&lines, `{"id":"amzn1.ask.account.EXP%04d","region":"EU","profile":{"name":"Pérson %d","email":"p%d@example.com","mobileNumber":{"countryCode":"+91","phoneNumber":"7799-82-77-11"}},"consents":{"amzn1.ask.skill.exp":["alexa::profile:email:read"]}}`+"\n", i, i, i)
	}
	fmt.Fprintf(&lines, `{"id":"amzn1.ask.account.LONE","region":"FE","profile":{"givenName":"Lone"}}`+"\n")
	src := filepath.Join(t.TempDir(), "in.ndjson")
	if err := os.WriteFile(src, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := from.cli(t, "import", src); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(t.TempDir(), "customers.ndjson")
	out, err := from.cli(t, "export", file)
	if err != nil || !strings.HasPrefix(out, "exported 2501 customers to "+file) {
		t.Fatalf("export to a file: %q %v", out, err)
	}
	exported, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("the export's mode is %v, want 0600", fi.Mode().Perm())
	}
	// The import's lines, in id order: the same customers and consents.
	if !bytes.Equal(exported, []byte(lines.String())) {
		t.Errorf("the export differs from what was imported; first line %q", strings.SplitN(string(exported), "\n", 2)[0])
	}

	if out, err := to.cli(t, "import", file); err != nil || !strings.HasPrefix(out, "imported 2501 customers") {
		t.Fatalf("import of the export: %q %v", out, err)
	}
	again, err := to.cli(t, "export")
	if err != nil {
		t.Fatal(err)
	}
	if again != string(exported) {
		t.Error("the second server exports otherwise than the first")
	}
	if out, err := to.cli(t, "consents", "get", "amzn1.ask.account.EXP0042", "amzn1.ask.skill.exp"); err != nil || !strings.Contains(out, "alexa::profile:email:read") {
		t.Errorf("an exported consent, imported: %q %v", out, err)
	}

	// A refused export leaves no file.
	none := filepath.Join(t.TempDir(), "none.ndjson")
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"export", none, "--admin-url", from.adminURL, "--admin-key", "a-key-of-another-server-0123456789"},
		func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("export with a wrong key: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(none)); len(entries) != 0 {
		t.Errorf("a refused export left %d files", len(entries))
	}
}

// The CLI's side of an export that fails midway, against a stand-in for
// the server: a store failing after some customers (an error line), a
// connection cut mid-line. A real server cannot be made to do either on
// cue.
func TestExportCLIFailures(t *testing.T) {
	const good = `{"id":"amzn1.ask.account.A","region":"NA","profile":{"name":"A"}}` + "\n"
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-ndjson")
		fmt.Fprint(w, good+good+`{"code":"SERVICE_UNAVAILABLE","message":"the service is temporarily unavailable, retry later"}`+"\n")
	}))
	defer srv.Close()
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		fmt.Fprint(w, good+`{"id":"amzn1.ask.acc`)
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}))
	defer cut.Close()
	export := func(url string, args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"export", "--admin-url", url, "--admin-key", "a-key-of-a-stand-in-0123456789"}, args...),
			func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		return stdout.String(), err
	}
	out, err := export(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "export stopped after 2 customers: SERVICE_UNAVAILABLE") || out != good+good {
		t.Errorf("an error line: %q, %v", out, err)
	}
	file := filepath.Join(t.TempDir(), "x.ndjson")
	if _, err := export(srv.URL, file); err == nil {
		t.Error("an error line: no error, exporting to a file")
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("an export that failed left its file")
	}
	if _, err = export(cut.URL); err == nil || !strings.Contains(err.Error(), "the export was cut off after 1 customer") {
		t.Errorf("a connection cut mid-line: %v", err)
	}

	dir := t.TempDir()
	before := calls.Load()
	for _, c := range []struct{ path, want string }{
		{dir, "a directory, not a file"},
		{dir + "/", "want a file's path"},
		{filepath.Join(dir, "missing", "x.ndjson"), "no such file or directory"},
	} {
		if _, err := export(srv.URL, c.path); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), strings.TrimSuffix(c.path, "/")) {
			t.Errorf("export to %q: %v, want it to say %q", c.path, err, c.want)
		}
	}
	if calls.Load() != before {
		t.Error("a path refused only after the export ran")
	}
}
