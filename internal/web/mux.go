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
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{http.NewServeMux()} }

// ServeHTTP routes the request, replacing the mux's plain-text errors.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := m.Handler(r); pattern != "" {
		m.ServeMux.ServeHTTP(w, r)
		return
	}
	// No route: let the mux say which error (or redirect) it would give.
	rec := &headerRecorder{header: http.Header{}}
	m.ServeMux.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		WriteError(w, r, &profileapi.Error{Kind: EMETHOD, Message: r.Method + " is not allowed here; allowed: " + rec.header.Get("Allow")})
	case http.StatusNotFound, 0:
		WriteError(w, r, profileapi.Errorf(profileapi.ENOTFOUND, "no such resource: %s", r.URL.EscapedPath()))
	default:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
	}
}

// headerRecorder keeps the mux's status and headers and drops its body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
