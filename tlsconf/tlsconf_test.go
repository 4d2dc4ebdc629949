package tlsconf_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi/tlsconf"
)

const day = 24 * time.Hour

// clock is a settable fake clock, safe to read from handshakes.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func auto(t *testing.T, dir string, hosts []string, now func() time.Time) *tlsconf.Bundle {
	t.Helper()
	b, err := tlsconf.Auto(dir, hosts, now)
	if err != nil {
		t.Fatalf("Auto: %v", err)
	}
	return b
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func parseCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(readFile(t, path))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cert
}

// rootsFrom is a pool holding only the CA in caFile, as a configured client has.
func rootsFrom(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(readFile(t, caFile)) {
		t.Fatalf("%s: no certificate", caFile)
	}
	return roots
}

// serve runs a real HTTPS server on a loopback listener at addr and returns
// its port. The handler answers with the protocol it saw.
func serve(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.Proto)
		}),
		// Refused handshakes are asserted on the client side.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go srv.Serve(tls.NewListener(ln, cfg))
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func client(roots *x509.CertPool, http2 bool) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2: http2,
		},
		Timeout: 10 * time.Second,
	}
}

func get(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != resp.Proto {
		t.Fatalf("GET %s: %s %q", url, resp.Status, body)
	}
	return resp
}

// handshake dials addr with a client trusting roots, checking the
// certificate for serverName at the time now.
func handshake(addr, serverName string, roots *x509.CertPool, now time.Time) (*tls.ConnectionState, error) {
	conn, err := tls.Dial("tcp", addr, &tls.Config{
		RootCAs:    roots,
		ServerName: serverName,
		Time:       func() time.Time { return now },
	})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	state := conn.ConnectionState()
	return &state, nil
}

func TestAutoCreatesFiles(t *testing.T) {
	now := time.Now()
	dir := filepath.Join(t.TempDir(), "tls")
	b := auto(t, dir, nil, func() time.Time { return now })

	if !b.Created {
		t.Error("Created = false on first call")
	}
	if b.CAFile != filepath.Join(dir, "ca.pem") || b.CertFile != filepath.Join(dir, "server.pem") || b.KeyFile != filepath.Join(dir, "server-key.pem") {
		t.Errorf("files = %s, %s, %s", b.CAFile, b.CertFile, b.KeyFile)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"ca-key.pem", "ca.pem", "server-key.pem", "server.pem"}; !slices.Equal(names, want) {
		t.Errorf("dir holds %v, want %v (no temporary files left)", names, want)
	}

	if runtime.GOOS != "windows" {
		for name, want := range map[string]fs.FileMode{
			"":               0o700 | fs.ModeDir,
			"ca-key.pem":     0o600,
			"server-key.pem": 0o600,
			"ca.pem":         0o644,
			"server.pem":     0o644,
		} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != want {
				t.Errorf("%s: mode %v, want %v", filepath.Join(dir, name), fi.Mode(), want)
			}
		}
	}

	ca := parseCert(t, b.CAFile)
	if ca.Subject.CommonName != "profileapi local CA" || !ca.IsCA || !ca.BasicConstraintsValid ||
		ca.MaxPathLen != 0 || !ca.MaxPathLenZero || ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA: CN %q IsCA %v BasicConstraintsValid %v MaxPathLen %d/%v KeyUsage %v",
			ca.Subject.CommonName, ca.IsCA, ca.BasicConstraintsValid, ca.MaxPathLen, ca.MaxPathLenZero, ca.KeyUsage)
	}
	if pub, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA key is %T, want ECDSA P-256", ca.PublicKey)
	}
	if !ca.NotBefore.Before(now) || !ca.NotAfter.Equal(now.AddDate(10, 0, 0).Truncate(time.Second)) {
		t.Errorf("CA valid %v to %v, want from before %v for 10 years", ca.NotBefore, ca.NotAfter, now)
	}

	leaf := parseCert(t, b.CertFile)
	if !leaf.NotBefore.Before(now) || !leaf.NotAfter.Equal(now.Add(397*day).Truncate(time.Second)) {
		t.Errorf("server valid %v to %v, want from before %v for 397 days", leaf.NotBefore, leaf.NotAfter, now)
	}
	if leaf.IsCA || !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("server: IsCA %v ExtKeyUsage %v", leaf.IsCA, leaf.ExtKeyUsage)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: rootsFrom(t, b.CAFile), DNSName: "localhost"}); err != nil {
		t.Errorf("server certificate does not verify against the CA: %v", err)
	}
}

