package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi/internal/conntimeout"
)

// FuzzStream sends the same bytes, in two writes split where the fuzzer
// says, to package http1 and to net/http alone, and compares the answers one
// by one: whatever http1 serves, hands over or refuses, a client must not
// tell the two apart (but for Date). This is where a request could be
// framed two ways: read ahead, handed over mid-stream, or cut short.
func FuzzStream(f *testing.F) {
	fast, plain, _ := start(f, http.HandlerFunc(echo))
	for i, a := range seeds {
		b := seeds[(i+7)%len(seeds)]
		f.Add([]byte(a+b), uint16(len(a)))
		f.Add([]byte(a+b), uint16(len(a)/2))
	}
	f.Add([]byte("GET /x HTTP/1.1\r\nHost: a\r\n"), uint16(0))              // cut short
	f.Add([]byte("GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /y HT"), uint16(0)) // the second cut short
	f.Add([]byte("GET /x HTTP/1.1\r\nHost: a\r\n\r\nPOST /y HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbodyGET /z HTTP/1.1\r\nHost: a\r\n\r\n"), uint16(30))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		// HEAD and CONNECT answers cannot be read without knowing the
		// request; a long stream only takes longer.
		if len(data) > 8<<10 || bytes.Contains(data, []byte("HEAD")) || bytes.Contains(data, []byte("CONNECT")) {
			return
		}
		at := min(int(split), len(data))
		got, want := converse(t, fast, data, at), converse(t, plain, data, at)
		if got != want {
			t.Errorf("%q split at %d:\n got %s\nwant %s", data, at, got, want)
		}
	})
}

// converse sends data in two writes, half-closes, and describes the
// answers until the server closes.
func converse(t *testing.T, addr string, data []byte, split int) string {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	if _, err := c.Write(data[:split]); err != nil {
		t.Fatal(err)
	}
	if split > 0 && split < len(data) {
		time.Sleep(2 * time.Millisecond) // so the server is likely to read it alone
	}
	if _, err := c.Write(data[split:]); err != nil {
		return "write: " + err.Error()
	}
	_ = c.(*net.TCPConn).CloseWrite()
	br := bufio.NewReader(c)
	var out strings.Builder
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
				fmt.Fprintf(&out, "[%v]", err)
			}
			return out.String()
		}
		body, err := io.ReadAll(resp.Body)
		resp.Header.Del("Date")
		fmt.Fprintf(&out, "[%s %v close=%v %q", resp.Status, resp.Header, resp.Close, body)
		if err != nil && !isReset(err) {
			fmt.Fprintf(&out, " body error %v", err)
		}
		out.WriteString("]")
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

// TestPipelinedAnswers: an answer goes out when its handler returns, not
// when the next pipelined request's does, and a panic in that next one
// does not lose it.
func TestPipelinedAnswers(t *testing.T) {
	release := make(chan struct{})
	fast, _, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			<-release
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	get := func(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n" }
	for _, second := range []string{"/slow", "/abort"} {
		c := dial(t, fast)
		_, _ = io.WriteString(c, get("/ok")+get(second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("/ok then %s: %v", second, err)
		}
		if body, _ := io.ReadAll(resp.Body); string(body) != "/ok" {
			t.Errorf("/ok then %s: first answer %q", second, body)
		}
		if second == "/slow" {
			close(release)
			if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("second answer: %v, %v", resp, err)
			}
		} else if _, err := http.ReadResponse(br, nil); err == nil {
			t.Error("an answer to a request whose handler panicked")
		}
		c.Close()
	}
}

// TestHangUp: over a listener of package conntimeout, a client that hangs
// up while its handler runs ends the request's context, as net/http's
// background read would.
func TestHangUp(t *testing.T) {
	ended := make(chan error, 1)
	started := make(chan struct{})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			select {
			case <-r.Context().Done():
				ended <- context.Cause(r.Context())
			case <-time.After(10 * time.Second):
				ended <- nil
			}
		}),
		ReadHeaderTimeout: 40 * time.Millisecond, // a sweep every 10 ms
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(srv)
	go func() { _ = s.Serve(conntimeout.Apply(srv, ln)) }()
	defer s.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	c.Close()
	if err := <-ended; err == nil {
		t.Error("the request's context did not end when its client hung up")
	}
}

// TestTimeoutsRefused: Serve does not take a server whose timeouts it
// would not enforce.
func TestTimeoutsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := New(&http.Server{ReadTimeout: time.Second}).Serve(ln); !errors.Is(err, errTimeouts) {
		t.Errorf("Serve: %v, want errTimeouts", err)
	}
}

// TestByteByByte: a head that comes a byte at a time is served, and one
// with a malformed line is handed to net/http as soon as the line is in,
// which answers it at once, as it would have alone.
func TestByteByByte(t *testing.T) {
	var mu sync.Mutex
	handedOver := false
	fast, _, _ := start(t, http.HandlerFunc(echo), func(srv *http.Server) {
		srv.ConnState = func(nc net.Conn, st http.ConnState) {
			if _, ok := nc.(*handedConn); ok {
				mu.Lock()
				handedOver = true
				mu.Unlock()
			}
		}
	})
	send := func(c net.Conn, s string) {
		for i := range len(s) {
			if _, err := c.Write([]byte{s[i]}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Microsecond) // a read each, most often
		}
	}
	for _, tc := range []struct {
		raw    string
		status int
		handed bool
	}{
		{"GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n", http.StatusOK, false},
		// No blank line: net/http answers the bad line without one.
		{"GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n", http.StatusBadRequest, true},
	} {
		mu.Lock()
		handedOver = false
		mu.Unlock()
		c := dial(t, fast)
		send(c, tc.raw)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil {
			t.Fatalf("%q: %v", tc.raw, err)
		}
		mu.Lock()
		got := handedOver
		mu.Unlock()
		if resp.StatusCode != tc.status || got != tc.handed {
			t.Errorf("%q: %s, handed over %v; want %d, %v", tc.raw, resp.Status, got, tc.status, tc.handed)
		}
	}
}
