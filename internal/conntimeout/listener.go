package conntimeout

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// listener registers the connections it accepts with its sweeper.
type listener struct {
	net.Listener
	limits

	epoch time.Time // the listener's times are nanoseconds since

	closeOnce sync.Once
	closed    chan struct{} // closed by Close
	stopped   chan struct{} // closed when the sweeper returns

	mu    sync.Mutex
	conns map[*conn]struct{}
	done  bool // the sweeper has returned: Accept registers nothing more
}

func newListener(ln net.Listener, lim limits) *listener {
	return &listener{
		Listener: ln,
		limits:   lim,
		epoch:    time.Now(),
		closed:   make(chan struct{}),
		stopped:  make(chan struct{}),
		conns:    make(map[*conn]struct{}),
	}
}

// now is the listener's time. It is read, not kept by the sweeper as a
// coarse clock: a sweeper woken late would have let that clock lag by
// more than any margin, and deadlines set from it close connections early.
func (l *listener) now() int64 { return int64(time.Since(l.epoch)) }

func (l *listener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	now := l.now()
	c := &conn{Conn: nc, l: l}
	c.start.Store(now)
	c.deadline.Store(l.after(now, l.header))
	l.mu.Lock()
	done := l.done
	if !done {
		l.conns[c] = struct{}{}
	}
	l.mu.Unlock()
	if done {
		// Closed while accepting, and nothing would sweep it.
		nc.Close()
		return nil, net.ErrClosed
	}
	return c, nil
}

func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// sweep closes the connections past their deadline, every tick, until the
// listener is closed and no connection is left: connections still
// draining after Shutdown stay bounded.
func (l *listener) sweep() {
	defer close(l.stopped)
	t := time.NewTicker(time.Duration(l.tick))
	defer t.Stop()
	closed := l.closed
	var expired, watched []*conn
	for {
		select {
		case <-t.C:
		case <-closed:
			closed = nil
		}
		now := l.now()
		l.mu.Lock()
		for c := range l.conns {
			if d := c.deadline.Load(); d != 0 && now >= d {
				delete(l.conns, c)
				c.forgotten.Store(true)
				expired = append(expired, c)
			} else if c.watch.Load() == watchOn && now-c.servedAt.Load() >= l.tick {
				// A handler that has run for a tick, past its request's
				// body: has its client hung up? (See conn.Read.)
				watched = append(watched, c)
			}
		}
		l.done = closed == nil && len(l.conns) == 0
		done := l.done
		l.mu.Unlock()
		// Outside the lock: Close may block, and Accept needs the lock.
		for _, c := range expired {
			// Closed before its context ends: a handler that returns on
			// the context's end must find its answer cannot go out.
			c.Conn.Close()
			c.end(errTimedOut)
		}
		clear(expired)
		expired = expired[:0]
		for _, c := range watched {
			if hungUp(c.Conn) {
				c.end(errHungUp)
			}
		}
		clear(watched)
		watched = watched[:0]
		if done {
			return
		}
	}
}

// Why a connection's context ended, besides its closing.
var (
	errTimedOut = errors.New("the connection outlasted its timeouts")
	errHungUp   = errors.New("the client hung up")
)

// setState moves a connection into the phase net/http reports, and is the
// per-request cost: a handful of atomic operations, no lock.
func (l *listener) setState(nc net.Conn, s http.ConnState) {
	c := l.find(nc)
	if c == nil {
		return
	}
	switch s {
	case http.StateNew:
		// Over TLS, net/http bounds the handshake, then the first request's
		// headers: their sum bounds the time to the first request.
		if _, ok := nc.(*tls.Conn); ok {
			if d := c.deadline.Load(); d != 0 {
				c.deadline.Store(d + l.handshake)
			}
		}
	case http.StateActive:
		if c.isHTTP2(nc) {
			c.deadline.Store(0)
			return
		}
		// A request parsed from buffered bytes never went through Read.
		c.waiting.Store(false)
		now := l.now()
		c.deadline.Store(l.answered(c.start.Load(), now))
		c.servedAt.Store(now)
		c.watch.Store(watchSkip)
	case http.StateIdle:
		c.watch.Store(watchNone)
		c.deadline.Store(l.after(l.now(), l.idle))
		if !c.isHTTP2(nc) {
			c.waiting.Store(true)
		}
	case http.StateHijacked, http.StateClosed:
		// A hijacked connection's context ends when it is closed.
		c.watch.Store(watchNone)
		c.forget()
	}
}

// answered is when a request that began at start and whose headers were
// read at now must have been answered: once past both its read and its
// write deadline, net/http could neither read nor write any more of it.
func (l *listener) answered(start, now int64) int64 {
	if l.write == 0 {
		return 0
	}
	end := now + l.write
	if l.read != 0 {
		end = max(end, start+l.read)
	}
	return end
}

// find returns the connection of l behind nc, or nil for one it did not
// accept. nc may wrap it, as a *tls.Conn does, or a connection package http1
// hands to net/http: both give it with NetConn.
func (l *listener) find(nc net.Conn) *conn {
	for {
		u, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		nc = u.NetConn()
	}
	c, ok := nc.(*conn)
	if !ok || c.l != l {
		return nil
	}
	return c
}
