package fault_test

import (
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/fault"
	"github.com/profileapi/profileapi/internal/servertest"
)

func newClock() *servertest.Clock {
	return servertest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
}

const (
	skillA    = "amzn1.ask.skill.a"
	skillB    = "amzn1.ask.skill.b"
	customer1 = "amzn1.ask.account.ONE"
	customer2 = "amzn1.ask.account.TWO"
	adminKey  = "test-admin-key"
)

// newServers runs the real public and admin APIs with the injector wired
// in as serve wires it, over a store where both customers, with a name
// and an email, grant both skills every scope.
func newServers(t *testing.T, inj *fault.Injector) (public *servertest.Server, adminURL string) {
	t.Helper()
	s := servertest.Start(t, servertest.Options{AdminKey: adminKey, Guards: []api.Guard{inj.Guard()}, Extra: inj.Routes})
	for _, skill := range []string{skillA, skillB} {
		s.Skill(t, skill, profileapi.AllScopes)
	}
	for _, c := range []string{customer1, customer2} {
		s.Customer(t, c, profileapi.RegionNA, profileapi.Profile{Name: "Ada Lovelace", GivenName: "Ada", Email: "ada@example.com"})
		s.Consent(t, c, skillA, profileapi.AllScopes)
		s.Consent(t, c, skillB, profileapi.AllScopes)
	}
	return s, s.AdminURL
}

// get reads the setting as the skill, for the customer.
func get(t *testing.T, public *servertest.Server, field, skill, customer string) servertest.Response {
	t.Helper()
	return servertest.Do(t, "GET", public.URL+"/v2/accounts/~current/settings/"+field, public.Token(t, customer, skill), "")
}