func TestAutoHosts(t *testing.T) {
	b := auto(t, t.TempDir(), []string{
		"api.example.test:8443",
		"API.Example.Test.", // same name
		"10.0.0.5",
		"::ffff:10.0.0.5", // same address, IPv4-mapped
		"[::1]:443",       // a default
		"[fe80::1%eth0]",  // zone dropped
		"  ",
		"*.dev.example.test",
		"localhost:8080",
	}, nil)
	leaf := parseCert(t, b.CertFile)
	if want := []string{"localhost", "api.example.test", "*.dev.example.test"}; !slices.Equal(leaf.DNSNames, want) {
		t.Errorf("DNS SANs = %v, want %v", leaf.DNSNames, want)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"127.0.0.1", "::1", "10.0.0.5", "fe80::1"}; !slices.Equal(ips, want) {
		t.Errorf("IP SANs = %v, want %v", ips, want)
	}

	for _, bad := range []string{"bad host", "https://example.test/", "-x.test", "a..b", "ünïcode.test", "*"} {
		_, err := tlsconf.Auto(t.TempDir(), []string{bad}, nil)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("invalid host %q", bad)) {
			t.Errorf("Auto(%q) error = %v, want invalid host", bad, err)
		}
	}
}

func TestAutoServesHTTPS(t *testing.T) {
	b := auto(t, t.TempDir(), nil, nil)
	cfg := b.Config()
	roots := rootsFrom(t, b.CAFile)

	port4 := serve(t, "127.0.0.1:0", cfg)
	urls := []string{
		"https://127.0.0.1:" + port4 + "/",
		"https://localhost:" + port4 + "/",
	}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		urls = append(urls, "https://[::1]:"+serve(t, "[::1]:0", cfg)+"/")
	} else {
		t.Logf("no IPv6 loopback, skipping [::1]: %v", err)
	}

	for _, url := range urls {
		t.Run(url, func(t *testing.T) {
			if resp := get(t, client(roots, true), url); resp.ProtoMajor != 2 {
				t.Errorf("client offering h2 got %s", resp.Proto)
			}
			if resp := get(t, client(roots, false), url); resp.Proto != "HTTP/1.1" {
				t.Errorf("HTTP/1.1-only client got %s", resp.Proto)
			}
			_, err := client(x509.NewCertPool(), true).Get(url)
			if ua := (x509.UnknownAuthorityError{}); !errors.As(err, &ua) {
				t.Errorf("client not trusting the CA: error %v, want x509.UnknownAuthorityError", err)
			}
		})
	}
}

func TestConfigRefusesOldTLS(t *testing.T) {
	b := auto(t, t.TempDir(), nil, nil)
	addr := "127.0.0.1:" + serve(t, "127.0.0.1:0", b.Config())
	roots := rootsFrom(t, b.CAFile)

	for _, tc := range []struct {
		name    string
		version uint16
		ok      bool
	}{
		{"TLS 1.0", tls.VersionTLS10, false},
		{"TLS 1.1", tls.VersionTLS11, false},
		{"TLS 1.2", tls.VersionTLS12, true},
		{"TLS 1.3", tls.VersionTLS13, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", addr, &tls.Config{
				RootCAs:    roots,
				ServerName: "localhost",
				MinVersion: tc.version,
				MaxVersion: tc.version,
			})
			if tc.ok {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				defer conn.Close()
				if v := conn.ConnectionState().Version; v != tc.version {
					t.Errorf("negotiated %s", tls.VersionName(v))
				}
				return
			}
			if err == nil {
				conn.Close()
				t.Fatal("handshake succeeded, want refusal")
			}
			if !strings.Contains(err.Error(), "protocol version") {
				t.Errorf("error = %v, want a protocol version alert", err)
			}
		})
	}
}

