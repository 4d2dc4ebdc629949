package conntimeout

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testServer is a real http.Server serving on a listener from Apply.
type testServer struct {
	srv  *http.Server
	l    *listener
	addr string
	tls  *tls.Config // client side, or nil for plain HTTP

	// Counted by the server's own ConnState hook, which Apply chains.
	opened, closed atomic.Int32
}

// start serves srv through Apply, over TLS when withTLS is set; the
// cleanup closes it and checks that the sweeper stops.
func start(t *testing.T, srv *http.Server, withTLS bool) *testServer {
	t.Helper()
	return startOn(t, srv, withTLS, nil)
}

// startOn is start with the TCP listener wrapped by wrap, if not nil,
// before Apply.
func startOn(t *testing.T, srv *http.Server, withTLS bool, wrap func(net.Listener) net.Listener) *testServer {
	t.Helper()
	ts := &testServer{srv: srv}
	if srv.Handler == nil {
		srv.Handler = http.HandlerFunc(answer)
	}
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			ts.opened.Add(1)
		case http.StateClosed:
			ts.closed.Add(1)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	ts.addr = ln.Addr().String()
	l, ok := Apply(srv, ln).(*listener)
	if !ok {
		t.Fatal("Apply did not wrap the listener")
	}
	ts.l = l
	served := make(chan error, 1)
	if withTLS {
		cert, roots := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		ts.tls = &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
		go func() { served <- srv.ServeTLS(l, "", "") }()
	} else {
		go func() { served <- srv.Serve(l) }()
	}
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		select {
		case <-l.stopped:
		case <-time.After(2 * time.Second):
			t.Error("the sweeper still runs 2 s after Close")
		}
	})
	return ts
}

// answer echoes the request, after sleeping for its ?sleep= duration.
func answer(w http.ResponseWriter, r *http.Request) {
	if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, body)
}

func (ts *testServer) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	if ts.tls != nil {
		tc := tls.Client(c, ts.tls)
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		c = tc
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (ts *testServer) client(http2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: ts.tls, ForceAttemptHTTP2: http2}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func (ts *testServer) url() string {
	if ts.tls != nil {
		return "https://" + ts.addr
	}
	return "http://" + ts.addr
}

// roundTrip sends a GET of path on c and reads the whole answer.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, path string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %q %v", path, resp.StatusCode, b, err)
	}
	return string(b)
}

// waitClose reads c until the server closes it, and returns how long after
// since that was, and what the server sent. A server that holds c for 5 s
// fails the test.
func waitClose(t *testing.T, c net.Conn, since time.Time) (time.Duration, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	held := time.Since(since)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server still holds the connection after %v", held.Round(time.Millisecond))
	}
	return held, string(b)
}

// stall sends partial, then a header line every 20 ms, never ending the
// headers, until the server closes c; it returns how long after since
// that was, and what the server answered.
func stall(t *testing.T, c net.Conn, since time.Time, partial string) (time.Duration, string) {
	t.Helper()
	if _, err := io.WriteString(c, partial); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				// Fails once the server has closed: waitClose sees it.
				if _, err := fmt.Fprintf(c, "X-Slow-%d: 1\r\n", i); err != nil {
					return
				}
			}
		}
	}()
	held, got := waitClose(t, c, since)
	close(stop)
	wg.Wait()
	return held, got
}

// within fails the test unless d is in [lo, hi].
func within(t *testing.T, what string, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d > hi {
		t.Errorf("%s after %v, want between %v and %v", what, d.Round(time.Millisecond), lo, hi)
	} else {
		t.Logf("%s after %v", what, d.Round(time.Millisecond))
	}
}

