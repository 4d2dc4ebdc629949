package storetest

import (
	"testing"

	"github.com/profileapi/profileapi"
)

// fixture is a customer and a skill that declares every scope.
func fixture(t *testing.T, s profileapi.Store) (*profileapi.Customer, *profileapi.Skill) {
	t.Helper()
	c := newCustomer(profileapi.NewCustomerID())
	sk := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	createCustomer(t, s, c)
	createSkill(t, s, sk)
	return c, sk
}

// checkConsent fails the test unless the stored consent has the scopes.
func checkConsent(t *testing.T, s profileapi.Store, customerID, skillID string, want profileapi.ScopeSet) {
	t.Helper()
	got, err := s.Consent(t.Context(), customerID, skillID)
	if err != nil {
		t.Fatalf("Consent(%s, %s): %v", customerID, skillID, err)
	}
	if got.CustomerID != customerID || got.SkillID != skillID || got.Scopes != want {
		t.Fatalf("Consent = {%s %s [%v]}, want {%s %s [%v]}", got.CustomerID, got.SkillID, got.Scopes, customerID, skillID, want)
	}
}

func testConsentPutAndRead(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	consent := &profileapi.Consent{CustomerID: c.ID, SkillID: sk.ID, Scopes: profileapi.NewScopeSet(profileapi.ScopeName, profileapi.ScopeMobileNumber), UpdatedAt: t0}
	if err := s.PutConsent(t.Context(), consent); err != nil {
		t.Fatalf("PutConsent: %v", err)
	}
	checkConsent(t, s, c.ID, sk.ID, consent.Scopes)
	got, err := s.Consent(t.Context(), c.ID, sk.ID)
	if err != nil {
		t.Fatalf("Consent: %v", err)
	}
	checkTime(t, "UpdatedAt", got.UpdatedAt, t0)

	t.Log("a zero UpdatedAt is set by the store")
	consent = &profileapi.Consent{CustomerID: c.ID, SkillID: sk.ID, Scopes: profileapi.AllScopes}
	if err := s.PutConsent(t.Context(), consent); err != nil {
		t.Fatalf("PutConsent: %v", err)
	}
	if consent.UpdatedAt.IsZero() {
		t.Fatal("PutConsent left a zero UpdatedAt zero")
	}
	got, err = s.Consent(t.Context(), c.ID, sk.ID)
	if err != nil {
		t.Fatalf("Consent: %v", err)
	}
	checkTime(t, "UpdatedAt", got.UpdatedAt, consent.UpdatedAt)
}

func testConsentReplace(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	// Each grant replaces the one before: a store that merged scopes would
	// keep ScopeName, and one that ignored the second write would keep all.
	for _, scopes := range []profileapi.ScopeSet{
		profileapi.NewScopeSet(profileapi.ScopeName),
		profileapi.NewScopeSet(profileapi.ScopeEmail, profileapi.ScopeGivenName),
		0,
		profileapi.AllScopes,
		profileapi.NewScopeSet(profileapi.ScopeMobileNumber),
	} {
		putConsent(t, s, c.ID, sk.ID, scopes)
		checkConsent(t, s, c.ID, sk.ID, scopes)
	}
}

func testConsentUnknownCustomerOrSkill(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	missingCustomer, missingSkill := profileapi.NewCustomerID(), profileapi.NewSkillID()
	for _, consent := range []*profileapi.Consent{
		{CustomerID: missingCustomer, SkillID: sk.ID, Scopes: profileapi.AllScopes},
		{CustomerID: c.ID, SkillID: missingSkill, Scopes: profileapi.AllScopes},
		{CustomerID: missingCustomer, SkillID: missingSkill, Scopes: profileapi.AllScopes},
	} {
		checkNotFound(t, "PutConsent("+consent.CustomerID+", "+consent.SkillID+")", s.PutConsent(t.Context(), consent))
		_, err := s.Consent(t.Context(), consent.CustomerID, consent.SkillID)
		checkNotFound(t, "Consent after a failed PutConsent", err)
	}
	t.Log("a customer or skill created later has no consent")
	createCustomer(t, s, newCustomer(missingCustomer))
	createSkill(t, s, newSkill(missingSkill, profileapi.AllScopes))
	for _, pair := range [][2]string{{missingCustomer, sk.ID}, {c.ID, missingSkill}, {missingCustomer, missingSkill}} {
		_, err := s.Consent(t.Context(), pair[0], pair[1])
		checkNotFound(t, "Consent("+pair[0]+", "+pair[1]+")", err)
	}
}