func TestAutoReuses(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first := auto(t, dir, []string{"api.example.test"}, func() time.Time { return now })
	files := map[string][]byte{}
	for _, name := range []string{"ca.pem", "ca-key.pem", "server.pem", "server-key.pem"} {
		files[name] = readFile(t, filepath.Join(dir, name))
	}

	later := now.Add(300 * day) // 97 days left: outside the renewal window
	second := auto(t, dir, []string{"api.example.test"}, func() time.Time { return later })
	if !first.Created || second.Created {
		t.Errorf("Created = %v then %v, want true then false", first.Created, second.Created)
	}
	for name, before := range files {
		if after := readFile(t, filepath.Join(dir, name)); !bytes.Equal(before, after) {
			t.Errorf("%s changed on the second call", name)
		}
	}
}

func TestAutoRenewsServerCertificate(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	b := auto(t, dir, nil, func() time.Time { return now })
	caPEM, caKey, serverPEM := readFile(t, b.CAFile), readFile(t, filepath.Join(dir, "ca-key.pem")), readFile(t, b.CertFile)

	later := now.Add(380 * day) // 17 days left
	b2 := auto(t, dir, nil, func() time.Time { return later })
	if b2.Created {
		t.Error("Created = true on renewal")
	}
	if !bytes.Equal(caPEM, readFile(t, b.CAFile)) || !bytes.Equal(caKey, readFile(t, filepath.Join(dir, "ca-key.pem"))) {
		t.Error("CA changed on renewal")
	}
	if bytes.Equal(serverPEM, readFile(t, b.CertFile)) {
		t.Fatal("server certificate not renewed 17 days before expiry")
	}
	leaf := parseCert(t, b.CertFile)
	if !leaf.NotBefore.Before(later) || !leaf.NotAfter.Equal(later.Add(397*day).Truncate(time.Second)) {
		t.Errorf("renewed certificate valid %v to %v", leaf.NotBefore, leaf.NotAfter)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: rootsFrom(t, b.CAFile), CurrentTime: later, DNSName: "localhost"}); err != nil {
		t.Errorf("renewed certificate does not verify against the old CA: %v", err)
	}
}

func TestAutoNewHost(t *testing.T) {
	dir := t.TempDir()
	b := auto(t, dir, nil, nil)
	caPEM, serverPEM := readFile(t, b.CAFile), readFile(t, b.CertFile)

	b = auto(t, dir, []string{"api.example.test:8443", "10.1.2.3"}, nil)
	if !bytes.Equal(caPEM, readFile(t, b.CAFile)) {
		t.Error("CA changed for a new host")
	}
	if bytes.Equal(serverPEM, readFile(t, b.CertFile)) {
		t.Fatal("server certificate not re-issued for new hosts")
	}
	leaf := parseCert(t, b.CertFile)
	for _, host := range []string{"api.example.test", "10.1.2.3", "localhost", "127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("re-issued certificate: %v", err)
		}
	}

	roots := rootsFrom(t, b.CAFile)
	addr := "127.0.0.1:" + serve(t, "127.0.0.1:0", b.Config())
	if _, err := handshake(addr, "api.example.test", roots, time.Now()); err != nil {
		t.Errorf("handshake as api.example.test: %v", err)
	}
	var hostErr x509.HostnameError
	if _, err := handshake(addr, "other.example.test", roots, time.Now()); !errors.As(err, &hostErr) {
		t.Errorf("handshake as other.example.test: error %v, want x509.HostnameError", err)
	}

	// Fewer hosts than the certificate names: keep it.
	serverPEM = readFile(t, b.CertFile)
	auto(t, dir, []string{"api.example.test"}, nil)
	if !bytes.Equal(serverPEM, readFile(t, b.CertFile)) {
		t.Error("server certificate re-issued though it covers every host")
	}
}

