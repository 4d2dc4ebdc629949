package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/storetest"
)

func TestEachCustomer(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Each", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(ctx, sk); err != nil {
		t.Fatal(err)
	}
	const n = 2*scanPage + 17 // three pages
	customers, consents := storetest.Generate(n, sk.ID)
	consents = consents[:n/2] // half the customers gave none
	if err := db.ImportCustomers(ctx, customers, consents); err != nil {
		t.Fatal(err)
	}
	granted := map[string]profileapi.ScopeSet{}
	for _, c := range consents {
		granted[c.CustomerID] = c.Scopes
	}
	seen, last := 0, ""
	err := db.EachCustomer(ctx, func(c *profileapi.Customer, cs []*profileapi.Consent) error {
		if c.ID <= last {
			return fmt.Errorf("customer %s after %s", c.ID, last)
		}
		last = c.ID
		seen++
		want, ok := granted[c.ID]
		switch {
		case !ok && len(cs) != 0:
			return fmt.Errorf("customer %s: consents %v, want none", c.ID, cs)
		case ok && (len(cs) != 1 || cs[0].SkillID != sk.ID || cs[0].Scopes != want || cs[0].CustomerID != c.ID):
			return fmt.Errorf("customer %s: consents %+v, want [%v] to %s", c.ID, cs, want, sk.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Fatalf("EachCustomer saw %d customers, want %d", seen, n)
	}
	if db.Unavailable() != nil || db.Opening() == nil {
		t.Fatalf("a store just opened: Unavailable %v, Opening %v", db.Unavailable(), db.Opening())
	}
}
