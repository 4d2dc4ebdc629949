// Package admin serves the control plane: what Alexa and the customer's
// companion app do in the live system (register skills, hold profiles and
// consents, issue tokens, build the request a skill receives) done here
// over a JSON API on its own listener, behind the admin key.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/token"
)

// maxBody caps every admin request body.
const maxBody = 64 << 10

// Issuer mints tokens; *token.Keyring is one.
type Issuer interface {
	Issue(ctx context.Context, c token.Claims, ttl time.Duration) (string, time.Time, error)
}

// Config is what the control plane depends on.
type Config struct {
	Store     profileapi.Store
	Tokens    Issuer
	Endpoints profileapi.Endpoints
	// Wire is the public API's wire mode, for evaluate.
	Wire api.Wire
	// Key is the admin key every /admin/v1 call must present as a Bearer token.
	Key    string
	Logger *slog.Logger
	Now    func() time.Time
	// Extra registers routes owned elsewhere (metrics, faults, the
	// journal) on the admin mux; auth wraps a handler in the key check.
	Extra func(mux *web.Mux, auth func(http.Handler) http.Handler)
	// Bulk, if set, is called when a bulk import or token batch starts,
	// and what it returns when it ends: serve lifts its garbage-collector
	// floor meanwhile (package gcpace).
	Bulk func() (done func())
}

type server struct {
	Config
	keyHash     [32]byte
	lastCreated atomic.Int64 // creationTime's last answer, in Unix milliseconds
}

// creationTime is the creation time of a customer or skill created now:
// now, to the millisecond, but later than any it gave before. A token
// tells the customer and skill it was issued for from ones deleted and
// created again under their ids by this time alone, so one deleted and
// created again within a millisecond must not get the same.
func (s *server) creationTime() time.Time {
	now := s.Now().UnixMilli()
	for {
		last := s.lastCreated.Load()
		next := max(now, last+1)
		if s.lastCreated.CompareAndSwap(last, next) {
			return time.UnixMilli(next).UTC()
		}
	}
}

// bulk marks a bulk operation: defer s.bulk()().
func (s *server) bulk() (done func()) {
	if s.Bulk == nil {
		return func() {}
	}
	return s.Bulk()
}

// missing answers a store's ENOTFOUND for a customer and a skill together
// (Consent, Access), which cannot say which one is missing: it looks. If
// both exist, what was missing is the row itself, and err is the answer.
func (s *server) missing(ctx context.Context, customerID, skillID string, err error) error {
	if _, cerr := s.Store.Customer(ctx, customerID); cerr != nil {
		return profileapi.Absent(cerr, "customer", customerID)
	}
	if _, serr := s.Store.Skill(ctx, skillID); serr != nil {
		return profileapi.Absent(serr, "skill", skillID)
	}
	return err
}

// NewServer returns the admin API handler.
func NewServer(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wire == "" {
		cfg.Wire = api.WireDocumented
	}
	s := &server{Config: cfg, keyHash: sha256.Sum256([]byte(cfg.Key))}
	mux := web.NewMux()
	mux.NotFound = notFoundHere
	s.routes(mux)
	if cfg.Extra != nil {
		cfg.Extra(mux, s.requireKey)
	}
	return web.Middleware(cfg.Logger, "admin", mux, nil)
}

// notFoundHere answers a path no admin route matches. A public API path
// here is a client given the admin address for the public one: it is told
// so, with the public API's INVALID_KEY rather than NOT_FOUND, which a
// client of the public API reads as "the customer has no value".
func notFoundHere(r *http.Request) error {
	if path := web.PathOf(r); strings.Contains(path, "/v2/accounts/") {
		return &profileapi.Error{Kind: profileapi.ENOTFOUND, Code: "INVALID_KEY",
			Message: "no such resource: " + path + ": this is the admin API's address; the public API listens at serve's --addr (port 8080 by default)"}
	}
	return profileapi.Errorf(profileapi.ENOTFOUND, "no such resource: %s", web.PathOf(r))
}

// requireKey lets through only requests bearing the admin key, once, and
// no body on a GET or DELETE, which no route reads: a filter sent there
// would be ignored without a word. Hashing both sides first makes the
// comparison constant-time in the length too.
func (s *server) requireKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header["Authorization"]) > 1 {
			web.WriteError(w, r, profileapi.Errorf(profileapi.EINVALID, "the request has more than one Authorization header"))
			return
		}
		scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		given := sha256.Sum256([]byte(strings.TrimSpace(key)))
		// No key configured opens nothing: a bare "Bearer" would match it.
		if s.Key == "" || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(given[:], s.keyHash[:]) != 1 {
			web.WriteError(w, r, &profileapi.Error{Kind: profileapi.EUNAUTHORIZED, Code: "UNAUTHORIZED",
				Message: "the admin API needs Authorization: Bearer {admin key}; see `profileapi admin-key`"})
			return
		}
		if (r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodDelete) && web.HasBody(w, r) {
			web.WriteError(w, r, profileapi.Errorf(profileapi.EINVALID, "a %s request must not have a body", r.Method))
			return
		}
		next.ServeHTTP(w, r)
	})
}
