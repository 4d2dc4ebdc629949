package ratelimit_test

import (
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/ratelimit"
)

func newClock() *servertest.Clock {
	return servertest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
}

const (
	skillA    = "amzn1.ask.skill.a"
	skillB    = "amzn1.ask.skill.b"
	customer1 = "amzn1.ask.account.ONE"
	customer2 = "amzn1.ask.account.TWO"
	customer3 = "amzn1.ask.account.THREE"
	customer4 = "amzn1.ask.account.FOUR"
	adminKey  = "test-admin-key"
)

// newServers runs the real public and admin APIs with the policy wired in
// as serve wires it, over a store where every customer, who has a name,
// grants both skills every scope.
func newServers(t *testing.T, p *ratelimit.Policy) (public *servertest.Server, adminURL string) {
	t.Helper()
	s := servertest.Start(t, servertest.Options{AdminKey: adminKey, Guards: []api.Guard{p.Guard()}, Extra: p.Routes})
	s.Skill(t, skillA, profileapi.AllScopes)
	s.Skill(t, skillB, profileapi.AllScopes)
	for _, c := range []string{customer1, customer2, customer3, customer4} {
		s.Customer(t, c, profileapi.RegionNA, profileapi.Profile{Name: "Ada Lovelace"})
		s.Consent(t, c, skillA, profileapi.AllScopes)
		s.Consent(t, c, skillB, profileapi.AllScopes)
	}
	return s, s.AdminURL
}

// getName reads Profile.name as the skill, for the customer.
func getName(t *testing.T, public *servertest.Server, skill, customer string) servertest.Response {
	t.Helper()
	return servertest.Do(t, "GET", public.URL+"/v2/accounts/~current/settings/Profile.name", public.Token(t, customer, skill), "")
}
