// Package servertest runs the real public and admin APIs for tests: each on
// its own loopback listener, over a real SQLite file and a real keyring, as
// serve wires them. It is a normal package so that every package's tests
// can share it, but only tests import it.
//
// Tests seed what they need (skills, customers, consents) straight into the
// store and call the public API with tokens the keyring mints, so every
// request takes the path a live one does: no stub verifier, no stub store.
package servertest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/http1"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/sqlite"
	"github.com/profileapi/profileapi/token"
)

// AdminKey is the admin key when Options.AdminKey is empty.
const AdminKey = "servertest-admin-key-0123456789"

// Options tune the servers; the zero value serves the documented wire mode
// with no guards, logging nowhere, on the real clock.
type Options struct {
	Wire   api.Wire
	Guards []api.Guard
	// Done is the public API's hook after every request (api.Config.Done).
	Done func(r *http.Request, c api.Call, info *web.Info, d time.Duration)
	// Extra registers routes owned elsewhere on the admin mux (admin.Config.Extra).
	Extra    func(mux *web.Mux, auth func(http.Handler) http.Handler)
	AdminKey string
	// Logger receives both servers' logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock of the keyring and of the admin API; nil is time.Now.
	Now func() time.Time
	// WrapStore, if set, wraps the store the servers and the keyring use:
	// the cache in front of it, or a store that fails as no real one can
	// be made to.
	// Server.Store and the seeding helpers still use the SQLite file itself.
	WrapStore func(profileapi.Store) profileapi.Store
}

// Server is the public and admin APIs, running until the test ends.
type Server struct {
	// URL is the public API's base URL: the NA endpoint, with EU under
	// /eu and FE under /fe.
	URL       string
	AdminURL  string
	AdminKey  string
	Endpoints profileapi.Endpoints
	Store     *sqlite.DB
	Keys      *token.Keyring
}

// Start runs the servers, and stops them and closes the store when the
// test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "profiles.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var store profileapi.Store = db
	if opts.WrapStore != nil {
		store = opts.WrapStore(db)
	}
	keys, err := token.NewKeyring(ctx, store, token.Options{Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AdminKey == "" {
		opts.AdminKey = AdminKey
	}

	// The endpoints name the public listener's own address, so it is
	// opened before either handler is built.
	pub := httptest.NewUnstartedServer(nil)
	endpoints := profileapi.LoopbackEndpoints("http", pub.Listener.Addr().String())
	pub.Config.Handler = api.NewServer(api.Config{
		Store: store, Tokens: keys, Endpoints: endpoints, Wire: opts.Wire, Logger: opts.Logger,
		Guards: opts.Guards, Done: opts.Done,
	})
	// Served as serve serves plain HTTP: GETs by package http1, the rest by
	// net/http.
	fast := http1.New(pub.Config)
	go func() { _ = fast.Serve(pub.Listener) }()
	t.Cleanup(func() { _ = fast.Close() })
	adm := httptest.NewServer(admin.NewServer(admin.Config{
		Store: store, Tokens: keys, Endpoints: endpoints, Wire: opts.Wire, Key: opts.AdminKey,
		Logger: opts.Logger, Now: opts.Now, Extra: opts.Extra,
	}))
	t.Cleanup(adm.Close)
	return &Server{URL: "http://" + pub.Listener.Addr().String(), AdminURL: adm.URL, AdminKey: opts.AdminKey, Endpoints: endpoints, Store: db, Keys: keys}
}

// Skill stores a skill that declares the scopes.
func (s *Server) Skill(t testing.TB, id string, declared profileapi.ScopeSet) {
	t.Helper()
	if err := s.Store.CreateSkill(context.Background(), &profileapi.Skill{ID: id, Name: "test skill", Permissions: declared}); err != nil {
		t.Fatal(err)
	}
}

// Customer stores a customer of the region with the profile.
func (s *Server) Customer(t testing.TB, id string, region profileapi.Region, p profileapi.Profile) {
	t.Helper()
	if err := s.Store.CreateCustomer(context.Background(), &profileapi.Customer{ID: id, Region: region, Profile: p}); err != nil {
		t.Fatal(err)
	}
}

// Consent stores the customer's grant of the scopes to the skill.
func (s *Server) Consent(t testing.TB, customerID, skillID string, scopes profileapi.ScopeSet) {
	t.Helper()
	if err := s.Store.PutConsent(context.Background(), &profileapi.Consent{CustomerID: customerID, SkillID: skillID, Scopes: scopes}); err != nil {
		t.Fatal(err)
	}
}

// Token mints a token of the default lifetime for the customer and skill
// at the NA endpoint.
func (s *Server) Token(t testing.TB, customerID, skillID string) string {
	t.Helper()
	return s.Mint(t, customerID, skillID, profileapi.RegionNA, 0)
}

// Mint mints a token for the customer and skill at the region's endpoint,
// valid for ttl (0 for token.DefaultTTL) from the keyring's clock. As the
// admin API does, it names when they were created, if they exist.
func (s *Server) Mint(t testing.TB, customerID, skillID string, region profileapi.Region, ttl time.Duration) string {
	t.Helper()
	ctx := context.Background()
	claims := token.Claims{CustomerID: customerID, SkillID: skillID, Region: region, Audience: s.Endpoints.URL(region)}
	if c, err := s.Store.Customer(ctx, customerID); err == nil {
		claims.CustomerCreatedAt = c.CreatedAt
	}
	if sk, err := s.Store.Skill(ctx, skillID); err == nil {
		claims.SkillCreatedAt = sk.CreatedAt
	}
	tok, _, err := s.Keys.Issue(ctx, claims, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Response is a server's answer to Do.
type Response struct {
	Status int
	Header http.Header
	// Body is the body as sent; Error is it decoded, for a status of 400
	// or more.
	Body  string
	Error web.ErrorBody
}

// Do sends the request with bearer, if not empty, as its Bearer
// credential and body, if not empty, as JSON. An error status without the
// JSON error body fails the test.
func Do(t testing.TB, method, url, bearer, body string) Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(b, &r.Error); err != nil {
			t.Fatalf("%s %s: %d with a body that is not the error JSON: %q", method, url, res.StatusCode, b)
		}
	}
	return r
}

// Clock is a fake time source that moves only when told, for Options.Now
// and for the clocks of limiters, injectors and journals.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d, which may be negative.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
