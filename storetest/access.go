package storetest

import (
	"testing"

	"github.com/profileapi/profileapi"
)

// access runs Access and fails the test on an error.
func access(t *testing.T, s profileapi.Store, customerID, skillID string) *profileapi.Access {
	t.Helper()
	a, err := s.Access(t.Context(), customerID, skillID)
	if err != nil {
		t.Fatalf("Access(%s, %s): %v", customerID, skillID, err)
	}
	return a
}

func checkScopes(t *testing.T, what string, got, want profileapi.ScopeSet) {
	t.Helper()
	if got != want {
		t.Errorf("%s = [%v], want [%v]", what, got, want)
	}
}

func testAccessNoConsent(t *testing.T, s profileapi.Store) {
	declared := profileapi.NewScopeSet(profileapi.ScopeName, profileapi.ScopeEmail)
	c := newCustomer(profileapi.NewCustomerID())
	sk := newSkill(profileapi.NewSkillID(), declared)
	createCustomer(t, s, c)
	createSkill(t, s, sk)
	// Consents between the same customer and another skill, and another
	// customer and the same skill, must not show through.
	other, otherSkill := fixture(t, s)
	putConsent(t, s, c.ID, otherSkill.ID, profileapi.AllScopes)
	putConsent(t, s, other.ID, sk.ID, declared)

	a := access(t, s, c.ID, sk.ID)
	checkCustomer(t, &a.Customer, c)
	checkScopes(t, "Declared", a.Declared, declared)
	checkScopes(t, "Granted without a consent", a.Granted, 0)
}

func testAccessGranted(t *testing.T, s profileapi.Store) {
	declared := profileapi.NewScopeSet(profileapi.ScopeGivenName, profileapi.ScopeMobileNumber, profileapi.ScopeEmail)
	c := newCustomer(profileapi.NewCustomerID())
	sk := newSkill(profileapi.NewSkillID(), declared)
	createCustomer(t, s, c)
	createSkill(t, s, sk)
	granted := profileapi.NewScopeSet(profileapi.ScopeGivenName, profileapi.ScopeMobileNumber)
	putConsent(t, s, c.ID, sk.ID, granted)

	a := access(t, s, c.ID, sk.ID)
	checkCustomer(t, &a.Customer, c)
	checkScopes(t, "Declared", a.Declared, declared)
	checkScopes(t, "Granted", a.Granted, granted)
	// Tokens tell a skill from one deleted before it by this time.
	if a.SkillCreatedAt.UnixMilli() != sk.CreatedAt.UnixMilli() {
		t.Errorf("SkillCreatedAt = %v, want the skill's %v", a.SkillCreatedAt, sk.CreatedAt)
	}
}

func testAccessMissing(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	putConsent(t, s, c.ID, sk.ID, profileapi.AllScopes)
	_, err := s.Access(t.Context(), profileapi.NewCustomerID(), sk.ID)
	checkNotFound(t, "Access of a missing customer", err)
	_, err = s.Access(t.Context(), c.ID, profileapi.NewSkillID())
	checkNotFound(t, "Access for a missing skill", err)
	_, err = s.Access(t.Context(), profileapi.NewCustomerID(), profileapi.NewSkillID())
	checkNotFound(t, "Access of a missing customer for a missing skill", err)
}

func testAccessPerPair(t *testing.T, s profileapi.Store) {
	c1, sk1 := fixture(t, s)
	c2, sk2 := fixture(t, s)
	c2 = update(t, s, c2.ID, func(c *profileapi.Customer) { c.Profile.Name = "Someone Else" })
	grants := map[[2]string]profileapi.ScopeSet{
		{c1.ID, sk1.ID}: profileapi.NewScopeSet(profileapi.ScopeName),
		{c1.ID, sk2.ID}: profileapi.NewScopeSet(profileapi.ScopeGivenName),
		{c2.ID, sk1.ID}: profileapi.NewScopeSet(profileapi.ScopeEmail),
		// c2 has granted sk2 nothing
	}
	for pair, scopes := range grants {
		putConsent(t, s, pair[0], pair[1], scopes)
	}
	for _, c := range []*profileapi.Customer{c1, c2} {
		for _, sk := range []*profileapi.Skill{sk1, sk2} {
			a := access(t, s, c.ID, sk.ID)
			if a.Customer.ID != c.ID || a.Customer.Profile.Name != c.Profile.Name {
				t.Errorf("Access(%s, %s).Customer = {%s %q}, want {%s %q}", c.ID, sk.ID, a.Customer.ID, a.Customer.Profile.Name, c.ID, c.Profile.Name)
			}
			checkScopes(t, "Granted", a.Granted, grants[[2]string{c.ID, sk.ID}])
		}
	}
}

func testAccessAfterRevoke(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	putConsent(t, s, c.ID, sk.ID, profileapi.AllScopes)
	checkScopes(t, "Granted", access(t, s, c.ID, sk.ID).Granted, profileapi.AllScopes)
	putConsent(t, s, c.ID, sk.ID, 0)
	checkScopes(t, "Granted after granting nothing", access(t, s, c.ID, sk.ID).Granted, 0)
	putConsent(t, s, c.ID, sk.ID, profileapi.NewScopeSet(profileapi.ScopeEmail))
	if err := s.DeleteConsent(t.Context(), c.ID, sk.ID); err != nil {
		t.Fatalf("DeleteConsent: %v", err)
	}
	checkScopes(t, "Granted after DeleteConsent", access(t, s, c.ID, sk.ID).Granted, 0)
}

// testAccessAfterUpdate checks that Access sees a profile change at once,
// as the public API must.
func testAccessAfterUpdate(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	access(t, s, c.ID, sk.ID)
	updated := update(t, s, c.ID, func(c *profileapi.Customer) {
		c.Profile.Email = "new@example.com"
		c.Profile.MobileNumber = nil
	})
	a := access(t, s, c.ID, sk.ID)
	checkCustomer(t, &a.Customer, updated)
}
