package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The files Auto keeps in its directory.
const (
	caCertName     = "ca.pem"
	caKeyName      = "ca-key.pem"
	serverCertName = "server.pem"
	serverKeyName  = "server-key.pem"
)

const (
	caYears = 10
	// serverValidity stays under the 398 days Apple platforms accept.
	serverValidity = 397 * 24 * time.Hour
	// renewWindow is how long before expiry the server certificate is replaced.
	renewWindow = 30 * 24 * time.Hour
	// backdate puts NotBefore in the past, for clients whose clocks lag ours.
	backdate = time.Hour
	// retryInterval spaces out renewal attempts made while serving.
	retryInterval = time.Minute
)

// Bundle is the local certificate authority and server certificate kept by
// Auto. Its Config serves the server certificate and renews it while running.
type Bundle struct {
	// CAFile is the certificate of the local certificate authority: the file
	// clients must trust.
	CAFile string
	// CertFile is the server certificate, PEM, leaf only.
	CertFile string
	// KeyFile is the server certificate's private key, PEM, mode 0600.
	KeyFile string
	// Created reports whether this call to Auto created the certificate
	// authority, so the caller prints TrustInstructions once.
	Created bool

	ca    authority
	names sans
	now   func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	renewAt time.Time // when cert enters the renewal window
	retryAt time.Time // no renewal attempt before this
}

// authority is a loaded certificate authority.
type authority struct {
	cert  *x509.Certificate
	key   crypto.Signer
	roots *x509.CertPool
}

// Auto returns the certificate material kept in dir, creating what is missing.
//
// On first use it creates dir (mode 0700) and, in it, a local certificate
// authority (ca.pem, ca-key.pem; ECDSA P-256, valid 10 years) and a server
// certificate signed by it (server.pem, server-key.pem) for localhost,
// 127.0.0.1, ::1 and each of hosts. Hosts may be DNS names or IP literals,
// with or without a port.
//
// Later calls reuse both. The server certificate is re-issued, by the same
// authority, when it expires within 30 days, lacks one of the hosts, does not
// verify against the authority, or is unreadable. The authority itself is
// replaced only once it has expired; if its files are unreadable or do not
// belong together Auto returns an error naming the file rather than replace
// a certificate clients were told to trust.
//
// Private keys are written with mode 0600, each file atomically. now is the
// clock; nil means time.Now.
func Auto(dir string, hosts []string, now func() time.Time) (*Bundle, error) {
	if now == nil {
		now = time.Now
	}
	names, err := parseHosts(append(append([]string(nil), defaultHosts...), hosts...))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tls: create %s: %w", dir, err)
	}
	b := &Bundle{
		CAFile:   filepath.Join(dir, caCertName),
		CertFile: filepath.Join(dir, serverCertName),
		KeyFile:  filepath.Join(dir, serverKeyName),
		names:    names,
		now:      now,
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	t := now()
	b.ca, b.Created, err = loadOrCreateCA(b.CAFile, filepath.Join(dir, caKeyName), t)
	if err != nil {
		return nil, err
	}
	cert, err := b.loadOrIssueServer(t)
	if err != nil {
		return nil, err
	}
	b.use(cert)
	return b, nil
}

// Config returns TLS settings for one listener: TLS 1.2 or later, HTTP/2
// offered, and the server certificate, which is re-issued (or re-read, if
// another process renewed it) once it nears expiry, with no restart.
//
// The certificate is supplied through GetCertificate; code that fills
// Certificates, as httptest.Server.StartTLS does, would bypass it.
func (b *Bundle) Config() *tls.Config {
	c := newConfig()
	c.GetCertificate = b.certificate
	return c
}

// certificate is the Config's GetCertificate. If renewal fails it keeps
// serving the current certificate, retrying a minute later, until that
// certificate expires; then the error reaches the server's log.
func (b *Bundle) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if now.Before(b.renewAt) || now.Before(b.retryAt) {
		return b.cert, nil
	}
	b.retryAt = now.Add(retryInterval)
	cert, err := b.loadOrIssueServer(now)
	if err != nil {
		if now.After(b.cert.Leaf.NotAfter) {
			return nil, err
		}
		return b.cert, nil
	}
	b.use(cert)
	return b.cert, nil
}

// use makes cert the one served. The caller holds b.mu or owns b.
func (b *Bundle) use(cert *tls.Certificate) {
	b.cert = cert
	b.renewAt = cert.Leaf.NotAfter.Add(-renewWindow)
}

