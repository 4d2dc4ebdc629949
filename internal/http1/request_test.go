package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// served are requests as clients send them, which parse serves.
var served = []string{
	// curl
	"GET /v2/accounts/~current/settings/Profile.email HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nAuthorization: Bearer abc.def.ghi\r\n\r\n",
	// Go's client
	"GET /eu/v2/accounts/~current/settings/Profile.name HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\nAuthorization: Bearer x\r\nAccept-Encoding: gzip\r\n\r\n",
	// Node.js, lower-case names and keep-alive
	"GET /v2/accounts/~current/settings/Profile.mobileNumber HTTP/1.1\r\nauthorization: Bearer x\r\naccept: application/json\r\nhost: api.example.com\r\nconnection: keep-alive\r\n\r\n",
	"GET /x?a=1&b=%20 HTTP/1.1\r\nHost: [::1]:80\r\nConnection: close\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nX-Bin: caf\xc3\xa9\r\n\r\n",
}

// handed are requests, well-formed or not, that parse leaves to net/http.
var handed = []string{
	"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /x HTTP/1.1\nHost: a\n\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nX: b\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost : a\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a@b\r\n\r\n",
	"GET /x HTTP/1.1\r\n\r\n",
	"GET /x HTTP/1.0\r\nHost: a\r\n\r\n",
	"GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
	"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a b\r\n\r\n",
	"GET /x#f HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /x  HTTP/1.1\r\nHost: a\r\n\r\n",
	"\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n",
}

var seeds = append(slices.Clone(served), handed...)

// FuzzParse holds parse to net/http's parser: whatever parse accepts,
// http.ReadRequest reads as the same request, with the same length, and
// net/http's server would not refuse it.
func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		end := bytes.Index(data, crlfcrlf)
		if end < 0 {
			return
		}
		head := data[:end+len(crlfcrlf)]
		got, keepAlive := parse(head, &http.Request{RemoteAddr: "192.0.2.1:1234"})
		if got == nil {
			return
		}
		br := bufio.NewReader(bytes.NewReader(data))
		want, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("parse accepted %q, net/http refuses it: %v", head, err)
		}
		if rest, _ := io.ReadAll(br); !bytes.Equal(rest, data[len(head):]) {
			t.Fatalf("parse read %d bytes of %q, net/http %d", len(head), data, len(data)-len(rest))
		}
		// net/http's server checks the Host beyond ReadRequest, which
		// takes it out of the header. (What else the server refuses,
		// FuzzStream finds.)
		hosts := 0
		for line := range strings.SplitSeq(string(head), "\r\n") {
			if name, _, _ := strings.Cut(line, ":"); strings.EqualFold(name, "Host") {
				hosts++
			}
		}
		if hosts != 1 {
			t.Fatalf("parse accepted %q with %d Host headers", head, hosts)
		}
		if want.ContentLength != 0 || want.Body != http.NoBody || len(want.TransferEncoding) != 0 {
			t.Fatalf("parse accepted %q, which has a body for net/http", head)
		}
		want.RemoteAddr = "192.0.2.1:1234"
		for _, c := range []struct {
			name      string
			got, want any
		}{
			{"Method", got.Method, want.Method},
			{"URL", got.URL, want.URL},
			{"Proto", got.Proto, want.Proto},
			{"ProtoMajor", got.ProtoMajor, want.ProtoMajor},
			{"ProtoMinor", got.ProtoMinor, want.ProtoMinor},
			{"Header", got.Header, want.Header},
			{"Host", got.Host, want.Host},
			{"RequestURI", got.RequestURI, want.RequestURI},
			{"Close", got.Close, want.Close},
			{"keep-alive", keepAlive, !want.Close},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%q: %s %#v, net/http %#v", head, c.name, c.got, c.want)
			}
		}
	})
}

// TestParseServes checks that parse serves the common requests, and none
// that net/http must judge.
func TestParseServes(t *testing.T) {
	for _, s := range seeds {
		want := slices.Contains(served, s)
		head := []byte(s)
		if end := bytes.Index(head, crlfcrlf); end >= 0 {
			head = head[:end+len(crlfcrlf)]
		}
		if r, _ := parse(head, &http.Request{}); (r != nil) != want {
			t.Errorf("parse(%q) served: %v, want %v", s, r != nil, want)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	r, keepAlive := parse([]byte(served[4]), &http.Request{})
	if r == nil || !keepAlive {
		t.Fatalf("parse(%q) = %v, %v", served[4], r, keepAlive)
	}
	want := http.Header{"X-A": {"1", "2"}, "X-Empty": {""}, "X-Tab": {"v"}}
	if !reflect.DeepEqual(r.Header, want) {
		t.Errorf("header %v, want %v", r.Header, want)
	}
	// The values share one array: an append to one must not overwrite
	// the next.
	r.Header["X-A"] = append(r.Header["X-A"], "3")
	r.Header["X-Empty"] = append(r.Header["X-Empty"], "e")
	if got := strings.Join(r.Header["X-A"], ","); got != "1,2,3" {
		t.Errorf("X-A %q after appends", got)
	}
	if r, keepAlive := parse([]byte(served[3]), &http.Request{}); r == nil || keepAlive || !r.Close || r.URL.RawQuery != "a=1&b=%20" || r.Host != "[::1]:80" {
		t.Errorf("parse(%q) = %+v, keep-alive %v", served[3], r, keepAlive)
	}
}
