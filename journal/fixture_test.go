package journal_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/journal"
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

var discard = slog.New(slog.DiscardHandler)

// newServers runs the real public and admin APIs with the journal wired
// in as serve wires it, over a store where both customers, with a name and
// an email, grant each skill what it declares: skillA every scope, skillB
// only the name.
func newServers(t *testing.T, j *journal.Journal) (public *servertest.Server, adminURL string) {
	t.Helper()
	s := servertest.Start(t, servertest.Options{AdminKey: adminKey, Done: j.Done, Extra: j.Routes})
	nameOnly := profileapi.NewScopeSet(profileapi.ScopeName)
	s.Skill(t, skillA, profileapi.AllScopes)
	s.Skill(t, skillB, nameOnly)
	for _, c := range []string{customer1, customer2} {
		s.Customer(t, c, profileapi.RegionNA, profileapi.Profile{Name: "Ada Lovelace", Email: "ada@example.com"})
		s.Consent(t, c, skillA, profileapi.AllScopes)
		s.Consent(t, c, skillB, nameOnly)
	}
	return s, s.AdminURL
}
