package http1

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// parse returns the request whose line and headers are head (through the
// blank line), as net/http would build it, and whether the client keeps
// the connection alive after it; or nil if it is not a request this
// package serves, and net/http is to read it. The request is a copy of
// tmpl, which holds what the connection's requests share (its context,
// RemoteAddr): a context set by copying is one allocation less than
// WithContext.
//
// Every byte of head is checked: a request line of exactly "GET ",
// visible ASCII from "/", and " HTTP/1.1"; header lines of a token, a
// colon and a value without control characters but tab. So a line ended
// by LF alone, obsolete line folding, a space before a colon, or a
// request that ends elsewhere than head suggests, is net/http's to judge.
func parse(head []byte, tmpl *http.Request) (*http.Request, bool) {
	const prefix, proto = "GET ", " HTTP/1.1\r\n"
	if len(head) < len(prefix) || string(head[:len(prefix)]) != prefix {
		return nil, false
	}
	s := string(head) // one allocation; every string below is a slice of it
	rest := s[len(prefix):]
	end := strings.IndexByte(rest, ' ')
	if end <= 0 || rest[0] != '/' || !strings.HasPrefix(rest[end:], proto) {
		return nil, false
	}
	target := rest[:end]
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return nil, false
		}
	}
	rest = rest[end+len(proto):]

	lines := strings.Count(rest, "\r\n") - 1 // the last ends the head
	header := make(http.Header, lines)
	values := make([]string, lines)
	host, hosts, keepAlive := "", 0, true
	for i := 0; ; i++ {
		line, more, _ := strings.Cut(rest, "\r\n")
		rest = more
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validName(name) || !validValue(value) {
			return nil, false
		}
		value = textproto.TrimString(value)
		key := textproto.CanonicalMIMEHeaderKey(name)
		switch key {
		case "Host":
			if hosts++; hosts > 1 || !validHost(value) {
				return nil, false
			}
			host = value
			continue // net/http keeps it in Request.Host only
		case "Connection":
			switch {
			case strings.EqualFold(value, "close"):
				keepAlive = false
			case !strings.EqualFold(value, "keep-alive"):
				return nil, false
			}
		case "Content-Length", "Transfer-Encoding", "Expect", "Upgrade", "Trailer", "Pragma", "Http2-Settings":
			// A body, a promise of one, a change of protocol, or a header
			// net/http rewrites: net/http's to handle.
			return nil, false
		}
		values[i] = value
		if vs, ok := header[key]; ok {
			header[key] = append(vs, value)
		} else {
			header[key] = values[i : i+1 : i+1]
		}
	}
	if hosts != 1 {
		return nil, false
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, false
	}
	r := new(http.Request)
	*r = *tmpl
	r.Method = http.MethodGet
	r.URL = u
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.Header = header
	r.Body = http.NoBody
	r.Host = host
	r.RequestURI = target
	r.Close = !keepAlive
	return r, keepAlive
}

// validName reports whether s is a non-empty token (RFC 9110, 5.6.2).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c < 0x80 && strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validValue reports whether s holds no control character but tab.
// Bytes from 0x80 (obs-text) are allowed, as net/http allows them.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether s is a host name or address with an optional
// port, in the characters such a Host has; anything else (empty, user
// info, percent-encoding) is net/http's to judge.
func validHost(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}
