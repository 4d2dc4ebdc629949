package ratelimit_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/ratelimit"
	"github.com/profileapi/profileapi/token"
)

// clock is a fake time source that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// endpoints puts NA alone at the root, so the region needs no Host match.
var endpoints = profileapi.LoopbackEndpoints("http", "127.0.0.1:1")

// verifier accepts tokens of the form "{skillId}|{customerId}" for NA.
type verifier struct{}

func (verifier) Verify(_ context.Context, s string) (*token.Claims, error) {
	skill, customer, ok := strings.Cut(s, "|")
	if !ok {
		return nil, profileapi.Errorf(profileapi.EUNAUTHORIZED, "bad test token")
	}
	return &token.Claims{SkillID: skill, CustomerID: customer, Region: profileapi.RegionNA, Audience: endpoints.URL(profileapi.RegionNA)}, nil
}

// store grants every skill every scope of a customer who has a name.
type store struct{}

func (store) Access(_ context.Context, customerID, skillID string) (*profileapi.Access, error) {
	return &profileapi.Access{
		Customer: profileapi.Customer{ID: customerID, Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "Ada Lovelace"}},
		Declared: profileapi.AllScopes,
		Granted:  profileapi.AllScopes,
	}, nil
}

const (
	skillA    = "amzn1.ask.skill.a"
	skillB    = "amzn1.ask.skill.b"
	customer1 = "amzn1.ask.account.ONE"
	customer2 = "amzn1.ask.account.TWO"
	adminKey  = "test-admin-key"
)

var discard = slog.New(slog.DiscardHandler)

// newServers runs the real public and admin APIs with the policy wired in
// as serve wires it.
func newServers(t *testing.T, p *ratelimit.Policy) (public, adminURL string) {
	t.Helper()
	pub := httptest.NewServer(api.NewServer(api.Config{Store: store{}, Tokens: verifier{}, Endpoints: endpoints, Logger: discard, Guards: []api.Guard{p.Guard()}}))
	t.Cleanup(pub.Close)
	adm := httptest.NewServer(admin.NewServer(admin.Config{Key: adminKey, Logger: discard, Extra: p.Routes}))
	t.Cleanup(adm.Close)
	return pub.URL, adm.URL
}

type response struct {
	status int
	header http.Header
	body   web.ErrorBody
	raw    string
}

func do(t *testing.T, method, url, auth, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
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
	r := response{status: res.StatusCode, header: res.Header, raw: string(b)}
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(b, &r.body); err != nil {
			t.Fatalf("%s %s: %d with a body that is not the error JSON: %q", method, url, res.StatusCode, b)
		}
	}
	return r
}

// getName reads Profile.name as the skill, for the customer.
func getName(t *testing.T, public, skill, customer string) response {
	t.Helper()
	return do(t, "GET", public+"/v2/accounts/~current/settings/Profile.name", skill+"|"+customer, "")
}
