package http1

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// echo answers with what it was asked, as JSON.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/no-content":
		w.WriteHeader(http.StatusNoContent)
		return
	case "/hints":
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
	case "/plain":
		_, _ = io.WriteString(w, "<html>hello</html>")
		return
	case "/bad-header":
		w.Header()["X-Injected"] = []string{"a\r\nSet-Cookie: b"}
		w.Header()["Bad Name"] = []string{"c"}
	case "/close":
		w.Header().Set("Connection", "close")
	case "/teapot":
		w.WriteHeader(http.StatusTeapot)
	case "/odd-status":
		w.WriteHeader(599)
	}
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(map[string]any{
		"method": r.Method, "url": r.URL.String(), "path": r.URL.Path, "rawQuery": r.URL.RawQuery,
		"host": r.Host, "header": r.Header, "proto": r.Proto, "close": r.Close,
		"requestURI": r.RequestURI, "remote": r.RemoteAddr != "", "body": string(body),
		"server": r.Context().Value(http.ServerContextKey) != nil,
		"local":  r.Context().Value(http.LocalAddrContextKey) != nil,
	})
	// With its length, so that net/http does not chunk a long one.
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// start serves h with package http1 and, for comparison, with net/http alone.
// configure, if given, sets up the http1 server's http.Server first.
func start(t testing.TB, h http.Handler, configure ...func(*http.Server)) (fast, plain string, s *Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}
	for _, f := range configure {
		f(srv)
	}
	s = New(srv)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v, want http.ErrServerClosed", err)
		}
	})
	ref := httptest.NewServer(h)
	ref.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(ref.Close)
	return ln.Addr().String(), ref.Listener.Addr().String(), s
}

// exchange sends raw on a new connection and reads one answer.
func exchange(t *testing.T, addr, raw, method string) (*http.Response, string) {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%q: body: %v", raw, err)
	}
	return resp, string(body)
}

// TestSameAnswers sends the same requests to package http1 and to net/http
// alone: the answers must match, whether http1 served them or handed them
// over, but for Date.
func TestSameAnswers(t *testing.T) {
	fast, plain, _ := start(t, http.HandlerFunc(echo))
	big := "GET /x HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 6000) + "\r\n\r\n"
	huge := "GET /x HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 2<<20) + "\r\n\r\n"
	requests := append(slices.Clone(seeds), big, huge,
		"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
		"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
		"GET /x HTTP/1.1\r\nHost: a\r\nExpect: nonsense\r\n\r\n",
		"GET /x HTTP/2.0\r\nHost: a\r\n\r\n",
		"BREW /x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /no-content HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /plain HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /bad-header HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /close HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /teapot HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /odd-status HTTP/1.1\r\nHost: a\r\n\r\n",
	)
	for _, raw := range requests {
		method, _, _ := strings.Cut(raw, " ")
		got, gotBody := exchange(t, fast, raw, method)
		want, wantBody := exchange(t, plain, raw, method)
		if got.Status != want.Status || gotBody != wantBody {
			t.Errorf("%.80q:\n got %s %q\nwant %s %q", raw, got.Status, gotBody, want.Status, wantBody)
		}
		got.Header.Del("Date")
		want.Header.Del("Date")
		if !headersMatch(got, want) {
			t.Errorf("%.80q: header\n got %v %v\nwant %v %v", raw, got.Header, got.TransferEncoding, want.Header, want.TransferEncoding)
		}
		if got.Close != want.Close {
			t.Errorf("%.80q: close %v, net/http %v", raw, got.Close, want.Close)
		}
	}
}

// headersMatch compares two answers' headers, where net/http may send a
// body chunked that package http1 sends with its length.
func headersMatch(got, want *http.Response) bool {
	if got.ContentLength != want.ContentLength && !(want.ContentLength == -1 && slices.Equal(want.TransferEncoding, []string{"chunked"})) {
		return false
	}
	g, w := got.Header.Clone(), want.Header.Clone()
	delete(g, "Content-Length")
	delete(w, "Content-Length")
	return fmt.Sprint(g) == fmt.Sprint(w)
}

// TestEarlyHints: a 1xx answer goes out before the final one, with the
// header as it was then.
func TestEarlyHints(t *testing.T) {
	fast, _, _ := start(t, http.HandlerFunc(echo))
	c := dial(t, fast)
	defer c.Close()
	_, _ = io.WriteString(c, "GET /hints HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	hint, err := br.ReadString('\n')
	if err != nil || hint != "HTTP/1.1 103 Early Hints\r\n" {
		t.Fatalf("first line %q, %v", hint, err)
	}
	var link bool
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		link = link || strings.HasPrefix(line, "Link: </style.css>")
	}
	if !link {
		t.Error("the 103 has no Link")
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Link") != "" {
		t.Fatalf("final answer %v, %v", resp, err)
	}
}