func TestAutoRepairsServerFiles(t *testing.T) {
	other := auto(t, t.TempDir(), nil, nil) // a different CA
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, dir string)
	}{
		{"corrupt server.pem", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "server.pem"), []byte("garbage"))
		}},
		{"missing server-key.pem", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "server-key.pem"))
		}},
		{"key from another pair", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "server-key.pem"), readFile(t, other.KeyFile))
		}},
		{"signed by another CA", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "server.pem"), readFile(t, other.CertFile))
			writeFile(t, filepath.Join(dir, "server-key.pem"), readFile(t, other.KeyFile))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b := auto(t, dir, nil, nil)
			caPEM := readFile(t, b.CAFile)
			tc.spoil(t, dir)

			b = auto(t, dir, nil, nil)
			if b.Created || !bytes.Equal(caPEM, readFile(t, b.CAFile)) {
				t.Error("CA replaced")
			}
			if _, err := tls.LoadX509KeyPair(b.CertFile, b.KeyFile); err != nil {
				t.Fatalf("server pair after repair: %v", err)
			}
			if _, err := parseCert(t, b.CertFile).Verify(x509.VerifyOptions{Roots: rootsFrom(t, b.CAFile)}); err != nil {
				t.Errorf("server certificate after repair: %v", err)
			}
		})
	}
}

func TestAutoRefusesBrokenCA(t *testing.T) {
	other := t.TempDir()
	auto(t, other, nil, nil)
	for _, tc := range []struct {
		name  string
		file  string // the one the error must name
		spoil func(t *testing.T, dir string)
	}{
		{"corrupt ca.pem", "ca.pem", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "ca.pem"), []byte("not a certificate\n"))
		}},
		{"ca.pem is the server certificate", "ca.pem", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "ca.pem"), readFile(t, filepath.Join(dir, "server.pem")))
		}},
		{"corrupt ca-key.pem", "ca-key.pem", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "ca-key.pem"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
		}},
		{"missing ca-key.pem", "ca-key.pem", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "ca-key.pem"))
		}},
		{"ca-key.pem of another CA", "ca-key.pem", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "ca-key.pem"), readFile(t, filepath.Join(other, "ca-key.pem")))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			auto(t, dir, nil, nil)
			tc.spoil(t, dir)
			before := map[string][]byte{}
			for _, name := range []string{"ca.pem", "ca-key.pem"} {
				before[name], _ = os.ReadFile(filepath.Join(dir, name))
			}

			_, err := tlsconf.Auto(dir, nil, nil)
			if err == nil {
				t.Fatal("Auto succeeded")
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, tc.file)) {
				t.Errorf("error %q does not name %s", err, tc.file)
			}
			t.Logf("error: %v", err)
			for name, data := range before {
				if after, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(data, after) {
					t.Errorf("%s was changed", name)
				}
			}
		})
	}
}

func TestAutoReplacesExpiredCA(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	b := auto(t, dir, nil, func() time.Time { return now })
	caPEM := readFile(t, b.CAFile)

	later := now.AddDate(10, 0, 1)
	b = auto(t, dir, nil, func() time.Time { return later })
	if !b.Created || bytes.Equal(caPEM, readFile(t, b.CAFile)) {
		t.Fatal("expired CA not replaced")
	}
	leaf := parseCert(t, b.CertFile)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: rootsFrom(t, b.CAFile), CurrentTime: later}); err != nil {
		t.Errorf("server certificate under the new CA: %v", err)
	}
}