func testConsentPerPair(t *testing.T, s profileapi.Store) {
	c1, sk1 := fixture(t, s)
	c2, sk2 := fixture(t, s)
	putConsent(t, s, c1.ID, sk1.ID, profileapi.NewScopeSet(profileapi.ScopeName))
	putConsent(t, s, c2.ID, sk2.ID, profileapi.NewScopeSet(profileapi.ScopeEmail))
	checkConsent(t, s, c1.ID, sk1.ID, profileapi.NewScopeSet(profileapi.ScopeName))
	checkConsent(t, s, c2.ID, sk2.ID, profileapi.NewScopeSet(profileapi.ScopeEmail))
	for _, pair := range [][2]string{{c1.ID, sk2.ID}, {c2.ID, sk1.ID}} {
		_, err := s.Consent(t.Context(), pair[0], pair[1])
		checkNotFound(t, "Consent of a pair never granted", err)
	}
}

func testConsentDelete(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	other := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	createSkill(t, s, other)
	putConsent(t, s, c.ID, sk.ID, profileapi.AllScopes)
	putConsent(t, s, c.ID, other.ID, profileapi.NewScopeSet(profileapi.ScopeGivenName))

	if err := s.DeleteConsent(t.Context(), c.ID, sk.ID); err != nil {
		t.Fatalf("DeleteConsent: %v", err)
	}
	_, err := s.Consent(t.Context(), c.ID, sk.ID)
	checkNotFound(t, "Consent after DeleteConsent", err)
	checkNotFound(t, "DeleteConsent twice", s.DeleteConsent(t.Context(), c.ID, sk.ID))
	checkNotFound(t, "DeleteConsent of an unknown customer", s.DeleteConsent(t.Context(), profileapi.NewCustomerID(), other.ID))
	checkConsent(t, s, c.ID, other.ID, profileapi.NewScopeSet(profileapi.ScopeGivenName))

	t.Log("a consent can be given again")
	putConsent(t, s, c.ID, sk.ID, profileapi.NewScopeSet(profileapi.ScopeEmail))
	checkConsent(t, s, c.ID, sk.ID, profileapi.NewScopeSet(profileapi.ScopeEmail))
}

// testConsentDeleteCustomerCascades deletes a customer and creates it again:
// a consent that outlived the first would show through.
func testConsentDeleteCustomerCascades(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	other := newCustomer(profileapi.NewCustomerID())
	createCustomer(t, s, other)
	putConsent(t, s, c.ID, sk.ID, profileapi.AllScopes)
	putConsent(t, s, other.ID, sk.ID, profileapi.NewScopeSet(profileapi.ScopeEmail))

	if err := s.DeleteCustomer(t.Context(), c.ID); err != nil {
		t.Fatalf("DeleteCustomer: %v", err)
	}
	_, err := s.Consent(t.Context(), c.ID, sk.ID)
	checkNotFound(t, "Consent of a deleted customer", err)
	_, err = s.Access(t.Context(), c.ID, sk.ID)
	checkNotFound(t, "Access of a deleted customer", err)

	createCustomer(t, s, newCustomer(c.ID))
	_, err = s.Consent(t.Context(), c.ID, sk.ID)
	checkNotFound(t, "Consent of a customer deleted and created again", err)
	a, err := s.Access(t.Context(), c.ID, sk.ID)
	if err != nil {
		t.Fatalf("Access: %v", err)
	}
	if a.Granted != 0 {
		t.Fatalf("Access of a customer deleted and created again: Granted = [%v], want none", a.Granted)
	}
	checkConsent(t, s, other.ID, sk.ID, profileapi.NewScopeSet(profileapi.ScopeEmail))
}

// testConsentDeleteSkillCascades is the same for a skill.
func testConsentDeleteSkillCascades(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	other := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	createSkill(t, s, other)
	putConsent(t, s, c.ID, sk.ID, profileapi.AllScopes)
	putConsent(t, s, c.ID, other.ID, profileapi.NewScopeSet(profileapi.ScopeEmail))

	if err := s.DeleteSkill(t.Context(), sk.ID); err != nil {
		t.Fatalf("DeleteSkill: %v", err)
	}
	_, err := s.Consent(t.Context(), c.ID, sk.ID)
	checkNotFound(t, "Consent to a deleted skill", err)
	_, err = s.Access(t.Context(), c.ID, sk.ID)
	checkNotFound(t, "Access for a deleted skill", err)

	createSkill(t, s, newSkill(sk.ID, profileapi.AllScopes))
	_, err = s.Consent(t.Context(), c.ID, sk.ID)
	checkNotFound(t, "Consent to a skill deleted and created again", err)
	a, err := s.Access(t.Context(), c.ID, sk.ID)
	if err != nil {
		t.Fatalf("Access: %v", err)
	}
	if a.Granted != 0 {
		t.Fatalf("Access for a skill deleted and created again: Granted = [%v], want none", a.Granted)
	}
	checkConsent(t, s, c.ID, other.ID, profileapi.NewScopeSet(profileapi.ScopeEmail))
}
