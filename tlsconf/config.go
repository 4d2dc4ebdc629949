package tlsconf

import "crypto/tls"

// newConfig returns the settings both listeners share. Go's default cipher
// suites and curves are already a sound choice, so only the floor is raised.
func newConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Listing h2 lets net/http serve HTTP/2 to clients that offer it;
		// a client that offers only http/1.0 would otherwise be refused.
		NextProtos: []string{"h2", "http/1.1", "http/1.0"},
	}
}