func TestAutoServerCertificateEndsWithCA(t *testing.T) {
	// Ten years on, the CA has less than 397 days left; the server
	// certificate must not outlive it.
	dir := t.TempDir()
	now := time.Now()
	b := auto(t, dir, nil, func() time.Time { return now })
	ca := parseCert(t, b.CAFile)

	later := ca.NotAfter.Add(-100 * day)
	b = auto(t, dir, nil, func() time.Time { return later })
	if b.Created {
		t.Error("CA replaced before it expired")
	}
	if leaf := parseCert(t, b.CertFile); !leaf.NotAfter.Equal(ca.NotAfter) {
		t.Errorf("server certificate ends %v, CA %v", leaf.NotAfter, ca.NotAfter)
	}
}

func TestConfigRenewsWhileServing(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(time.Now())
	b := auto(t, dir, nil, clk.Now)
	roots := rootsFrom(t, b.CAFile)
	addr := "127.0.0.1:" + serve(t, "127.0.0.1:0", b.Config())

	state, err := handshake(addr, "localhost", roots, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	first := state.PeerCertificates[0]

	clk.Set(clk.Now().Add(380 * day))
	state, err = handshake(addr, "localhost", roots, clk.Now())
	if err != nil {
		t.Fatalf("handshake after renewal: %v", err)
	}
	renewed := state.PeerCertificates[0]
	if renewed.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("server kept serving the old certificate inside the renewal window")
	}
	if onDisk := parseCert(t, b.CertFile); !onDisk.Equal(renewed) {
		t.Error("served certificate is not the one written to server.pem")
	}
	if !renewed.NotAfter.After(clk.Now().Add(300 * day)) {
		t.Errorf("renewed certificate ends %v", renewed.NotAfter)
	}
}

func TestConfigKeepsCertificateWhenRenewalFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	clk := newClock(time.Now())
	b := auto(t, dir, nil, clk.Now)
	roots := rootsFrom(t, b.CAFile)
	addr := "127.0.0.1:" + serve(t, "127.0.0.1:0", b.Config())
	state, err := handshake(addr, "localhost", roots, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	first := state.PeerCertificates[0]
	if err := os.RemoveAll(dir); err != nil { // renewal cannot write
		t.Fatal(err)
	}

	clk.Set(first.NotAfter.Add(-day))
	state, err = handshake(addr, "localhost", roots, clk.Now())
	if err != nil {
		t.Fatalf("handshake while renewal fails: %v", err)
	}
	if !state.PeerCertificates[0].Equal(first) {
		t.Error("served certificate changed though renewal failed")
	}

	clk.Set(first.NotAfter.Add(time.Hour))
	if _, err := handshake(addr, "localhost", roots, clk.Now()); err == nil {
		t.Error("handshake succeeded with an expired certificate and no renewal")
	}
}