// slowHeaders checks the read-header bound, on a new connection and on a
// kept-alive one, over ts (plain or TLS). The idle and write bounds are
// long, so closing well before them shows the read-header bound did it.
func slowHeaders(t *testing.T, withTLS bool) {
	const header = 200 * time.Millisecond
	ts := start(t, &http.Server{ReadHeaderTimeout: header, IdleTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second}, withTLS)

	t.Run("NewConnection", func(t *testing.T) {
		t.Parallel()
		since := time.Now()
		c := ts.dial(t)
		held, got := stall(t, c, since, "GET / HTTP/1.1\r\nHost: slow\r\n")
		// Over TLS the bound also covers the handshake: up to twice as long.
		within(t, "a client stalling in its headers was dropped", held, header, 2*time.Second)
		if got != "" {
			t.Errorf("the server answered a client still sending its headers: %q", got)
		}
	})
	t.Run("KeptAlive", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		br := bufio.NewReader(c)
		for range 3 {
			roundTrip(t, c, br, "/first")
		}
		held, got := stall(t, c, time.Now(), "GET /second HTTP/1.1\r\n")
		within(t, "a kept-alive client stalling in its next request's headers was dropped", held, header, 2*time.Second)
		if got != "" {
			t.Errorf("the server answered a client still sending its headers: %q", got)
		}
	})
}

func TestSlowHeaders(t *testing.T)    { slowHeaders(t, false) }
func TestSlowHeadersTLS(t *testing.T) { slowHeaders(t, true) }

// TestIdle: a kept-alive connection with no request is closed after the
// idle timeout; one that sends requests more often stays open through many
// of them, for longer than every timeout.
func TestIdle(t *testing.T) {
	const idle = 300 * time.Millisecond
	ts := start(t, &http.Server{ReadHeaderTimeout: 3 * time.Second, IdleTimeout: idle, ReadTimeout: 400 * time.Millisecond, WriteTimeout: 400 * time.Millisecond}, false)

	t.Run("Quiet", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		roundTrip(t, c, bufio.NewReader(c), "/")
		held, got := waitClose(t, c, time.Now())
		// The server goes idle just after it sends the answer: allow a little.
		within(t, "an idle connection was closed", held, idle-50*time.Millisecond, 2*time.Second)
		if got != "" {
			t.Errorf("unexpected bytes on an idle connection: %q", got)
		}
	})
	t.Run("Busy", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		br := bufio.NewReader(c)
		const n = 20 // 20 × 100 ms: longer than any timeout
		for i := range n {
			path := fmt.Sprintf("/busy/%d", i)
			if got, want := roundTrip(t, c, br, path+"?sleep=20ms"), "GET "+path+" "; got != want {
				t.Fatalf("answer %d: %q, want %q", i, got, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("%d requests on one connection over %v", n, n*100*time.Millisecond)
	})
}

// TestSlowHandler: a handler still running once the request's read and
// write deadlines have passed has its connection closed, and its context
// cancelled; one that finishes in time answers.
func TestSlowHandler(t *testing.T) {
	const read, write = 200 * time.Millisecond, 300 * time.Millisecond
	cancelled := make(chan struct{}, 1)
	srv := &http.Server{
		ReadTimeout: read, WriteTimeout: write, IdleTimeout: 3 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/slow" {
				answer(w, r)
				return
			}
			select {
			case <-time.After(5 * time.Second):
				io.WriteString(w, "too late")
			case <-r.Context().Done():
				cancelled <- struct{}{}
			}
		}),
	}
	ts := start(t, srv, false)

	c := ts.dial(t)
	br := bufio.NewReader(c)
	if got := roundTrip(t, c, br, "/quick?sleep=100ms"); got != "GET /quick " {
		t.Errorf("a handler within the bounds answered %q", got)
	}
	since := time.Now()
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
	held, got := waitClose(t, c, since)
	within(t, "a connection whose handler ran on was closed", held, write, 2*time.Second)
	if got != "" {
		t.Errorf("a handler past its bounds answered: %q", got)
	}
	select {
	case <-cancelled:
	case <-time.After(2 * time.Second):
		t.Error("the handler's context was not cancelled when its connection was closed")
	}
}

