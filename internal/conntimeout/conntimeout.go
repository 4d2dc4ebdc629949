// Package conntimeout enforces an http.Server's ReadHeaderTimeout,
// ReadTimeout, WriteTimeout and IdleTimeout with one sweeper goroutine per
// listener, instead of the connection deadlines net/http sets around every
// request: each of those arms, moves or stops a runtime timer, about a
// microsecond of CPU per request on a busy listener. Here a request costs
// a few atomic operations, reads of the monotonic clock and uncontended
// locks (see conn.SetReadDeadline).
//
// The sweeper is coarse: it closes a connection no earlier than its
// timeout and about a tick after it (later if it is woken late), a tick
// being a quarter of the smallest timeout, within [10ms, 1s]. Where
// net/http would fail a read or a write with a timeout error, the sweeper
// closes the connection.
//
// The sweeper also watches for a client that hangs up while its handler
// runs. net/http does that for every HTTP/1 request with a goroutine that
// reads one byte, once the request's body has been read, and stops it when
// the handler returns by moving the read deadline into the past and back;
// when the goroutine runs before the handler has returned, as it often
// does on a busy server, its read is a system call and a park in the
// network poller. On plain HTTP, that read returns at once here, having
// read nothing (the goroutine is still started), and on each tick the
// sweeper peeks at the sockets of the connections whose handler has run for
// a tick or more, past its request's body. A client that hung up ends its
// request's context within about two ticks, rather than at once; closing a
// connection, as the sweeper does when a timeout passes, ends it at once. A
// hijacked connection's context ends when it is closed. (Over TLS, the TLS
// layer reads at least 512 bytes from the connection: net/http's own watch
// stays.)
//
// With its timeouts zeroed, net/http still clears the read deadline a few
// times a request; that reaches the socket only when a deadline is set
// there (see conn.SetReadDeadline).
//
// It is meant for HTTP/1.x. HTTP/2 (over TLS, when the server offers "h2")
// takes its per-stream read and write timeouts from the same Server fields,
// which Apply zeroes: such connections keep only the bounds the sweeper can
// enforce on a whole connection, see Apply.
package conntimeout

import (
	"context"
	"net"
	"net/http"
	"time"
)

// Apply moves srv's ReadHeaderTimeout, ReadTimeout, WriteTimeout and
// IdleTimeout into a sweeper that enforces them on the connections of the
// returned listener, zeroes them in srv, and chains srv.ConnState and
// srv.ConnContext. Serve srv (Serve or ServeTLS) on the returned listener,
// and only on it; the sweeper stops once the listener is closed, as Serve,
// Shutdown and Close do, and its last connection is gone. ln must hand
// over connections with no read or write deadline set. With no timeout
// set, Apply changes nothing and returns ln.
//
// The phases of a connection, as net/http bounds them:
//   - before its first request, from accept to the end of the request's
//     headers: ReadHeaderTimeout (falling back to ReadTimeout), plus, over
//     TLS, the handshake's own bound (the smallest of the three timeouts);
//   - waiting for a further request, nothing of it read yet: IdleTimeout
//     (falling back to ReadTimeout);
//   - from the first byte of a further request to the end of its headers:
//     ReadHeaderTimeout (falling back to ReadTimeout);
//   - from the end of the headers until the handler has answered: until
//     both the read deadline (ReadTimeout after the request's first byte)
//     and the write deadline (WriteTimeout after its headers) have passed.
//     Past both, net/http would fail every further body read and response
//     write, so closing loses nothing it would have delivered; before
//     either, a connection could still be answered. A sweeper cannot tell
//     a handler reading the body from one writing the answer, so with
//     WriteTimeout zero this phase has no bound (net/http would still
//     bound the body read by ReadTimeout).
//
// A zero timeout leaves its phase unbounded. An HTTP/2 connection gets the
// first bound and, while it has no stream open, IdleTimeout; it gets none
// while streams are open, since it multiplexes them and closing it would
// cut every one: its per-stream ReadTimeout and WriteTimeout are lost.
// Unencrypted HTTP/2 (srv.Protocols) is not supported.
func Apply(srv *http.Server, ln net.Listener) net.Listener {
	lim := limitsOf(srv)
	if lim.tick == 0 {
		return ln
	}
	l := newListener(ln, lim)
	srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = 0, 0, 0, 0
	next := srv.ConnState
	srv.ConnState = func(nc net.Conn, s http.ConnState) {
		l.setState(nc, s)
		if next != nil {
			next(nc, s)
		}
	}
	nextCtx := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, nc net.Conn) context.Context {
		if nextCtx != nil {
			ctx = nextCtx(ctx, nc)
		}
		if c := l.find(nc); c != nil {
			ctx, cancel := context.WithCancelCause(ctx)
			// A connection package http1 hands to net/http gets a context
			// from each: the first, which http1 is done with, must end, or
			// it stays among its parent's children for good.
			if prev := c.cancel.Swap(&cancel); prev != nil {
				(*prev)(nil)
			}
			return ctx
		}
		return ctx
	}
	go l.sweep()
	return l
}

// limits are a server's timeouts, in nanoseconds; zero means no bound.
type limits struct {
	header    int64 // first byte of a request to the end of its headers
	handshake int64 // a TLS handshake, before the first request
	idle      int64 // waiting for a request, nothing of it read
	read      int64 // first byte of a request to the end of its body
	write     int64 // end of a request's headers to the end of its answer
	tick      int64 // how often the sweeper wakes; zero when nothing is bounded
}

// limitsOf reads srv's timeouts with net/http's own fallbacks (see
// Server.readHeaderTimeout, idleTimeout and tlsHandshakeTimeout).
func limitsOf(srv *http.Server) limits {
	header, idle := srv.ReadHeaderTimeout, srv.IdleTimeout
	if header == 0 {
		header = srv.ReadTimeout
	}
	if idle == 0 {
		idle = srv.ReadTimeout
	}
	lim := limits{
		header:    positive(header),
		handshake: smallest(positive(srv.ReadHeaderTimeout), positive(srv.ReadTimeout), positive(srv.WriteTimeout)),
		idle:      positive(idle),
		read:      positive(srv.ReadTimeout),
		write:     positive(srv.WriteTimeout),
	}
	if shortest := smallest(lim.header, lim.idle, lim.read, lim.write); shortest > 0 {
		lim.tick = max(int64(10*time.Millisecond), min(shortest/4, int64(time.Second)))
	}
	return lim
}

// after is when a phase of length d that began at from ends.
func (lim *limits) after(from, d int64) int64 {
	if d == 0 {
		return 0
	}
	return from + d
}

func positive(d time.Duration) int64 { return int64(max(d, 0)) }

// smallest is the smallest non-zero of ds, or zero.
func smallest(ds ...int64) int64 {
	var s int64
	for _, d := range ds {
		if d > 0 && (s == 0 || d < s) {
			s = d
		}
	}
	return s
}
