package conntimeout

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conn is an accepted connection, as its listener's sweeper sees it.
type conn struct {
	net.Conn
	l *listener

	deadline  atomic.Int64 // listener time past which the sweeper closes it; 0: none
	start     atomic.Int64 // listener time its current request began: accept, or its first byte
	waiting   atomic.Bool  // idle, nothing read since: the next byte starts a request
	proto     atomic.Int32 // protoUnknown until its first state after StateNew
	forgotten atomic.Bool  // out of the registry

	watch    atomic.Int32 // watchNone, watchSkip or watchOn: see Read
	servedAt atomic.Int64 // listener time its handler began

	deadlineMu       sync.Mutex
	deadlineSet      bool // a read deadline is set on the socket
	writeDeadlineSet bool // a write deadline is set on the socket

	// stopped is a read deadline in the past, kept here rather than on the
	// socket when no read was in it: see SetReadDeadline.
	stopped atomic.Bool
	reading atomic.Int32 // reads in the socket now

	// cancel ends the context of the connection, and so of its request,
	// once it is closed or its client is gone; nil until ConnContext.
	cancel atomic.Pointer[context.CancelCauseFunc]
}

// What net/http looks for on a connection besides net.Conn.
var (
	_ interface{ CloseWrite() error } = (*conn)(nil)
	_ io.ReaderFrom                   = (*conn)(nil)
)

const (
	protoUnknown = iota
	protoHTTP1
	protoHTTP2
)

// How a connection watches for its client hanging up.
const (
	watchNone = iota // no handler runs on it: reads go through
	watchSkip        // a handler runs, and net/http's background read is to come
	watchOn          // that read was answered: the sweeper watches it
)

// Read starts the read-header phase with the first byte read after an idle
// spell. It is the hot path: one atomic load, unless that byte is it.
//
// The first read of one byte while a handler runs is net/http's
// background read, which it starts for every request, once the body has
// been read if there is one, to learn that the client hung up. It stops it
// when the handler returns by moving the read deadline into the past and
// back; a read that began before that is a system call and a park in the
// network poller, until the deadline wakes it. That read is answered at
// once, with nothing read: the sweeper looks for a client that hung up
// instead (see sweep), and a byte of a pipelined request stays in the
// socket for net/http's next read.
//
// net/http's other reads fill what is left of its 4 KiB buffer, which may
// be one byte, in the middle of a long chunk-size line. It tries again at
// once after a read of nothing, which the background read never does: a
// second read of one byte goes through, and the background read is still
// to come. The reads of a hijacked connection all go through.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 1 {
		if c.watch.CompareAndSwap(watchSkip, watchOn) {
			return 0, nil
		}
		c.watch.CompareAndSwap(watchOn, watchSkip)
	}
	c.reading.Add(1)
	if c.stopped.Load() {
		c.stop()
	}
	n, err := c.Conn.Read(p)
	c.reading.Add(-1)
	if n > 0 && c.waiting.Load() {
		c.waiting.Store(false)
		now := c.l.now()
		c.start.Store(now)
		c.deadline.Store(c.l.after(now, c.l.header))
	}
	return n, err
}

// WatchHangUp has the sweeper watch for the client hanging up while the
// current request's handler runs, as net/http's background read does (see
// Read). Package http1, which serves requests without that read, calls it
// once the request is active.
func (c *conn) WatchHangUp() { c.watch.Store(watchOn) }

// SetReadDeadline sets a read deadline on the socket unless the socket
// need not know: with its timeouts left to the sweeper, net/http sets and
// clears the read deadline a few times a request, each a lock in the
// network poller.
//   - Clearing one that is not set. (Accept hands over sockets with no
//     deadline.)
//   - A deadline in the past while no read is in the socket: it is kept in
//     stopped, and goes to the socket only if a read comes before it is
//     cleared (see stop). That is how net/http stops its background read
//     when the handler returns, which has mostly not run yet: it will be
//     answered at once (see Read). A read in the socket, which only a
//     deadline there can stop, gets one now: the reader counts itself in
//     reading before it looks at stopped, and this stores stopped before
//     it looks at reading, so one of the two sees the other.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	past := !t.IsZero() && !t.After(time.Now())
	c.stopped.Store(past)
	if past && c.reading.Load() == 0 || t.IsZero() && !c.deadlineSet {
		return nil
	}
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	c.deadlineSet = !t.IsZero()
	return nil
}

// stop gives the socket the read deadline in the past that stopped kept,
// for a read that comes while it holds: the socket then answers it as it
// would have (a timeout, or that the connection is closed).
func (c *conn) stop() {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	if c.stopped.Load() && c.Conn.SetReadDeadline(stoppedAt) == nil {
		c.stopped.Store(false)
		c.deadlineSet = true
	}
}

// stoppedAt is the deadline stop sets, net/http's aLongTimeAgo.
var stoppedAt = time.Unix(1, 0)

// SetWriteDeadline sets a write deadline on the socket unless it would
// clear one that is not set, as net/http does after every request.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	if t.IsZero() && !c.writeDeadlineSet {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	c.writeDeadlineSet = !t.IsZero()
	return nil
}

// SetDeadline keeps the records of the socket's deadlines.
func (c *conn) SetDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	c.stopped.Store(false)
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.deadlineSet, c.writeDeadlineSet = !t.IsZero(), !t.IsZero()
	return nil
}

func (c *conn) Close() error {
	c.forget()
	c.end(net.ErrClosed)
	return c.Conn.Close()
}

// end cancels the connection's context with cause, as net/http does when
// its background read fails.
func (c *conn) end(cause error) {
	if cancel := c.cancel.Load(); cancel != nil {
		(*cancel)(cause)
	}
}

// CloseWrite lets net/http half-close the connection before closing it, so
// the client reads the last answer (see net/http's closeWriteAndWait).
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// ReadFrom keeps sendfile and splice for net/http's response.ReadFrom.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// forget takes c out of its listener's registry: the sweeper no longer
// watches it.
func (c *conn) forget() {
	if c.forgotten.Swap(true) {
		return
	}
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
}

// isHTTP2 reports whether c speaks HTTP/2, asking the TLS layer nc once:
// by the first state after StateNew the handshake is done.
func (c *conn) isHTTP2(nc net.Conn) bool {
	p := c.proto.Load()
	if p == protoUnknown {
		p = protoHTTP1
		if tc, ok := nc.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol == "h2" {
			p = protoHTTP2
		}
		c.proto.Store(p)
	}
	return p == protoHTTP2
}