// TestBackgroundRead: no request reads its socket beyond the request, as
// net/http's background read would for every one, and the requests are
// read whole all the same: one after another, pipelined in one write, one
// sent while the handler of the one before runs, and one with a body.
func TestBackgroundRead(t *testing.T) {
	var oneByte atomic.Int32
	release := make(chan struct{})
	ts := startOn(t, &http.Server{
		ReadHeaderTimeout: time.Second, IdleTimeout: 3 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/wait" {
				<-release
			}
			answer(w, r)
		}),
	}, false, func(ln net.Listener) net.Listener { return countingListener{ln, &oneByte, nil} })

	c := ts.dial(t)
	br := bufio.NewReader(c)
	for i := range 20 {
		if got, want := roundTrip(t, c, br, fmt.Sprintf("/%d", i)), fmt.Sprintf("GET /%d ", i); got != want {
			t.Fatalf("answered %q, want %q", got, want)
		}
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /a HTTP/1.1\r\nHost: test\r\n\r\nPOST /b HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nbody")
	for _, want := range []string{"GET /a ", "POST /b body"} {
		if got := readAnswer(t, br); got != want {
			t.Errorf("a pipelined request answered %q, want %q", got, want)
		}
	}
	io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: test\r\n\r\n")
	time.Sleep(50 * time.Millisecond) // the handler waits
	io.WriteString(c, "GET /next HTTP/1.1\r\nHost: test\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	close(release)
	for _, want := range []string{"GET /wait ", "GET /next "} {
		if got := readAnswer(t, br); got != want {
			t.Errorf("answered %q, want %q", got, want)
		}
	}
	if n := oneByte.Load(); n != 0 {
		t.Errorf("%d reads of one byte reached the socket over 24 requests, want 0", n)
	}
}

// TestOneByteRefill: a read of one byte that is not the background read
// goes through: net/http's buffer refills with one when it holds 4095
// bytes of a chunk-size line (4096 with its CRLF, which net/http allows)
// and the last byte has not come yet. The client sends that byte once
// such a read has reached the socket.
func TestOneByteRefill(t *testing.T) {
	gate := newRefillGate()
	ts := startOn(t, &http.Server{ReadHeaderTimeout: time.Second, IdleTimeout: 3 * time.Second}, false, gate.wrap)
	c := ts.dial(t)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	rest := gate.sendLongChunkLine(t, c)
	io.WriteString(c, rest+"hello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: test\r\n\r\n")
	br := bufio.NewReader(c)
	for _, want := range []string{"POST /chunked hello", "GET /next "} {
		if got := readAnswer(t, br); got != want {
			t.Errorf("answered %q, want %q", got, want)
		}
	}
}

// refillGate counts the reads of one byte that reach the sockets of a
// listener, and closes refilled at the first.
type refillGate struct {
	oneByte  atomic.Int32
	refilled chan struct{}
	once     sync.Once
}

func newRefillGate() *refillGate { return &refillGate{refilled: make(chan struct{})} }

func (g *refillGate) wrap(ln net.Listener) net.Listener {
	return countingListener{ln, &g.oneByte, func() { g.once.Do(func() { close(g.refilled) }) }}
}

// sendLongChunkLine sends a chunked POST /chunked up to the last byte of a
// chunk-size line 4096 bytes long, waits for the server's read of that
// byte, and returns what is left of the line to send.
func (g *refillGate) sendLongChunkLine(t *testing.T, c net.Conn) (rest string) {
	t.Helper()
	line := "5;x=" + strings.Repeat("a", 4096-len("5;x=")-2) + "\r\n"
	io.WriteString(c, "POST /chunked HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"+line[:4095])
	select {
	case <-g.refilled:
	case <-time.After(5 * time.Second):
		t.Fatal("no read of one byte reached the socket: the server's buffer never held 4095 bytes of the line")
	}
	return line[4095:]
}

// TestClientHangsUp: the context of a request whose client hangs up while
// its handler runs ends within a few ticks, with the cause.
func TestClientHangsUp(t *testing.T) {
	ts, h := startWatched(t, 5*time.Second, nil, nil)
	c := ts.dial(t)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: test\r\n\r\n")
	h.waitRunning(t)
	since := time.Now()
	c.Close()
	err := <-h.ended
	if !errors.Is(err, errHungUp) {
		t.Fatalf("the handler's context ended with %v, want %v", err, errHungUp)
	}
	within(t, "the handler's context ended", time.Since(since), 0, time.Second)
}

// TestHalfCloseBeforeBody: as with net/http, a client that half-closes
// its connection is not taken to have hung up while the handler has not
// read the request's body: only then does the watch begin.
func TestHalfCloseBeforeBody(t *testing.T) {
	ts, h := startWatched(t, 300*time.Millisecond, nil, nil)
	c := ts.dial(t)
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nbody")
	h.waitRunning(t)
	c.(*net.TCPConn).CloseWrite()
	if err := <-h.ended; err != nil {
		t.Errorf("the context of a handler that had not read the body ended: %v", err)
	}
}

// TestHalfCloseAfterRefill: a read of one byte in the middle of the body,
// which goes through, does not start the watch either.
func TestHalfCloseAfterRefill(t *testing.T) {
	gate := newRefillGate()
	ts, h := startWatched(t, 300*time.Millisecond, gate.wrap, func(r *http.Request) error {
		var b [1]byte
		_, err := io.ReadFull(r.Body, b[:])
		return err
	})
	c := ts.dial(t)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	rest := gate.sendLongChunkLine(t, c)
	io.WriteString(c, rest+"hello\r\n0\r\n\r\n")
	c.(*net.TCPConn).CloseWrite()
	if err := <-h.ended; err != nil {
		t.Errorf("the context of a handler that had read one byte of the body ended: %v", err)
	}
}

// watched is a handler that runs before, if set, then reports on ended
// how its request's context ended: with its cause, or nil if it had not
// after wait (or before's error). running is closed once it runs.
type watched struct {
	running chan struct{}
	ended   chan error
}

// startWatched serves a watched handler, through wrap if set, with a tick
// of 10 ms, from the idle bound, which a first request is not held to.
func startWatched(t *testing.T, wait time.Duration, wrap func(net.Listener) net.Listener, before func(*http.Request) error) (*testServer, *watched) {
	t.Helper()
	h := &watched{running: make(chan struct{}), ended: make(chan error, 1)}
	ts := startOn(t, &http.Server{
		ReadHeaderTimeout: time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 40 * time.Millisecond,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(h.running)
			if before != nil {
				if err := before(r); err != nil {
					h.ended <- err
					return
				}
			}
			select {
			case <-r.Context().Done():
				h.ended <- context.Cause(r.Context())
			case <-time.After(wait):
				h.ended <- nil
			}
		}),
	}, false, wrap)
	return ts, h
}