// TestOneConnection sends requests one after the other on a connection,
// some pipelined, some for net/http: each gets its answer, in order, and
// the connection's states are reported as net/http reports them.
func TestOneConnection(t *testing.T) {
	var mu sync.Mutex
	var states []string
	fast, _, _ := start(t, http.HandlerFunc(echo), func(srv *http.Server) {
		srv.ConnState = func(nc net.Conn, st http.ConnState) {
			mu.Lock()
			defer mu.Unlock()
			kind := "own"
			if _, ok := nc.(*handedConn); ok {
				kind = "handed"
			}
			states = append(states, kind+" "+st.String())
		}
	})
	c := dial(t, fast)
	br := bufio.NewReader(c)
	get := func(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n" }
	read := func(method, wantPath string) {
		t.Helper()
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		var e struct{ Path, Method string }
		if method != http.MethodHead {
			if err := json.Unmarshal(body, &e); err != nil || e.Path != wantPath || e.Method != method {
				t.Fatalf("answer %q, want %s %s", body, method, wantPath)
			}
		}
	}
	// Three pipelined GETs in one write.
	_, _ = io.WriteString(c, get("/1")+get("/2")+get("/3"))
	read("GET", "/1")
	read("GET", "/2")
	read("GET", "/3")
	// A GET, then a POST for net/http pipelined behind it, then a GET
	// that net/http serves too.
	_, _ = io.WriteString(c, get("/4")+"POST /5 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
	read("GET", "/4")
	read("POST", "/5")
	_, _ = io.WriteString(c, get("/6"))
	read("GET", "/6")
	c.Close()

	want := []string{"own new", "own active", "own idle", "own active", "own idle", "own active", "own idle", "own active", "own idle",
		"handed new", "handed active", "handed idle", "handed active", "handed idle", "handed closed"}
	// The last states come from the server's goroutines after the
	// client has its answers: wait for them, up to a bound.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := slices.Clone(states)
		mu.Unlock()
		if slices.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("states\n%q\nwant\n%q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdown: idle connections close, a request in flight is answered
// and its connection closed after it, and new connections are refused.
func TestShutdown(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		_, _ = io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(&http.Server{Handler: h})
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	_ = idle.SetDeadline(time.Now().Add(10 * time.Second))
	idleBr := bufio.NewReader(idle)
	_, _ = io.WriteString(idle, "GET /quick HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, err := http.ReadResponse(idleBr, nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("first answer: %v, %v", resp, err)
	} else if body, _ := io.ReadAll(resp.Body); string(body) != "done" {
		t.Fatalf("first answer %q", body)
	}

	busy, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_ = busy.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started

	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	// The idle connection is closed.
	if _, err := idleBr.ReadByte(); err != io.EOF {
		t.Errorf("idle connection: %v, want EOF", err)
	}
	// Shutdown must still be waiting: there is no event for "has not
	// returned", so give it a moment to return wrongly.
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != "done" || !resp.Close {
		t.Errorf("in-flight answer %q, close %v; want done, closing", body, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v, want http.ErrServerClosed", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("a connection was accepted after Shutdown")
	}
}

// TestShutdownDeadline: Shutdown gives up when its context ends.
func TestShutdownDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	fast, _, s := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	}))
	c, err := net.Dial("tcp", fast)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want its context's end", err)
	}
}

// TestPanic: a handler's panic is logged and closes its connection, as
// net/http does; the server goes on.
func TestPanic(t *testing.T) {
	var logged bytes.Buffer
	var mu sync.Mutex
	fast, _, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		_, _ = io.WriteString(w, "ok")
	}), func(srv *http.Server) {
		srv.ErrorLog = log.New(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return logged.Write(p)
		}), "", 0)
	})
	c := dial(t, fast)
	defer c.Close()
	_, _ = io.WriteString(c, "GET /panic HTTP/1.1\r\nHost: a\r\n\r\n")
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read %d bytes, %v; want EOF", n, err)
	}
	mu.Lock()
	if !strings.Contains(logged.String(), "panic serving") || !strings.Contains(logged.String(), "boom") {
		t.Errorf("log %q", logged.String())
	}
	mu.Unlock()
	if resp, body := exchange(t, fast, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET"); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Errorf("after the panic: %s %q", resp.Status, body)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// dial connects to addr, with a deadline on everything that follows, so a
// server that never answers fails the test instead of hanging it.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}
