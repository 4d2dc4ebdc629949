package http1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	head := []byte(seeds[0])
	b.ReportAllocs()
	for b.Loop() {
		if r, _ := parse(head, &http.Request{RemoteAddr: "192.0.2.1:1234"}); r == nil {
			b.Fatal("not served")
		}
	}
}

// BenchmarkServe sends requests one after the other on a loopback
// connection, to package http1 and to net/http alone, with a handler that
// answers a constant: what each costs a request, client included.
func BenchmarkServe(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		_, _ = io.WriteString(w, `{"email":"someone@example.com"}`)
	})
	b.Run("http1", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		s := New(&http.Server{Handler: h})
		go func() { _ = s.Serve(ln) }()
		defer s.Close()
		benchmarkServe(b, ln.Addr().String())
	})
	b.Run("net-http", func(b *testing.B) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		benchmarkServe(b, srv.Listener.Addr().String())
	})
}

func benchmarkServe(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte(seeds[0])
	br := bufio.NewReader(c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status, err)
		}
	}
}