func (h *watched) waitRunning(t *testing.T) {
	t.Helper()
	select {
	case <-h.running:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not run")
	}
}

// TestHijackedReadsOneByte: a hijacked connection reads one byte as any
// other read; only net/http's own reads while a handler runs are skipped.
func TestHijackedReadsOneByte(t *testing.T) {
	got := make(chan string, 1)
	ts := start(t, &http.Server{
		ReadHeaderTimeout: time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				got <- err.Error()
				return
			}
			defer c.Close()
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			var b [1]byte
			n, err := c.Read(b[:])
			got <- fmt.Sprintf("%d %q %v", n, b[:n], err)
		}),
	}, false)

	c := ts.dial(t)
	br := bufio.NewReader(c)
	roundTrip(t, c, br, "/")
	io.WriteString(c, "x")
	if s := <-got; s != `1 "x" <nil>` {
		t.Errorf("a hijacked connection's Read of one byte: %s, want 1 \"x\" <nil>", s)
	}
}

// countingListener counts the reads of one byte that reach the sockets it
// accepts, and calls seen, if set, at each.
type countingListener struct {
	net.Listener
	oneByte *atomic.Int32
	seen    func()
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{c.(*net.TCPConn), l}, nil
}

// countingConn keeps the TCP connection's methods, SyscallConn among them.
type countingConn struct {
	*net.TCPConn
	l countingListener
}

