package metrics_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/fault"
	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/metrics"
	"github.com/profileapi/profileapi/ratelimit"
)

func newClock() *servertest.Clock {
	return servertest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
}

const (
	skillA    = "amzn1.ask.skill.a"
	skillB    = "amzn1.ask.skill.b"
	skillC    = "amzn1.ask.skill.c"
	skillD    = "amzn1.ask.skill.d"
	customer1 = "amzn1.ask.account.ONE"
	customer2 = "amzn1.ask.account.TWO"
)

// newServer runs the real public API with the metrics, a rate limit
// policy and a fault injector wired in as serve wires them, and serves the
// metrics at GET /metrics on an admin listener. In its store both
// customers, with a name and an email, grant each skill what it declares:
// skillB only the name, every other skill every scope.
func newServer(t *testing.T, m *metrics.Metrics, p *ratelimit.Policy, inj *fault.Injector) (public *servertest.Server, adminURL string) {
	t.Helper()
	p.Limited = func(api.Call) { m.RateLimited() }
	inj.Injected = func(_ api.Call, f fault.Fault) { m.FaultInjected(f.Status) }
	s := servertest.Start(t, servertest.Options{
		Guards: []api.Guard{p.Guard(), inj.Guard()},
		Done:   m.Done,
		Extra: func(mux *web.Mux, auth func(http.Handler) http.Handler) {
			mux.Handle("GET /metrics", m.Handler())
		},
	})
	declared := map[string]profileapi.ScopeSet{
		skillA: profileapi.AllScopes, skillB: profileapi.NewScopeSet(profileapi.ScopeName),
		skillC: profileapi.AllScopes, skillD: profileapi.AllScopes,
	}
	for skill, scopes := range declared {
		s.Skill(t, skill, scopes)
	}
	for _, c := range []string{customer1, customer2} {
		s.Customer(t, c, profileapi.RegionNA, profileapi.Profile{Name: "Ada Lovelace", Email: "ada@example.com"})
		for skill, scopes := range declared {
			s.Consent(t, c, skill, scopes)
		}
	}
	return s, s.AdminURL
}
