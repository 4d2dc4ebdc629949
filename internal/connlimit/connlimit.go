// Package connlimit caps how many connections an http.Server holds open at
// once, so that a client opening thousands and keeping each alive cannot
// take every file descriptor, which the admin listener and the database
// need too. At the cap, Accept waits for a connection to close: new
// clients wait in the kernel's backlog, and each held connection still
// ends at its server's idle timeout, as netutil.LimitListener does.
//
// Unlike netutil.LimitListener it does not wrap the connections, whose
// types the layers above look for (*net.TCPConn, a conntimeout
// connection): a connection is counted from Accept until net/http reports
// it closed or hijacked.
package connlimit

import (
	"net"
	"net/http"
	"sync"
)

// Apply returns ln capped at max connections, counting them through
// srv.ConnState, which it chains. Serve srv on the returned listener, and
// only on it. full, if not nil, is called (outside any lock) each time
// Accept starts waiting at the cap. max 0 or less returns ln unchanged.
func Apply(srv *http.Server, ln net.Listener, max int, full func()) net.Listener {
	if max <= 0 {
		return ln
	}
	l := &listener{Listener: ln, slots: make(chan struct{}, max), done: make(chan struct{}), full: full}
	next := srv.ConnState
	srv.ConnState = func(nc net.Conn, s http.ConnState) {
		if s == http.StateClosed || s == http.StateHijacked {
			l.release()
		}
		if next != nil {
			next(nc, s)
		}
	}
	return l
}

type listener struct {
	net.Listener
	slots chan struct{} // one token per open connection
	full  func()

	closeOnce sync.Once
	done      chan struct{} // closed by Close: Accept stops waiting
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		if l.full != nil {
			l.full()
		}
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.release()
		return nil, err
	}
	return c, nil
}

// release frees a slot. Never blocking: a release without its Accept (a
// server also serving another listener) must not hang net/http.
func (l *listener) release() {
	select {
	case <-l.slots:
	default:
	}
}

func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}
