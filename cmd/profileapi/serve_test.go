package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeRejectsBadFlagValues: a flag value serve cannot honour stops it
// with an error that names the flag and what it accepts, before it creates
// the data directory, the admin key or the database, or prints anything.
func TestServeRejectsBadFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // in the error
	}{
		{[]string{"--read-header-timeout", "-1s"}, []string{"--read-header-timeout -1s", "positive"}},
		{[]string{"--read-header-timeout", "0"}, []string{"--read-header-timeout 0s", "positive"}},
		{[]string{"--shutdown-timeout", "-1s"}, []string{"--shutdown-timeout -1s", "0 or more"}},
		{[]string{"--key-rotation", "0"}, []string{"--key-rotation 0s", "from 1s to 8760h"}},
		{[]string{"--key-rotation", "-1h"}, []string{"--key-rotation -1h0m0s", "from 1s to 8760h"}},
		{[]string{"--key-rotation", "2000000h"}, []string{"--key-rotation 2000000h0m0s", "from 1s to 8760h"}},
		{[]string{"--cache-size", "0"}, []string{"--cache-size 0", "from 1 to 1048576 MiB"}},
		{[]string{"--cache-size", "-5"}, []string{"--cache-size -5", "from 1 to 1048576 MiB"}},
		{[]string{"--cache-size", "17592186044416"}, []string{"--cache-size 17592186044416", "from 1 to 1048576 MiB"}},
		{[]string{"--cache-max-age", "-1s"}, []string{"--cache-max-age -1s", "0 or more"}},
		{[]string{"--cache", "sometimes"}, []string{"--cache \"sometimes\"", "on, off or auto"}},
		{[]string{"--gc-min-heap", "-1"}, []string{"--gc-min-heap -1", "from 0 to 1048576 MiB"}},
		// 1<<44 MiB: << 20 overflows int64 to 0, which turned the floor off.
		{[]string{"--gc-min-heap", "17592186044416"}, []string{"--gc-min-heap 17592186044416", "from 0 to 1048576 MiB"}},
		{[]string{"--journal-size", "0"}, []string{"--journal-size 0", "from 1 to 100000"}},
		{[]string{"--journal-size", "100001"}, []string{"--journal-size 100001", "from 1 to 100000"}},
		{[]string{"--max-conns", "-1"}, []string{"--max-conns -1", "from 0 (no cap) to 1000000"}},
		{[]string{"--max-conns", "1000001"}, []string{"--max-conns 1000001", "from 0 (no cap) to 1000000"}},
		{[]string{"--skill-rate", "-1"}, []string{"--skill-rate -1", "0 (unlimited) or from 0.001 to 1e+06"}},
		{[]string{"--skill-rate", "NaN"}, []string{"--skill-rate NaN", "0 (unlimited) or from 0.001 to 1e+06"}},
		{[]string{"--customer-rate", "2e6"}, []string{"--customer-rate 2e+06", "0 (unlimited) or from 0.001 to 1e+06"}},
		{[]string{"--skill-rate", "5", "--skill-burst", "-1"}, []string{"--skill-burst -1", "from 1 to 1000000"}},
		{[]string{"--customer-rate", "5", "--customer-burst", "1000001"}, []string{"--customer-burst 1000001", "from 1 to 1000000"}},
		{[]string{"--skill-burst", "5"}, []string{"--skill-burst 5", "--skill-rate"}},
		// An explicit 0 is not the default burst, which leaving it out gives.
		{[]string{"--skill-rate", "5", "--skill-burst", "0"}, []string{"--skill-burst 0", "from 1 to 1000000"}},
		{[]string{"--customer-rate", "5", "--customer-burst", "0"}, []string{"--customer-burst 0", "from 1 to 1000000"}},
		{[]string{"--addr", "127.0.0.1:70000"}, []string{"--addr 127.0.0.1:70000", "port"}},
		{[]string{"--admin-addr", "no-port"}, []string{"--admin-addr no-port", "host:port"}},
		{[]string{"--addr", "127.0.0.1:19401", "--admin-addr", "127.0.0.1:19401"}, []string{"--addr", "--admin-addr", "127.0.0.1:19401"}},
		{[]string{"--endpoint-eu", "ftp://example.com"}, []string{"--endpoint-eu", "ftp://example.com", "http or https"}},
		{[]string{"--endpoint-na", "http://127.0.0.1:1", "--endpoint-eu", "http://127.0.0.1:1"}, []string{"--endpoint-na", "same endpoint"}},
		{[]string{"--wire", "bogus"}, []string{`--wire "bogus"`, "documented or alexa"}},
		{[]string{"--fixtures", "/nonexistent/world.yaml"}, []string{"--fixtures", "/nonexistent/world.yaml"}},
		{[]string{"--redis", "mysql://localhost"}, []string{"--redis"}},
		{[]string{"--db", os.TempDir()}, []string{"--db " + os.TempDir(), "a directory"}},
		{[]string{"--db", "file:x.db?mode=ro"}, []string{"--db file:x.db?mode=ro", "not a file: URI"}},
		{[]string{"--db", "host=127.0.0.1 port=1 dbname=app"}, []string{"--db host=127.0.0.1 port=1 dbname=app", "key=value", "postgres://"}},
		{[]string{"--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.pem"}, []string{"--tls-cert"}},
		{[]string{"--tls", "bogus", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.pem"}, []string{`--tls "bogus"`, "off or auto"}},
		{[]string{"--tls", "off", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.pem"}, []string{"--tls off and --tls-cert contradict"}},
		{[]string{"--tls", "auto", "--endpoint-na", "https://-bad.example"}, []string{"--endpoint-na https://-bad.example", "DNS name or an IP address"}},
		{[]string{"--tls", "auto", "--endpoint-eu", "http://localhost:9/eu"}, []string{"--endpoint-eu http://localhost:9/eu", "https only"}},
		// Long enough as given, but what counts is the key without the spaces.
		{[]string{"--admin-key", "      short       "}, []string{"--admin-key", "at least 16 characters"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			// Were the value accepted, serve would run: the deadline ends it.
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			var stdout, stderr syncBuffer
			argv := append([]string{"serve", "--data-dir", dataDir, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, tc.args...)
			err := run(ctx, argv, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
			if err == nil {
				t.Fatal("serve accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if _, serr := os.Stat(dataDir); !errors.Is(serr, fs.ErrNotExist) {
				t.Errorf("the data directory was created before the error (%v)", serr)
			}
			if out := stdout.String(); out != "" {
				t.Errorf("printed before the error:\n%s", out)
			}
		})
	}
}

// A password in --redis or --db never reaches the error, however the URL
// is spelt: a generated one may hold the '%' that makes it unparseable,
// and a URL's scheme may be in capitals.
func TestServeErrorsHideURLPasswords(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--redis", "redis://u:hunter2%zzpw@127.0.0.1:1/0"}, "--redis"},
		{[]string{"--db", "POSTGRES://u:hunter2pw@127.0.0.1:1/db?connect_timeout=1"}, "postgres"},
		{[]string{"--db", "user=u password=hunter2pw host=127.0.0.1"}, "key=value"},
		{[]string{"--db", "postgress://u:hunter2pw@127.0.0.1:1/db"}, `"postgress" is no scheme --db knows`},
		{[]string{"--db", "mysql://root:hunter2pw@127.0.0.1/db"}, `"mysql" is no scheme`},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		var stdout, stderr syncBuffer
		argv := append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, tc.args...)
		err := run(ctx, argv, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error()+stderr.String(), "hunter2") || strings.Contains(err.Error(), "sqlite") {
			t.Errorf("serve %v: %v; want an error about %s without the password", tc.args, err, tc.want)
		}
	}
}

// TestServeTakesZerosAndBounds: serve takes 0 where it has a documented
// meaning, and each upper bound.
func TestServeTakesZerosAndBounds(t *testing.T) {
	in := start(t, t.TempDir(), "--shutdown-timeout", "0", "--cache-max-age", "0", "--gc-min-heap", "0",
		"--journal-size", "100000", "--key-rotation", "8760h")
	if err := in.stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
}

// TestServeBadFlagExitStatus runs the binary: a journal of three billion
// entries was allocated at start and crashed the runtime out of memory.
func TestServeBadFlagExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(os.Args[0], "serve", "--data-dir", dataDir, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--journal-size", "3000000000")
	cmd.Env = append(os.Environ(), "PROFILEAPI_TEST_AS_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("serve started")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\nstderr: %s", err, stderr.String())
	}
	if want := "profileapi: --journal-size 3000000000: want from 1 to 100000"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q does not say %q", stderr.String(), want)
	}
	if stdout.Len() != 0 {
		t.Errorf("printed: %s", stdout.String())
	}
}

// TestServeUnparseableRequestIsJSON: a request net/http cannot parse, which
// no handler sees, still gets the contract's error body on both listeners.
func TestServeUnparseableRequestIsJSON(t *testing.T) {
	in := start(t, t.TempDir())
	for _, base := range []string{in.publicURL, in.adminURL} {
		c, _ := dialRaw(t, base)
		// OPTIONS *, which net/http answers itself unless told not to;
		// then a header line with no colon, after an Authorization header.
		if _, err := io.WriteString(c, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/accounts/~current/settings/Profile.name HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nno colon\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(c)
		for _, what := range []string{"OPTIONS *", "the header line"} {
			resp, err := http.ReadResponse(rd, nil)
			if err != nil {
				t.Fatal(err)
			}
			var e struct{ Code, Message string }
			err = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusBadRequest || e.Code != "INVALID_REQUEST" || e.Message == "" {
				t.Errorf("%s, %s: %d %+v (%v), want 400 INVALID_REQUEST with a message", base, what, resp.StatusCode, e, err)
			}
		}
		c.Close()
	}
}

// TestServeFastHTTP: the public API's GETs are served by package http1 unless
// --fast-http=false, and either way answered.
func TestServeFastHTTP(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "fast_http=true"},
		{[]string{"--fast-http=false"}, "fast_http=false"},
	} {
		in := start(t, t.TempDir(), tc.args...)
		resp, err := http.Get(in.publicURL + "/v2/accounts/~current/settings/Profile.name")
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Code string }
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%v: %d %+v (%v), want 401", tc.args, resp.StatusCode, e, err)
		}
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
		if log := in.stderr.String(); !strings.Contains(log, tc.want) {
			t.Errorf("%v: the log does not say %s:\n%s", tc.args, tc.want, log)
		}
	}
}

