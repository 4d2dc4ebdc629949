package web

import (
	"net/http"

	"github.com/profileapi/profileapi"
)

// Mux is an http.ServeMux whose own answers, 404 for an unknown path and
// 405 for a known path with the wrong method, use the JSON error body and
// keep the Allow header.
type Mux struct {
	*http.ServeMux
	// NotFound, if set, is the error answering a path no route matches,
	// instead of 404 NOT_FOUND "no such resource". Either also answers a
	// path the mux would redirect to its clean form (//v2, /./v2), so that
	// every answer is JSON and a client that follows no redirects learns
	// why.
	NotFound func(r *http.Request) error
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{ServeMux: http.NewServeMux()} }

// ServeHTTP routes the request, replacing the mux's plain-text errors.
// The request is routed once: the mux's own 404 and 405 are told from a
// handler's by the request's Pattern, which stays empty when no route
// matched.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.ServeMux.ServeHTTP(&muxErrors{ResponseWriter: w, r: r, notFound: m.NotFound}, r)
}

// muxErrors answers the mux's own 404 and 405 with the JSON error body,
// keeping the Allow header; it passes everything else through.
type muxErrors struct {
	http.ResponseWriter
	r        *http.Request
	notFound func(*http.Request) error
	replaced bool // the mux's error was answered: drop its body
}

func (m *muxErrors) WriteHeader(code int) {
	// The mux's redirect to a clean path sets Pattern to that path; no
	// handler of this project redirects.
	redirect := code == http.StatusMovedPermanently || code == http.StatusTemporaryRedirect || code == http.StatusPermanentRedirect
	// The mux answers "OPTIONS *" (with the server's own OPTIONS handler
	// off) with an empty 400.
	own := code == http.StatusNotFound || code == http.StatusMethodNotAllowed || code == http.StatusBadRequest
	if !redirect && (m.r.Pattern != "" || !own) {
		m.ResponseWriter.WriteHeader(code)
		return
	}
	m.replaced = true
	h := m.ResponseWriter.Header()
	allow := h.Get("Allow")
	for k := range h { // the plain-text error's or the redirect's headers
		if k != "Allow" && k != "X-Request-Id" {
			delete(h, k)
		}
	}
	if m.r.ContentLength != 0 && m.r.ProtoMajor == 1 {
		// No handler read the body, which net/http would read before it
		// answers: one announced and never sent would hold the answer
		// until the read timeout. Closing the connection skips that.
		h.Set("Connection", "close")
	}
	if code == http.StatusMethodNotAllowed {
		WriteError(m.ResponseWriter, m.r, &profileapi.Error{Kind: EMETHOD, Message: m.r.Method + " is not allowed here; allowed: " + allow})
		return
	}
	if code == http.StatusBadRequest {
		WriteError(m.ResponseWriter, m.r, profileapi.Errorf(profileapi.EINVALID, "%s %s names no resource", m.r.Method, m.r.RequestURI))
		return
	}
	if m.notFound != nil {
		WriteError(m.ResponseWriter, m.r, m.notFound(m.r))
		return
	}
	WriteError(m.ResponseWriter, m.r, profileapi.Errorf(profileapi.ENOTFOUND, "no such resource: %s", PathOf(m.r)))
}

// PathOf is the request's path as sent, for an error message: its
// request URI where it has no path (CONNECT host:port).
func PathOf(r *http.Request) string {
	if path := r.URL.EscapedPath(); path != "" {
		return path
	}
	return r.RequestURI
}

func (m *muxErrors) Write(b []byte) (int, error) {
	if m.replaced {
		return len(b), nil
	}
	return m.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (m *muxErrors) Unwrap() http.ResponseWriter { return m.ResponseWriter }