func TestFiles(t *testing.T) {
	b := auto(t, t.TempDir(), nil, nil)
	other := auto(t, t.TempDir(), nil, nil)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	writeFile(t, garbage, []byte("hello\n"))
	missing := filepath.Join(dir, "missing.pem")

	t.Run("good pair", func(t *testing.T) {
		cfg, err := tlsconf.Files(b.CertFile, b.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MinVersion != tls.VersionTLS12 || !slices.Equal(cfg.NextProtos, []string{"h2", "http/1.1", "http/1.0"}) {
			t.Errorf("MinVersion %x NextProtos %v", cfg.MinVersion, cfg.NextProtos)
		}
		url := "https://localhost:" + serve(t, "127.0.0.1:0", cfg) + "/"
		if resp := get(t, client(rootsFrom(t, b.CAFile), true), url); resp.ProtoMajor != 2 {
			t.Errorf("got %s, want HTTP/2", resp.Proto)
		}
	})

	for _, tc := range []struct {
		name      string
		cert, key string
		want      string
	}{
		{"mismatched key", b.CertFile, other.KeyFile, "tls: --tls-key does not match --tls-cert"},
		{"missing cert", missing, b.KeyFile, "tls: cannot read --tls-cert " + missing + ": no such file or directory"},
		{"missing key", b.CertFile, missing, "tls: cannot read --tls-key " + missing + ": no such file or directory"},
		{"cert not PEM", garbage, b.KeyFile, "tls: --tls-cert " + garbage + ": no PEM certificate found"},
		{"key not PEM", b.CertFile, garbage, "tls: --tls-key " + garbage + ": no PEM private key found"},
		{"swapped", b.KeyFile, b.CertFile, "tls: --tls-cert " + b.KeyFile + ": holds a private key, not a certificate (are --tls-cert and --tls-key swapped?)"},
		{"cert file is a directory", dir, b.KeyFile, "tls: cannot read --tls-cert " + dir + ": is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && strings.HasPrefix(tc.want, "tls: cannot read") {
				t.Skip("OS error text differs")
			}
			_, err := tlsconf.Files(tc.cert, tc.key)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}

	if _, err := tlsconf.Files(missing, b.KeyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v is not fs.ErrNotExist", err)
	}
}

func TestTrustInstructions(t *testing.T) {
	text := tlsconf.TrustInstructions("/home/me/.profileapi/tls/ca.pem")
	for _, want := range []string{
		"NODE_EXTRA_CA_CERTS=/home/me/.profileapi/tls/ca.pem",
		"REQUESTS_CA_BUNDLE=/home/me/.profileapi/tls/ca.pem",
		"SSL_CERT_FILE=/home/me/.profileapi/tls/ca.pem python",
		"keytool -importcert -alias profileapi -file /home/me/.profileapi/tls/ca.pem -keystore profileapi-truststore.jks -storepass changeit -noprompt",
		"-Djavax.net.ssl.trustStore=profileapi-truststore.jks -Djavax.net.ssl.trustStorePassword=changeit",
		"SSL_CERT_FILE=/home/me/.profileapi/tls/ca.pem ./skill",
		"curl --cacert /home/me/.profileapi/tls/ca.pem",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("instructions lack %q:\n%s", want, text)
		}
	}

	if runtime.GOOS != "windows" {
		text = tlsconf.TrustInstructions("/Users/Jo O'Neil/ca.pem")
		if want := `NODE_EXTRA_CA_CERTS='/Users/Jo O'\''Neil/ca.pem' node`; !strings.Contains(text, want) {
			t.Errorf("path with a space and quote not quoted for the shell, want %s:\n%s", want, text)
		}
	}
}

// Processes started together on one directory (several serve on one
// SQLite file, or a script) must end with one authority, which each of
// them serves with: each made its own before, and the last one written
// won on disk, sometimes its key with another's certificate.
func TestAutoStartedTogether(t *testing.T) {
	for round := range 5 {
		dir := t.TempDir()
		const n = 8
		bundles := make([]*tlsconf.Bundle, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { bundles[i], errs[i] = tlsconf.Auto(dir, []string{"localhost"}, nil) })
		}
		wg.Wait()
		created := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d: Auto %d: %v", round, i, errs[i])
			}
			if bundles[i].Created {
				created++
			}
		}
		if created != 1 {
			t.Errorf("round %d: %d of %d calls created the authority, want 1", round, created, n)
		}
		// Every bundle's certificate verifies against the CA on disk.
		roots := x509.NewCertPool()
		caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil || !roots.AppendCertsFromPEM(caPEM) {
			t.Fatalf("round %d: read ca.pem: %v", round, err)
		}
		for i, b := range bundles {
			cert, err := b.Config().GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(cert.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost"}); err != nil {
				t.Errorf("round %d: process %d serves a certificate the CA on disk does not sign: %v", round, i, err)
			}
		}
		if _, err := tlsconf.Auto(dir, []string{"localhost"}, nil); err != nil {
			t.Errorf("round %d: the next start: %v", round, err)
		}
	}
}