// TestServeChunkedGETWithoutBody: a GET that announces a chunked body and
// sends none, or one chunk and then nothing, is answered within about a
// second on both listeners, through their connection wrappers, not held
// until the read timeout, or without one.
func TestServeChunkedGETWithoutBody(t *testing.T) {
	in := start(t, t.TempDir())
	for _, c := range []struct{ target, body string }{
		{in.publicURL + "/v2/accounts/~current/settings/Profile.name", ""},
		{in.adminURL + "/admin/v1/skills", ""},
		{in.publicURL + "/v2/accounts/~current/settings/Profile.name", "1\r\na\r\n"},
		{in.adminURL + "/admin/v1/skills", "1\r\na\r\n"},
	} {
		target := c.target
		conn, u := dialRaw(t, target)
		key, _ := in.cli(t, "admin-key")
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n%s", u.Path, u.Host, strings.TrimSpace(key), c.body)
		start := time.Now()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Fatalf("%s %q: %v after %v", target, c.body, err, time.Since(start))
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s %q: %d, want 400", target, c.body, resp.StatusCode)
		}
	}
}

// dialRaw opens a connection to the host of rawURL, for requests no HTTP
// client would send, and bounds it, so a server that does not answer fails
// the test rather than hanging it.
func dialRaw(t *testing.T, rawURL string) (net.Conn, *url.URL) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, u
}

