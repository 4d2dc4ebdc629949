package storetest

import (
	"testing"

	"github.com/profileapi/profileapi"
)

// testImportReplacesConsents: a customer imported has the consents given
// with it and no other, as its profile is replaced whole, so that an
// export imported again after a revocation carries the revocation over. A
// customer the import does not name keeps its consents.
func testImportReplacesConsents(t *testing.T, s profileapi.Store) {
	im, ok := s.(Importer)
	if !ok {
		t.Fatal("the store does not import in bulk: the admin API's import needs it")
	}
	ctx := t.Context()
	a, b := newSkill(profileapi.NewSkillID(), profileapi.AllScopes), newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	createSkill(t, s, a)
	createSkill(t, s, b)
	imported, other := newCustomer(profileapi.NewCustomerID()), newCustomer(profileapi.NewCustomerID())
	grant := func(c *profileapi.Customer, sk *profileapi.Skill, scopes profileapi.ScopeSet) *profileapi.Consent {
		return &profileapi.Consent{CustomerID: c.ID, SkillID: sk.ID, Scopes: scopes}
	}
	if err := im.ImportCustomers(ctx, []*profileapi.Customer{imported, other},
		[]*profileapi.Consent{grant(imported, a, profileapi.AllScopes), grant(imported, b, profileapi.AllScopes), grant(other, b, profileapi.AllScopes)}); err != nil {
		t.Fatal(err)
	}
	// Read once, so that a cache in front holds both grants.
	for _, sk := range []*profileapi.Skill{a, b} {
		if acc, err := s.Access(ctx, imported.ID, sk.ID); err != nil || acc.Granted != profileapi.AllScopes {
			t.Fatalf("after the first import, access to %s: %+v, %v", sk.ID, acc, err)
		}
	}

	t.Log("imported again with its consent to a alone, narrower: the one to b is gone")
	again := newCustomer(imported.ID)
	if err := im.ImportCustomers(ctx, []*profileapi.Customer{again}, []*profileapi.Consent{grant(again, a, profileapi.NewScopeSet(profileapi.ScopeName))}); err != nil {
		t.Fatal(err)
	}
	if acc, err := s.Access(ctx, imported.ID, a.ID); err != nil || acc.Granted != profileapi.NewScopeSet(profileapi.ScopeName) {
		t.Errorf("access to a: %+v, %v; want the name alone", acc, err)
	}
	if acc, err := s.Access(ctx, imported.ID, b.ID); err != nil || acc.Granted != 0 {
		t.Errorf("access to b: %+v, %v; want nothing granted", acc, err)
	}
	_, err := s.Consent(ctx, imported.ID, b.ID)
	checkNotFound(t, "the consent to b", err)

	t.Log("imported with no consent: it has none")
	if err := im.ImportCustomers(ctx, []*profileapi.Customer{newCustomer(imported.ID)}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = s.Consent(ctx, imported.ID, a.ID)
	checkNotFound(t, "the consent to a", err)

	t.Log("the customer not imported keeps its consent")
	if acc, err := s.Access(ctx, other.ID, b.ID); err != nil || acc.Granted != profileapi.AllScopes {
		t.Errorf("the other customer's access to b: %+v, %v", acc, err)
	}
}
