package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// conn is a connection this package serves, until it is closed or handed
// to net/http.
type conn struct {
	s      *Server
	nc     net.Conn
	br     *bufio.Reader
	remote string
	out    []byte // the answer being written (and a 1xx before it)

	// watch, if the connection has it, watches for the client hanging up
	// while a handler runs, and ends the connection's context if it does
	// (package conntimeout). net/http reads a byte in the background to
	// learn it: without watch, nothing does here.
	watch interface{ WatchHangUp() }

	served bool // a request has been answered

	// state is the http.ConnState and the Unix second it began, for
	// Shutdown: state<<40 | second.
	state atomic.Uint64
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc}
	c.watch, _ = nc.(interface{ WatchHangUp() })
	c.setState(http.StateNew)
	return c
}

func (c *conn) setState(st http.ConnState) {
	c.state.Store(uint64(st)<<40 | uint64(time.Now().Unix()))
}

func (c *conn) getState() (http.ConnState, int64) {
	v := c.state.Load()
	return http.ConnState(v >> 40), int64(v & (1<<40 - 1))
}

// errHandOff ends the loop of a connection whose next request net/http
// is to serve.
var errHandOff = errors.New("http1: handed to net/http")

func (c *conn) serve(base context.Context) {
	c.s.state(c.nc, http.StateNew)
	ctx := context.WithValue(base, http.LocalAddrContextKey, c.nc.LocalAddr())
	if cc := c.s.srv.ConnContext; cc != nil {
		if ctx = cc(ctx, c.nc); ctx == nil {
			panic("http1: ConnContext returned nil")
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	c.remote = c.nc.RemoteAddr().String()
	c.br = newReader(c.nc)
	w := &response{c: c, header: make(http.Header, 8)}

	err := c.loop(ctx, w)
	cancel()
	c.s.untrack(c)
	if err == errHandOff {
		// The buffer goes with the connection, holding what net/http is to
		// read first.
		if !c.s.handoff.give(&handedConn{Conn: c.nc, br: c.br}) {
			c.s.state(c.nc, http.StateClosed)
		}
		return
	}
	c.br.Reset(nil)
	readerPool.Put(c.br)
	c.nc.Close()
	c.s.state(c.nc, http.StateClosed)
}

// loop serves requests until the connection is to close (any error but
// errHandOff) or be handed over.
func (c *conn) loop(ctx context.Context, w *response) (err error) {
	tmpl := (&http.Request{RemoteAddr: c.remote}).WithContext(ctx)
	defer func() {
		if p := recover(); p != nil {
			// The handler panicked, past any recovery of its own: as
			// net/http does, log it and close the connection.
			if p != http.ErrAbortHandler {
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.s.logf("http: panic serving %v: %v\n%s", c.remote, p, buf)
			}
			err = errPanicked
		}
	}()
	for {
		head, err := c.readHead()
		if err != nil {
			return err
		}
		r, keepAlive := parse(head, tmpl)
		if r == nil {
			return errHandOff
		}
		if _, err := c.br.Discard(len(head)); err != nil {
			return err
		}
		c.setState(http.StateActive)
		c.s.state(c.nc, http.StateActive)
		if c.watch != nil {
			c.watch.WatchHangUp()
		}

		w.reset(r, keepAlive)
		c.s.handler.ServeHTTP(w, w.req)
		closing := w.finish()
		w.req = nil
		// Each answer goes out as its handler returns, pipelined or not,
		// as net/http writes it: one held for the next request's handler
		// would wait for it, and be lost if it panicked.
		if err := c.flush(); err != nil {
			return err
		}
		c.served = true
		if closing {
			c.closeWrite()
			return errClosing
		}
		c.setState(http.StateIdle)
		c.s.state(c.nc, http.StateIdle)
		if c.s.inShutdown.Load() {
			return errClosing
		}
	}
}

var (
	errPanicked = errors.New("http1: handler panicked")
	errClosing  = errors.New("http1: connection closing")
)

// readHead returns the next request's line and headers, up to and with
// the blank line, in the read buffer: the bytes stay there until the
// caller discards them. errHandOff means net/http is to read them: they
// do not fit, cannot begin a request parse serves, or end early.
func (c *conn) readHead() ([]byte, error) {
	from, checked := 0, 0
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		if i := bytes.Index(buf[from:], crlfcrlf); i >= 0 {
			return buf[:from+i+len(crlfcrlf)], nil
		}
		if len(buf) >= c.br.Size() {
			return nil, errHandOff
		}
		// net/http waits for 4 bytes of a request after the first before
		// it reads one, and closes quietly if fewer come.
		if len(buf) >= 4 || !c.served {
			var ok bool
			if checked, ok = plausible(buf, checked); !ok {
				return nil, errHandOff
			}
		}
		from = max(len(buf)-len(crlfcrlf)+1, 0)
		if _, err := c.br.Peek(len(buf) + 1); err != nil {
			if err == io.EOF && (len(buf) >= 4 || len(buf) > 0 && !c.served) {
				// A request cut short: net/http answers it (400).
				return nil, errHandOff
			}
			return nil, err
		}
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// plausible reports whether the complete lines of buf, the start of a
// request's head, could begin one that parse serves, looking at those
// from offset from (where a line starts) on, and returns where the lines
// it has not looked at start. net/http answers a malformed request line or
// header as soon as it has read it, and reads a line ended by LF alone:
// such a request is handed over at once, not when (or if) a blank line
// ends it. It costs a look at each byte once, and only when a head comes
// in more than one read.
func plausible(buf []byte, from int) (int, bool) {
	for {
		n := bytes.IndexByte(buf[from:], '\n')
		if n < 0 {
			return from, true
		}
		line := buf[from : from+n]
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return from, false
		}
		line = line[:len(line)-1]
		if from == 0 {
			if !bytes.HasPrefix(line, []byte("GET /")) || !bytes.HasSuffix(line, []byte(" HTTP/1.1")) {
				return from, false
			}
		} else if name, value, ok := bytes.Cut(line, []byte(":")); !ok || !validName(string(name)) || !validValue(string(value)) {
			return from, false
		}
		from += n + 1
	}
}

func (c *conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.out)
	c.out = c.out[:0]
	if cap(c.out) > 64<<10 {
		c.out = nil // not kept for the connection's life
	}
	return err
}

// closeWrite, before the connection closes with input unread (requests
// pipelined behind the last one answered), half-closes it and waits a
// little for the client to read the last answer, as net/http's
// closeWriteAndWait does: closing a socket with unread input resets it,
// and the client may lose the answer. With nothing unread it does nothing.
func (c *conn) closeWrite() {
	if c.br.Buffered() == 0 {
		return
	}
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	time.Sleep(closeWriteWait)
}

// closeWriteWait is net/http's rstAvoidanceDelay.
const closeWriteWait = 500 * time.Millisecond

// handedConn is a connection net/http serves from here on: it reads what
// is left in the read buffer first. Its NetConn is the accepted
// connection, for the hooks that look for it (package conntimeout).
type handedConn struct {
	net.Conn
	br *bufio.Reader // nil once empty
}

func (h *handedConn) Read(p []byte) (int, error) {
	if h.br != nil {
		if h.br.Buffered() > 0 {
			return h.br.Read(p)
		}
		h.br.Reset(nil)
		readerPool.Put(h.br)
		h.br = nil
	}
	return h.Conn.Read(p)
}

// NetConn returns the accepted connection.
func (h *handedConn) NetConn() net.Conn { return h.Conn }

// CloseWrite lets net/http half-close before it closes.
func (h *handedConn) CloseWrite() error {
	if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// handoffListener is the listener net/http serves: it yields the
// connections handed over.
type handoffListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	addr   net.Addr
}

func newHandoffListener() *handoffListener {
	return &handoffListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// give hands nc to net/http, or closes it and reports false once the
// listener is closed.
func (l *handoffListener) give(nc *handedConn) bool {
	select {
	case l.conns <- nc:
		return true
	case <-l.closed:
		nc.Close()
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case nc := <-l.conns:
		return nc, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }
