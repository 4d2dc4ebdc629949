package tlsconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Files returns TLS settings serving the PEM certificate and private key the
// operator gave with --tls-cert and --tls-key. certFile holds the server
// certificate first, then any intermediates. Errors name the flag and file
// and say what is wrong: unreadable, not PEM, swapped, or a key that does not
// belong to the certificate.
func Files(certFile, keyFile string) (*tls.Config, error) {
	certPEM, err := readFlagFile("--tls-cert", certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readFlagFile("--tls-key", keyFile)
	if err != nil {
		return nil, err
	}
	certs, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("tls: --tls-cert %s: %w%s", certFile, err, swappedHint(certPEM, "PRIVATE KEY"))
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tls: --tls-key %s: %w%s", keyFile, err, swappedHint(keyPEM, "CERTIFICATE"))
	}
	if !keyMatches(key, certs[0]) {
		return nil, errors.New("tls: --tls-key does not match --tls-cert")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tls: --tls-cert %s with --tls-key %s: %w", certFile, keyFile, err)
	}
	c := newConfig()
	c.Certificates = []tls.Certificate{cert}
	return c, nil
}

// readFlagFile reads the file given to flag.
func readFlagFile(flag, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return nil, fmt.Errorf("tls: cannot read %s %s: %w", flag, path, err)
	}
	return data, nil
}

// swappedHint suggests the two flags were swapped when a file holds the
// other flag's kind of PEM block.
func swappedHint(data []byte, otherType string) string {
	if hasPEMType(data, otherType) {
		return " (are --tls-cert and --tls-key swapped?)"
	}
	return ""
}
