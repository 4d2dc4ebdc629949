// Package http1 serves the public API's plain-HTTP/1.1 connections: it
// answers their GET requests itself, and hands a connection to net/http,
// for the rest of its life, at the first request that is anything else.
//
// On the hot path, a GET with a handful of headers and a small JSON
// answer, net/http spent about a third of the server's CPU per request on
// its own machinery (a textproto reader, a context and a background read
// per request, a response writer, their allocations). This package finds
// such a request in its read buffer, calls the same http.Handler with the
// *http.Request net/http would have built, and writes the answer with its
// length in one write. What it serves is parsed exactly as net/http would
// parse it (see parse); anything else goes to net/http unread, which
// answers it as it always has. Differential fuzz tests hold the two to the
// same answers.
//
// The connection's life is reported through the http.Server's ConnState
// as net/http reports it, and its context comes from BaseContext and
// ConnContext, so the hooks that bound net/http's connections (packages
// conntimeout, connlimit) bound these too. A connection handed over is new
// again to net/http, which reports it so and gives it a context of its
// own; the hooks find the accepted connection through its NetConn.
//
// A request's context is its connection's: unlike net/http's, it does not
// end when the handler returns, and it ends when the client hangs up only
// if the connection watches for that (WatchHangUp, as package
// conntimeout's connections do).
package http1

import (
	"bufio"
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves the connections of a listener, with an http.Server's
// handler and hooks. Create it with New.
type Server struct {
	srv     *http.Server
	handler http.Handler
	handoff *handoffListener

	inShutdown atomic.Bool

	mu    sync.Mutex
	ln    net.Listener
	conns map[*conn]struct{}
}

// New returns a Server that serves with srv's Handler (or
// http.DefaultServeMux), ConnState, ConnContext, BaseContext and
// ErrorLog, and hands connections to srv itself. srv must not serve
// anything else: Shutdown and Close shut it down.
//
// It sets no deadline on a connection: srv's timeouts must be zero, and
// bounds left to the listener (conntimeout.Apply moves them there). It
// does not see srv.SetKeepAlivesEnabled.
func New(srv *http.Server) *Server {
	h := srv.Handler
	if h == nil {
		h = http.DefaultServeMux
	}
	return &Server{srv: srv, handler: h, handoff: newHandoffListener(), conns: make(map[*conn]struct{})}
}

// errTimeouts refuses a server whose timeouts Serve would not enforce.
var errTimeouts = errors.New("http1: the http.Server's timeouts must be zero, and enforced by the listener (conntimeout.Apply)")

// Serve accepts connections on ln until it is closed, and returns
// http.ErrServerClosed after Shutdown or Close, as http.Server.Serve does.
func (s *Server) Serve(ln net.Listener) error {
	if s.srv.ReadHeaderTimeout != 0 || s.srv.ReadTimeout != 0 || s.srv.WriteTimeout != 0 || s.srv.IdleTimeout != 0 {
		return errTimeouts
	}
	s.mu.Lock()
	if s.ln != nil || s.inShutdown.Load() {
		s.mu.Unlock()
		if s.inShutdown.Load() {
			return http.ErrServerClosed
		}
		return errors.New("http1: Serve called twice")
	}
	s.ln = ln
	s.mu.Unlock()
	s.handoff.addr = ln.Addr()

	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(s.handoff) }()

	base := context.Background()
	if s.srv.BaseContext != nil {
		base = s.srv.BaseContext(ln)
		if base == nil {
			panic("http1: BaseContext returned a nil context")
		}
	}
	base = context.WithValue(base, http.ServerContextKey, s.srv)

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.inShutdown.Load() || errors.Is(err, net.ErrClosed) {
				s.handoff.Close()
				<-served
				if s.inShutdown.Load() {
					return http.ErrServerClosed
				}
				return err
			}
			// Out of file descriptors, or a connection aborted before it
			// was accepted: net/http waits and tries again too.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logf("http1: Accept error: %v; retrying in %v", err, backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c := newConn(s, nc)
		if !s.track(c) {
			nc.Close()
			s.state(nc, http.StateClosed)
			continue
		}
		go c.serve(base)
	}
}

// Shutdown stops accepting, closes idle connections, waits for the others
// to finish their request, and shuts the http.Server down with the
// connections handed to it, all until ctx ends, when it returns its error.
// A request whose head was still coming in when it began is answered, with
// the connection closed after it (net/http closes such a connection
// unanswered).
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown.Store(true)
	lnErr := s.closeListener()
	shut := make(chan error, 1)
	go func() { shut <- s.srv.Shutdown(ctx) }()

	// As net/http does: poll, from 1 ms up to 500 ms between looks.
	wait := time.Millisecond
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for !s.closeIdle() {
		select {
		case <-ctx.Done():
			<-shut
			return ctx.Err()
		case <-timer.C:
			wait = min(2*wait, 500*time.Millisecond)
			timer.Reset(wait)
		}
	}
	if err := <-shut; err != nil {
		return err
	}
	return lnErr
}

// Close closes the listener and every connection at once, as
// http.Server.Close does.
func (s *Server) Close() error {
	s.inShutdown.Store(true)
	err := s.closeListener()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
		delete(s.conns, c)
	}
	s.mu.Unlock()
	return errors.Join(err, s.srv.Close())
}

func (s *Server) closeListener() error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	s.handoff.Close()
	if ln == nil {
		return nil
	}
	if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// closeIdle closes the connections waiting for a request, and those that
// have waited 5 seconds for their first, as net/http does, and reports
// whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().Unix()
	for c := range s.conns {
		st, since := c.getState()
		if st == http.StateIdle || st == http.StateNew && since < now-5 {
			c.nc.Close()
			delete(s.conns, c)
		}
	}
	return len(s.conns) == 0
}

// track adds c to the connections Shutdown and Close know, or reports
// false once they have begun.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inShutdown.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) state(nc net.Conn, st http.ConnState) {
	if s.srv.ConnState != nil {
		s.srv.ConnState(nc, st)
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.srv.ErrorLog != nil {
		s.srv.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// readerPool holds the read buffers of connections between requests'
// lives: a connection keeps one while it is open.
var readerPool sync.Pool

func newReader(nc net.Conn) *bufio.Reader {
	if br, ok := readerPool.Get().(*bufio.Reader); ok {
		br.Reset(nc)
		return br
	}
	return bufio.NewReaderSize(nc, bufferSize)
}

// bufferSize is the read buffer: a request whose line and headers do not
// fit goes to net/http, which allows up to MaxHeaderBytes.
const bufferSize = 4 << 10