// TestServeErrorNamesEnvironment: a bad value set through a PROFILEAPI_*
// variable is reported under that variable too, not only under a flag the
// command line does not have.
func TestServeErrorNamesEnvironment(t *testing.T) {
	env := map[string]string{"PROFILEAPI_SKILL_RATE": "-1", "PROFILEAPI_WIRE": "bogus",
		"PROFILEAPI_ENDPOINT_EU": "ftp://example.com", "PROFILEAPI_DB": "/nonexistent/dir/p.db"}
	for name, value := range env {
		t.Run(name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == name {
					return value
				}
				return ""
			}
			dataDir := filepath.Join(t.TempDir(), "data")
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			var stdout, stderr syncBuffer
			err := run(ctx, []string{"serve", "--data-dir", dataDir, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, getenv, strings.NewReader(""), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), "is set by "+name) {
				t.Errorf("error %v does not name %s", err, name)
			}
		})
	}
}

// TestSecondServeOnCachedSQLite: a second serve on a SQLite file that a
// first one caches is refused, as is a cached serve on a file another
// serve uses; without a cache, several may share the file, as SQLite allows.
func TestSecondServeOnCachedSQLite(t *testing.T) {
	serveErr := func(dataDir string, args ...string) error {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		var stdout, stderr syncBuffer
		argv := append([]string{"serve", "--data-dir", dataDir, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...)
		err := run(ctx, argv, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		if ctx.Err() != nil {
			return nil // it served until the deadline: it started
		}
		return err
	}
	const inUse = "is in use by another profileapi serve"

	cached := t.TempDir()
	first := start(t, cached)
	// The same file by another name too.
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(filepath.Join(cached, "profileapi.db"), link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{nil, {"--cache", "off"}, {"--db", link}} {
		if err := serveErr(t.TempDir(), append([]string{"--db", filepath.Join(cached, "profileapi.db")}, args...)...); err == nil || !strings.Contains(err.Error(), inUse) {
			t.Errorf("serve %v beside a cached serve: %v, want %q", args, err, inUse)
		}
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	// Stopped, it holds the file no longer.
	restarted := start(t, cached)
	if err := restarted.stop(); err != nil {
		t.Fatal(err)
	}

	shared := t.TempDir()
	uncached := start(t, shared, "--cache", "off")
	if err := serveErr(shared, "--cache", "off"); err != nil {
		t.Errorf("a second uncached serve: %v, want it to start", err)
	}
	if err := serveErr(shared); err == nil || !strings.Contains(err.Error(), inUse) {
		t.Errorf("a cached serve beside an uncached one: %v, want %q", err, inUse)
	}
	if err := uncached.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestServeMaxConns: at --max-conns, a new connection to the public API
// waits for one to close, and the server says so in its log; the admin
// API is not held up.
func TestServeMaxConns(t *testing.T) {
	in := start(t, t.TempDir(), "--max-conns", "1")
	host := strings.TrimPrefix(in.publicURL, "http://")
	get := func(c net.Conn, wait time.Duration) string {
		t.Helper()
		if _, err := c.Write([]byte("GET /v2/accounts/~current/settings/Profile.email HTTP/1.1\r\nHost: " + host + "\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSpace(line)
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	first := dial()
	if got := get(first, 5*time.Second); got != "HTTP/1.1 401 Unauthorized" {
		t.Fatalf("the first connection: %q", got)
	}
	second := dial()
	if got := get(second, 300*time.Millisecond); got != "" {
		t.Fatalf("a second connection at --max-conns 1 was answered: %q", got)
	}
	resp, err := http.Get(in.adminURL + "/healthz")
	if err != nil {
		t.Fatalf("the admin API while the public one is full: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the admin API while the public one is full: %s", resp.Status)
	}
	first.Close()
	_ = second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(second).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 401") {
		t.Fatalf("once the first closed, the second got %q, %v", line, err)
	}
	// Logged once the cap was reached (net/http's next Accept waits at
	// once), so this cannot tell the second connection waited: the read
	// above does.
	if log := in.stderr.String(); !strings.Contains(log, "--max-conns") {
		t.Errorf("no log line about the cap:\n%s", log)
	}
}

// net/http's lines reach the log at Warn, but a TLS handshake that a
// plain-HTTP request or a TCP check broke off at Debug; one a client
// refused stays a warning.
func TestServerErrorLog(t *testing.T) {
	for line, level := range map[string]string{
		"http: TLS handshake error from 10.0.0.1:5555: client sent an HTTP request to an HTTPS server": "DEBUG",
		"http: TLS handshake error from 10.0.0.1:5555: EOF":                                            "DEBUG",
		"http: TLS handshake error from 10.0.0.1:5555: remote error: tls: bad certificate":             "WARN",
		"http: panic serving 10.0.0.1:5555: boom":                                                      "WARN",
	} {
		var buf bytes.Buffer
		l := newHTTPServer(http.NotFoundHandler(), slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), time.Second).ErrorLog
		l.Print(line)
		if got := buf.String(); !strings.Contains(got, "level="+level) || strings.Count(got, "\n") != 1 {
			t.Errorf("%q logged %q, want one line at %s", line, got, level)
		}
	}
}
