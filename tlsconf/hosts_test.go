package tlsconf

import "testing"

// FuzzParseHost checks that any --tls host input is either refused or
// normalized to a name or address that parses back to itself.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"localhost", "api.example.test:8443", "[::1]:443", "fe80::1%eth0", "10.0.0.5", "*.x.test", "Host.Test.", "https://x/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		name, ip, err := parseHost(h)
		if err != nil {
			return
		}
		var again string
		switch {
		case ip.IsValid():
			again = ip.String()
		case name != "":
			again = name
		default:
			return
		}
		name2, ip2, err := parseHost(again)
		if err != nil || name2 != name || ip2 != ip {
			t.Errorf("parseHost(%q) = %q, %v; again: %q, %v, %v", h, name, ip, name2, ip2, err)
		}
	})
}