func (c *countingConn) Read(p []byte) (int, error) {
	if len(p) == 1 {
		c.l.oneByte.Add(1)
		if c.l.seen != nil {
			c.l.seen()
		}
	}
	return c.TCPConn.Read(p)
}

// readAnswer reads one 200 answer from br and returns its body.
func readAnswer(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %q %v", resp.StatusCode, b, err)
	}
	return string(b)
}

// TestHijacked: a hijacked connection is the handler's, never swept.
func TestHijacked(t *testing.T) {
	const bound = 100 * time.Millisecond
	ts := start(t, &http.Server{
		ReadHeaderTimeout: bound, ReadTimeout: bound, WriteTimeout: bound, IdleTimeout: bound,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			go func() {
				defer c.Close()
				time.Sleep(8 * bound)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nlater")
			}()
		}),
	}, false)

	c := ts.dial(t)
	br := bufio.NewReader(c)
	if got := roundTrip(t, c, br, "/"); got != "later" {
		t.Errorf("the hijacked connection answered %q, want %q", got, "later")
	}
	ts.l.mu.Lock()
	n := len(ts.l.conns)
	ts.l.mu.Unlock()
	if n != 0 {
		t.Errorf("%d connections still watched after a hijack, want 0", n)
	}
}

// TestTLS: over TLS, HTTP/1.1 and HTTP/2 answer as without Apply. An
// HTTP/2 connection with a stream open longer than every bound is not
// cut, and is closed after the idle timeout once it has none.
func TestTLS(t *testing.T) {
	const idle = 300 * time.Millisecond
	ts := start(t, &http.Server{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, IdleTimeout: idle}, true)

	t.Run("HTTP1", func(t *testing.T) {
		c := ts.client(false)
		defer c.CloseIdleConnections()
		for i := range 5 {
			resp, err := c.Post(ts.url()+"/one", "text/plain", strings.NewReader(fmt.Sprint(i)))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != fmt.Sprintf("POST /one %d", i) || resp.ProtoMajor != 1 {
				t.Fatalf("%s %d %q", resp.Proto, resp.StatusCode, b)
			}
		}
	})
	t.Run("HTTP2", func(t *testing.T) {
		c := ts.client(true)
		defer c.CloseIdleConnections()
		opened := ts.opened.Load()
		get := func(path string) error {
			resp, err := c.Get(ts.url() + path)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "GET /") || resp.ProtoMajor != 2 {
				return fmt.Errorf("%s: %s %d %q", path, resp.Proto, resp.StatusCode, b)
			}
			return nil
		}
		if err := get("/first"); err != nil {
			t.Fatal(err)
		}
		long := make(chan error, 1)
		go func() { long <- get("/long?sleep=1s") }()
		for i := range 10 {
			if err := get(fmt.Sprintf("/short/%d?sleep=50ms", i)); err != nil {
				t.Error(err)
			}
		}
		if err := <-long; err != nil {
			t.Errorf("a stream open for 1 s: %v", err)
		}
		if n := ts.opened.Load() - opened; n != 1 {
			t.Errorf("%d connections for the HTTP/2 requests, want 1", n)
		}
		since, closed := time.Now(), ts.closed.Load()
		for ts.closed.Load() == closed {
			if time.Since(since) > 5*time.Second {
				t.Fatal("an idle HTTP/2 connection still open after 5 s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		within(t, "an idle HTTP/2 connection was closed", time.Since(since), idle-50*time.Millisecond, 2*time.Second)
	})
}

// TestKeepAliveAndShutdown: answers on a kept-alive connection are as
// net/http gives them, Shutdown drains, and the sweeper stops.
func TestKeepAliveAndShutdown(t *testing.T) {
	srv := &http.Server{ReadHeaderTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second}
	ts := start(t, srv, false)
	c := ts.client(false)
	for i := range 10 {
		resp, err := c.Post(ts.url()+"/echo", "text/plain", strings.NewReader(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != fmt.Sprintf("POST /echo %d", i) || resp.Header.Get("Content-Length") != fmt.Sprint(len(b)) {
			t.Fatalf("answer %d: %d %v %q", i, resp.StatusCode, resp.Header, b)
		}
	}
	if n := ts.opened.Load(); n != 1 {
		t.Errorf("%d connections for 10 requests, want 1 kept alive", n)
	}
	if srv.ReadHeaderTimeout != 0 || srv.ReadTimeout != 0 || srv.WriteTimeout != 0 || srv.IdleTimeout != 0 {
		t.Errorf("Apply left net/http's timeouts set: %+v", srv)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-ts.l.stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("the sweeper still runs 2 s after Shutdown")
	}
	if _, err := c.Get(ts.url()); err == nil {
		t.Error("a request after Shutdown was answered")
	}
}

func TestApplyWithoutTimeouts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := &http.Server{}
	if got := Apply(srv, ln); got != ln || srv.ConnState != nil {
		t.Error("Apply wrapped a listener whose server has no timeout")
	}
}

func TestLimits(t *testing.T) {
	const ms = int64(time.Millisecond)
	for _, tc := range []struct {
		name string
		srv  *http.Server
		want limits
	}{
		{"all", &http.Server{ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second, IdleTimeout: 4 * time.Second},
			limits{header: 1000 * ms, handshake: 1000 * ms, idle: 4000 * ms, read: 2000 * ms, write: 3000 * ms, tick: 250 * ms}},
		{"fallbacks to ReadTimeout", &http.Server{ReadTimeout: 2 * time.Second},
			limits{header: 2000 * ms, handshake: 2000 * ms, idle: 2000 * ms, read: 2000 * ms, tick: 500 * ms}},
		{"write only", &http.Server{WriteTimeout: 8 * time.Second},
			limits{handshake: 8000 * ms, write: 8000 * ms, tick: 1000 * ms}},
		{"short", &http.Server{ReadHeaderTimeout: 20 * time.Millisecond},
			limits{header: 20 * ms, handshake: 20 * ms, tick: 10 * ms}},
		{"negative idle is none", &http.Server{ReadTimeout: time.Second, IdleTimeout: -1},
			limits{header: 1000 * ms, handshake: 1000 * ms, read: 1000 * ms, tick: 250 * ms}},
		{"none", &http.Server{}, limits{}},
	} {
		if got := limitsOf(tc.srv); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "conntimeout test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// BenchmarkRequest compares a kept-alive request's cost under net/http's
// own timeouts and under Apply.
func BenchmarkRequest(b *testing.B) {
	for _, apply := range []bool{false, true} {
		name := "deadlines"
		if apply {
			name = "sweeper"
		}
		b.Run(name, func(b *testing.B) {
			srv := &http.Server{
				ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			addr := ln.Addr().String()
			if apply {
				ln = Apply(srv, ln)
			}
			go srv.Serve(ln)
			defer srv.Close()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			req := []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// deadlineListener counts the deadlines that reach the socket: the clears
// of one it does not have, and the others.
type deadlineListener struct {
	net.Listener
	redundant, set *atomic.Int32
}

func (l deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &deadlineConn{TCPConn: c.(*net.TCPConn), l: l}, nil
}

type deadlineConn struct {
	*net.TCPConn
	l             deadlineListener
	set, writeSet bool // calls come one at a time, under conn.deadlineMu
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() && !c.set {
		c.l.redundant.Add(1)
	} else if !t.IsZero() {
		c.l.set.Add(1)
	}
	c.set = !t.IsZero()
	return c.TCPConn.SetReadDeadline(t)
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() && !c.writeSet {
		c.l.redundant.Add(1)
	} else if !t.IsZero() {
		c.l.set.Add(1)
	}
	c.writeSet = !t.IsZero()
	return c.TCPConn.SetWriteDeadline(t)
}

// TestNoDeadlinesReachTheSocket: with its timeouts left to the sweeper,
// net/http clears the read deadline a few times a request and the write
// deadline once though none is set, and stops its background read, which
// has mostly not run yet when the handler returns, with a deadline in the
// past and a clear; none of that reaches the socket, and no request's
// context ends for it. Over TLS, the background read is a read in the
// socket (tls.Conn reads a whole record), which only a deadline there
// stops: only the clears stay off the socket.
func TestNoDeadlinesReachTheSocket(t *testing.T) {
	for _, withTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("TLS=%v", withTLS), func(t *testing.T) {
			var redundant, set, ended atomic.Int32
			ts := startOn(t, &http.Server{
				ReadHeaderTimeout: time.Second, IdleTimeout: 3 * time.Second,
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Context().Err() != nil {
						ended.Add(1)
					}
					answer(w, r)
				}),
			}, withTLS, func(ln net.Listener) net.Listener { return deadlineListener{ln, &redundant, &set} })
			c := ts.dial(t)
			br := bufio.NewReader(c)
			for i := range 50 {
				if got, want := roundTrip(t, c, br, fmt.Sprintf("/%d", i)), fmt.Sprintf("GET /%d ", i); got != want {
					t.Fatalf("answered %q, want %q", got, want)
				}
			}
			if n := redundant.Load(); n != 0 {
				t.Errorf("%d calls in 50 requests cleared a deadline the socket did not have", n)
			}
			if n := set.Load(); n != 0 && !withTLS {
				t.Errorf("%d calls in 50 requests set a deadline on the socket", n)
			}
			if n := ended.Load(); n != 0 {
				t.Errorf("%d requests of 50 began with their context ended", n)
			}
		})
	}
}

// handled serves one request, which send writes, with handle, and returns
// what handle returned.
func handled[T any](t *testing.T, handle func(rc *http.ResponseController, r *http.Request) T, send func(c net.Conn)) T {
	t.Helper()
	got := make(chan T, 1)
	ts := startOn(t, &http.Server{
		ReadHeaderTimeout: time.Second, IdleTimeout: 3 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- handle(http.NewResponseController(w), r)
		}),
	}, false, nil)
	send(ts.dial(t))
	select {
	case v := <-got:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not end")
		panic("unreachable")
	}
}

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestHandlerStopsItsReads: a read deadline in the past, as net/http sets
// to stop its background read and a handler may set to stop reading a
// body, holds for every read after it until cleared.
func TestHandlerStopsItsReads(t *testing.T) {
	err := handled(t, func(rc *http.ResponseController, r *http.Request) error {
		if _, err := io.ReadFull(r.Body, make([]byte, 3)); err != nil {
			return fmt.Errorf("before the stop: %w", err)
		}
		if err := rc.SetReadDeadline(time.Unix(1, 0)); err != nil {
			return fmt.Errorf("the stop: %w", err)
		}
		_, err := io.ReadAll(r.Body) // the rest comes later
		return err
	}, func(c net.Conn) {
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc")
		time.Sleep(300 * time.Millisecond)
		io.WriteString(c, "defghij")
	})
	if !isTimeout(err) {
		t.Errorf("the body's read after the stop ended with %v, want a timeout", err)
	}
}

// TestStopReachesABlockedRead: a read deadline in the past, set while a
// read waits in the socket (by another goroutine of the handler), stops
// that read: this one the socket must be told of.
func TestStopReachesABlockedRead(t *testing.T) {
	err := handled(t, func(rc *http.ResponseController, r *http.Request) error {
		stop := time.AfterFunc(200*time.Millisecond, func() { rc.SetReadDeadline(time.Unix(1, 0)) })
		defer stop.Stop()
		_, err := io.ReadAll(r.Body) // the rest never comes
		return err
	}, func(c net.Conn) {
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc")
	})
	if !isTimeout(err) {
		t.Errorf("the body's read ended with %v, want a timeout", err)
	}
}

// TestStopCleared: reads stopped by a deadline in the past go through
// again once it is cleared.
func TestStopCleared(t *testing.T) {
	got := handled(t, func(rc *http.ResponseController, r *http.Request) string {
		rc.SetReadDeadline(time.Unix(1, 0))
		if _, err := r.Body.Read(make([]byte, 1)); err == nil {
			return "a read after the stop went through"
		}
		rc.SetReadDeadline(time.Time{})
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err.Error()
		}
		return string(b)
	}, func(c net.Conn) {
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
		io.WriteString(c, "abcdefghij")
	})
	if got != "abcdefghij" {
		t.Errorf("after the clear, the body read %q, want abcdefghij", got)
	}
}

// TestStoppedHijacked: on a hijacked connection, a read deadline in the
// past that the socket was not told of behaves as the socket's would: a
// read after Close learns it is closed; SetDeadline clears it; and
// SetDeadline's write deadline is cleared by a clear of the write deadline.
func TestStoppedHijacked(t *testing.T) {
	steps := make(chan string, 3)
	ts := startOn(t, &http.Server{
		ReadHeaderTimeout: time.Second, IdleTimeout: 3 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, br, err := http.NewResponseController(w).Hijack()
			if err != nil {
				steps <- err.Error()
				return
			}
			defer c.Close()
			c.SetReadDeadline(time.Unix(1, 0))
			c.SetDeadline(time.Time{})
			b := make([]byte, 5)
			if _, err := io.ReadFull(br, b); err != nil || string(b) != "hello" {
				steps <- fmt.Sprintf("after SetDeadline cleared the stop, read %q, %v", b, err)
				return
			}
			steps <- "read"
			c.SetDeadline(time.Unix(1, 0))
			c.SetWriteDeadline(time.Time{})
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
				steps <- "after the write deadline was cleared, the write failed: " + err.Error()
				return
			}
			steps <- "wrote"
			c.SetReadDeadline(time.Unix(1, 0))
			c.Close()
			if _, err := c.Read(b); !errors.Is(err, net.ErrClosed) {
				steps <- fmt.Sprintf("a read after the stop and Close failed with %v, want net.ErrClosed", err)
				return
			}
			steps <- "closed"
		}),
	}, false, nil)
	c := ts.dial(t)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: test\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	io.WriteString(c, "hello")
	for _, want := range []string{"read", "wrote", "closed"} {
		select {
		case got := <-steps:
			if got != want {
				t.Fatal(got)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the handler did not get to %q", want)
		}
	}
}

// wrapped is a connection wrapped as package http1 wraps the ones it hands
// to net/http.
type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

// TestSecondConnContext: a connection given a context twice (by package http1,
// then by net/http after http1 hands it over) ends the first, which would
// otherwise stay among its parent's children for the process's life.
func TestSecondConnContext(t *testing.T) {
	srv := &http.Server{ReadHeaderTimeout: time.Second}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Apply(srv, raw)
	defer ln.Close()
	client, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := srv.ConnContext(base, nc)
	second := srv.ConnContext(base, wrapped{nc})
	if first.Err() == nil {
		t.Error("the first context lives on after the second")
	}
	if second.Err() != nil {
		t.Errorf("the second context ended: %v", second.Err())
	}
	nc.Close()
	if second.Err() == nil {
		t.Error("the second context lives on after the connection closed")
	}
}