// loadOrCreateCA loads the authority in certFile and keyFile, or creates it
// if certFile does not exist or has expired; created reports which. An
// orphaned keyFile, left by a crash before certFile was written, is replaced:
// no client can trust a certificate that was never written.
func loadOrCreateCA(certFile, keyFile string, now time.Time) (ca authority, created bool, err error) {
	certPEM, err := os.ReadFile(certFile)
	if errors.Is(err, fs.ErrNotExist) {
		ca, err := createCA(certFile, keyFile, now)
		return ca, err == nil, err
	}
	if err != nil {
		return authority{}, false, fmt.Errorf("tls: read %s: %w", certFile, err)
	}
	certs, err := parseCertPEM(certPEM)
	if err != nil {
		return authority{}, false, fmt.Errorf("tls: %s: %w (move it and %s away to create a new local CA)", certFile, err, caKeyName)
	}
	cert := certs[0]
	if !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return authority{}, false, fmt.Errorf("tls: %s is not a certificate authority (move it and %s away to create a new local CA)", certFile, caKeyName)
	}
	if !now.Before(cert.NotAfter) {
		ca, err := createCA(certFile, keyFile, now)
		return ca, err == nil, err
	}

	keyPEM, err := os.ReadFile(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return authority{}, false, fmt.Errorf("tls: %s is missing but %s exists: restore the key, or move %s away to create a new local CA", keyFile, caCertName, caCertName)
	}
	if err != nil {
		return authority{}, false, fmt.Errorf("tls: read %s: %w", keyFile, err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return authority{}, false, fmt.Errorf("tls: %s: %w", keyFile, err)
	}
	if !keyMatches(key, cert) {
		return authority{}, false, fmt.Errorf("tls: %s does not match %s", keyFile, certFile)
	}
	return newAuthority(cert, key), false, nil
}

func newAuthority(cert *x509.Certificate, key crypto.Signer) authority {
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return authority{cert: cert, key: key, roots: roots}
}

// createCA writes a new authority, the key first so that a crash between the
// two writes leaves no certificate without its key.
func createCA(certFile, keyFile string, now time.Time) (authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return authority{}, fmt.Errorf("tls: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return authority{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "profileapi local CA", Organization: []string{"profileapi"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(caYears, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true, // encode pathlen 0: sign server certificates, not other CAs
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return authority{}, fmt.Errorf("tls: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return authority{}, fmt.Errorf("tls: create CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return authority{}, fmt.Errorf("tls: encode CA key: %w", err)
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return authority{}, err
	}
	if err := writeFileAtomic(certFile, encodeCert(der), 0o644); err != nil {
		return authority{}, err
	}
	return newAuthority(cert, key), nil
}

// loadOrIssueServer returns the server certificate on disk if it is still
// good at now, and a newly issued one otherwise.
func (b *Bundle) loadOrIssueServer(now time.Time) (*tls.Certificate, error) {
	if cert, ok := b.loadServer(now); ok {
		return cert, nil
	}
	return b.issueServer(now)
}

// loadServer reports whether the server certificate on disk can be kept:
// readable, matching its key, verifying against the authority for server
// use, naming every host and more than renewWindow from expiry.
func (b *Bundle) loadServer(now time.Time) (*tls.Certificate, bool) {
	certPEM, err := os.ReadFile(b.CertFile)
	if err != nil {
		return nil, false
	}
	keyPEM, err := os.ReadFile(b.KeyFile)
	if err != nil {
		return nil, false
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, false
	}
	if cert.Leaf == nil { // GODEBUG=x509keypairleaf=0
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, false
		}
	}
	leaf := cert.Leaf
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots:       b.ca.roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil || !now.Add(renewWindow).Before(leaf.NotAfter) || !b.names.coveredBy(leaf) {
		return nil, false
	}
	return &cert, true
}

// issueServer writes a new server certificate signed by the authority, the
// key first; a crash in between leaves a pair that loadServer rejects.
func (b *Bundle) issueServer(now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls: generate server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(serverValidity)
	if notAfter.After(b.ca.cert.NotAfter) {
		notAfter = b.ca.cert.NotAfter // a certificate cannot outlive its issuer
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "profileapi server", Organization: []string{"profileapi"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              b.names.dns,
		IPAddresses:           b.names.netIPs(),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, b.ca.cert, key.Public(), b.ca.key)
	if err != nil {
		return nil, fmt.Errorf("tls: create server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tls: create server certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, fmt.Errorf("tls: encode server key: %w", err)
	}
	if err := writeFileAtomic(b.KeyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(b.CertFile, encodeCert(der), 0o644); err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// randomSerial returns a positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("tls: serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}
