package tlsconf

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// defaultHosts are always in the server certificate, so a local client works
// whatever name or loopback address it dials.
var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// sans are the subject alternative names a server certificate must carry.
type sans struct {
	dns []string
	ips []netip.Addr
}

// CheckHosts reports, as Auto would, a host that is neither a DNS name nor
// an IP address, so that a caller can refuse it before it creates anything.
func CheckHosts(hosts []string) error {
	_, err := parseHosts(hosts)
	return err
}

// parseHosts turns host names, IP literals and host:port pairs into
// deduplicated SANs, in the order first seen. Empty entries are skipped.
func parseHosts(hosts []string) (sans, error) {
	var s sans
	seen := make(map[string]bool)
	for _, h := range hosts {
		name, ip, err := parseHost(h)
		if err != nil {
			return sans{}, err
		}
		switch {
		case ip.IsValid():
			if !seen[ip.String()] {
				seen[ip.String()] = true
				s.ips = append(s.ips, ip)
			}
		case name != "":
			if !seen[name] {
				seen[name] = true
				s.dns = append(s.dns, name)
			}
		}
	}
	return s, nil
}

// parseHost returns either a lower-case DNS name or an IP address for h,
// with any port, brackets, zone or trailing dot removed, or neither if h is
// blank.
func parseHost(h string) (string, netip.Addr, error) {
	s := strings.TrimSpace(h)
	if s == "" {
		return "", netip.Addr{}, nil
	}
	if host, port, err := net.SplitHostPort(s); err == nil && isPort(port) {
		s = host
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		// A zone is local to one machine and cannot be put in a certificate.
		return "", ip.WithZone("").Unmap(), nil
	}
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if ip, err := netip.ParseAddr(s); err == nil {
		// "10.0.0.5." is the address with a root dot, not a name.
		return "", ip.WithZone("").Unmap(), nil
	}
	if !validDNSName(s) {
		return "", netip.Addr{}, fmt.Errorf("tls: invalid host %q: want a DNS name or an IP address", h)
	}
	return s, netip.Addr{}, nil
}

// isPort reports whether s is a decimal port number, so that the "https" of
// "https://host" is not taken for a host.
func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validDNSName reports whether s is an ASCII host name, optionally with a
// leading "*." wildcard label. Internationalized names must be given in
// their xn-- form.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for i, l := range labels {
		if l == "*" && i == 0 && len(labels) > 2 {
			continue
		}
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// coveredBy reports whether cert names every one of s.
func (s sans) coveredBy(cert *x509.Certificate) bool {
	for _, name := range s.dns {
		found := false
		for _, have := range cert.DNSNames {
			if strings.EqualFold(name, have) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, ip := range s.ips {
		found := false
		for _, have := range cert.IPAddresses {
			if have.Equal(ip.AsSlice()) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// netIPs returns s.ips in the form x509 templates take.
func (s sans) netIPs() []net.IP {
	ips := make([]net.IP, len(s.ips))
	for i, ip := range s.ips {
		ips[i] = ip.AsSlice()
	}
	return ips
}
