// Package api serves the public Customer Profile API: the four settings a
// skill reads with the apiAccessToken it was handed.
//
// A request reads like a sentence: parse the setting, check there is no
// body, tell the region from the endpoint, verify the token (package
// token), load the customer's access in one store call, check the scope is
// declared and granted, then answer in the configured wire mode.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/token"
)

// Wire is how values are written.
type Wire string

// The two wire modes.
const (
	// WireDocumented writes bodies exactly as the reference shows them,
	// and 404 NOT_FOUND for an absent value.
	WireDocumented Wire = "documented"
	// WireAlexa writes what the live service and the official SDKs expect:
	// bare JSON strings, and 204 No Content for an absent value.
	WireAlexa Wire = "alexa"
)

// ParseWire accepts "documented" or "alexa".
func ParseWire(s string) (Wire, error) {
	switch w := Wire(s); w {
	case WireDocumented, WireAlexa:
		return w, nil
	}
	return "", profileapi.Errorf(profileapi.EINVALID, "wire mode %q is not documented or alexa", s)
}

// Verifier verifies apiAccessTokens; *token.Keyring is one.
type Verifier interface {
	Verify(ctx context.Context, s string) (token.Claims, error)
}

// AccessStore loads what a request needs; every profileapi.Store is one.
type AccessStore interface {
	Access(ctx context.Context, customerID, skillID string) (*profileapi.Access, error)
}

// Call describes one authenticated call, for guards and observers. It holds
// ids only, never a profile value.
type Call struct {
	Region     profileapi.Region
	SkillID    string
	CustomerID string
	Field      profileapi.Field
}

// Guard may refuse a call before it is answered: rate limits and injected
// faults. Its error is answered like any other. It may add attributes to
// the call's log line through info, which is nil outside a request.
type Guard func(ctx context.Context, c Call, info *web.Info) error

// Config is what the server depends on.
type Config struct {
	Store     AccessStore
	Tokens    Verifier
	Endpoints profileapi.Endpoints
	Wire      Wire
	Logger    *slog.Logger
	// Guards run in order after the token is verified.
	Guards []Guard
	// Done, if set, is called after every request with what it was and
	// how it ended: the Call has only its Field if the call never got
	// past the token, and is zero if the path named no setting. info is
	// reused once Done returns: keep what it holds, not the pointer. Its
	// Call is nil by then: the call is c.
	Done func(r *http.Request, c Call, info *web.Info, d time.Duration)
}

type server struct {
	Config
	mux    *web.Mux
	direct map[string]directRoute
}

// NewServer returns the public API handler.
func NewServer(cfg Config) http.Handler { return newServer(cfg, true) }

// newServer is NewServer; without direct routes every request goes
// through the mux, which tests compare the direct routes with.
func newServer(cfg Config, direct bool) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Wire == "" {
		cfg.Wire = WireDocumented
	}
	s := &server{Config: cfg, mux: web.NewMux()}
	s.mux.NotFound = notFound
	s.routes(s.mux)
	if !direct {
		s.direct = nil
	}
	// A line per call at Debug: at the rate skills call, a line each at
	// Info would cost more than the call, and the metrics and the journal
	// have every call. A 5xx is still logged, at Warn.
	return web.MiddlewareAt(slog.LevelDebug, cfg.Logger, "public", s, s.done)
}

// notFound answers a path that names no setting with INVALID_KEY, not
// NOT_FOUND: on this API NOT_FOUND says that the customer has no value
// (documented mode), and a client given a wrong endpoint or path prefix
// must not read that as the customer's answer.
func notFound(r *http.Request) error {
	return &profileapi.Error{Kind: profileapi.ENOTFOUND, Code: "INVALID_KEY",
		Message: "no such resource: " + web.PathOf(r) + "; the settings are read at " + settingsPath + "{Profile.name|Profile.givenName|Profile.email|Profile.mobileNumber} under the region's endpoint"}
}

func (s *server) done(r *http.Request, info *web.Info, d time.Duration) {
	var c Call
	p, ok := info.Call.(*Call)
	if ok {
		c = *p
		// Cleared, so that a Call handed back too early shows as an
		// empty one, and the pool keeps no ids.
		*p = Call{}
		info.Call = nil
		calls.Put(p)
	}
	if s.Done != nil {
		s.Done(r, c, info, d)
	}
}

// calls are reused, as the middleware reuses the Info that holds one: a
// call's Call lives from its handler to done, which hands a copy on.
var calls = sync.Pool{New: func() any { return new(Call) }}
