package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/profileapi/profileapi/tlsconf"
)

var caLine = regexp.MustCompile(`TLS CA\s+(\S+)`)

// clientTrusting trusts only the given CA, as a skill configured with the
// printed instructions would.
func clientTrusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in the CA file")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}}
}

func TestTLSAuto(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, "--tls", "auto", "--demo")
	out := in.stdout.String()
	m := caLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no CA line in:\n%s", out)
	}
	caFile := m[1]
	for _, want := range []string{"NODE_EXTRA_CA_CERTS=", "REQUESTS_CA_BUNDLE=", "SSL_CERT_FILE=", "keytool -importcert", "--cacert"} {
		if !strings.Contains(out, want) {
			t.Errorf("first start does not say %q", want)
		}
	}
	if !strings.HasPrefix(in.publicURL, "https://") {
		t.Fatalf("advertised endpoint %s is not https", in.publicURL)
	}
	caBefore, _ := os.ReadFile(caFile)
	if st, err := os.Stat(filepath.Join(filepath.Dir(caFile), "ca-key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("CA key: %v %v", st, err)
	}

	c := clientTrusting(t, caFile)
	lines := curlLine.FindAllStringSubmatch(out, -1)
	if len(lines) != 4 || !strings.Contains(lines[0][0], "--cacert") {
		t.Fatalf("curl lines: %q", lines)
	}
	req, _ := http.NewRequest(http.MethodGet, lines[2][2], nil)
	req.Header.Set("Authorization", "Bearer "+lines[2][1])
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"email":"jsmith@example.com"}` || resp.ProtoMajor != 2 {
		t.Fatalf("over HTTPS: %s %d %s", resp.Proto, resp.StatusCode, body)
	}
	// The CLI reaches the https admin API, trusting the CA in the data dir.
	if _, err := in.cli(t, "skills", "list", "--admin-url", in.adminURL); err != nil {
		t.Fatalf("CLI over https: %v", err)
	}
	// Plain HTTP on the TLS port is refused, not served.
	if resp, err := http.Get(strings.Replace(in.adminURL, "https://", "http://", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered on the TLS listener")
		}
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}

	// A restart keeps the CA, so configured clients stay configured, and
	// does not print the trust instructions again.
	again := start(t, dir, "--tls", "auto")
	caAfter, _ := os.ReadFile(caFile)
	if !bytes.Equal(caBefore, caAfter) {
		t.Fatal("restart replaced the CA")
	}
	if strings.Contains(again.stdout.String(), "NODE_EXTRA_CA_CERTS") {
		t.Error("trust instructions printed again on restart")
	}
	resp, err = clientTrusting(t, caFile).Get(again.adminURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	path, err := again.cli(t, "tls", "ca-path")
	if err != nil || strings.TrimSpace(path) != caFile {
		t.Fatalf("tls ca-path: %q %v", path, err)
	}
}

func TestTLSFiles(t *testing.T) {
	// A certificate of the user's own: here, one made by another local CA.
	b, err := tlsconf.Auto(t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := start(t, t.TempDir(), "--tls-cert", b.CertFile, "--tls-key", b.KeyFile)
	resp, err := clientTrusting(t, b.CAFile).Get(in.adminURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(in.publicURL, "https://") {
		t.Fatalf("%d %s", resp.StatusCode, in.publicURL)
	}

	for _, args := range [][]string{
		{"--tls-cert", b.CertFile},
		{"--tls-cert", b.CertFile, "--tls-key", b.CAFile},
		{"--tls-cert", b.KeyFile, "--tls-key", b.CertFile},
		{"--tls-cert", "/nonexistent.pem", "--tls-key", b.KeyFile},
		{"--tls", "auto", "--tls-cert", b.CertFile, "--tls-key", b.KeyFile},
		{"--tls", "sometimes"},
	} {
		var stderr bytes.Buffer
		err := run(t.Context(), append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...), func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
		if err == nil {
			t.Errorf("%v: want an error", args)
		} else if !strings.Contains(err.Error(), "tls") {
			t.Errorf("%v: error %q does not name the TLS flags", args, err)
		}
	}
}

// With the live host names as endpoints (behind a local DNS override, as
// SDK tests run), the certificate names the FE alias too, which the FE
// region answers to; and a client offering only HTTP/1.0 is served.
func TestTLSAutoLiveHostNames(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir, "--tls", "auto",
		"--endpoint-na", "https://api.amazonalexa.com", "--endpoint-eu", "https://api.eu.amazonalexa.com", "--endpoint-fe", "https://api.fe.amazonalexa.com")
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	m := regexp.MustCompile(` addr=(\S+)`).FindStringSubmatch(in.stderr.String())
	if m == nil {
		t.Fatalf("no listen address in the log: %s", in.stderr.String())
	}
	addr := m[1]
	for _, tc := range []struct{ host, proto string }{{"api.fe.amazon.com", "http/1.1"}, {"api.fe.amazonalexa.com", "http/1.0"}} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: tc.host, NextProtos: []string{tc.proto}})
		if err != nil {
			t.Errorf("TLS to %s offering %s: %v", tc.host, tc.proto, err)
			continue
		}
		conn.Close()
	}
}
