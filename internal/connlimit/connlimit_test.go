package connlimit_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/profileapi/profileapi/internal/connlimit"
)

// serve runs srv capped at max on a real listener, and returns its address.
func serve(t *testing.T, srv *http.Server, max int, full func()) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	capped := connlimit.Apply(srv, ln, max, full)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(capped) }()
	t.Cleanup(func() {
		srv.Close()
		select {
		case err := <-done:
			if err != http.ErrServerClosed {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close: Accept waits at the cap")
		}
	})
	return ln.Addr().String()
}

// call sends a keep-alive GET on a new connection and reads the answer's
// status line within wait, or reports "" if none came.
func call(t *testing.T, c net.Conn, wait time.Duration) string {
	t.Helper()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return ""
	}
	return strings.TrimSpace(line)
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// At the cap, a new connection waits until one is closed; the counting
// survives the chained ConnState.
func TestCapWaitsForAClose(t *testing.T) {
	var states atomic.Int32
	var fulls atomic.Int32
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		ConnState: func(net.Conn, http.ConnState) { states.Add(1) },
	}
	addr := serve(t, srv, 2, func() { fulls.Add(1) })

	a, b := dial(t, addr), dial(t, addr)
	for _, c := range []net.Conn{a, b} {
		if got := call(t, c, 5*time.Second); got != "HTTP/1.1 200 OK" {
			t.Fatalf("a call under the cap: %q", got)
		}
	}
	third := dial(t, addr) // the kernel accepts it; the server does not yet
	if got := call(t, third, 300*time.Millisecond); got != "" {
		t.Fatalf("a third connection at a cap of 2 was answered: %q", got)
	}
	// Called once the cap was reached, when net/http's next Accept began
	// to wait: before the third connection, which cannot tell.
	if fulls.Load() == 0 {
		t.Error("full was not called at the cap")
	}
	a.Close()
	_ = third.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(third).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "HTTP/1.1 200 OK" {
		t.Fatalf("once a connection closed, the third got %q, %v", line, err)
	}
	if states.Load() == 0 {
		t.Error("the server's own ConnState was not called")
	}
}

// A hijacked connection is the handler's: it no longer counts.
func TestHijackedFreesItsSlot(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hijack" {
			c, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
				// Kept open: the client closes it.
			}
		}
	})}
	addr := serve(t, srv, 1, nil)
	h := dial(t, addr)
	if _, err := h.Write([]byte("GET /hijack HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(h).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("hijack: %q, %v", line, err)
	}
	if got := call(t, dial(t, addr), 5*time.Second); got != "HTTP/1.1 200 OK" {
		t.Fatalf("after a hijack at a cap of 1: %q", got)
	}
}

// No cap: the listener is ln itself.
func TestNoCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := connlimit.Apply(&http.Server{}, ln, 0, nil); got != ln {
		t.Errorf("Apply(max 0) = %v, want ln", got)
	}
}
