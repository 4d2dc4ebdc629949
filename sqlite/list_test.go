package sqlite

import (
	"fmt"
	"slices"
	"testing"

	"github.com/profileapi/profileapi"
)

// A page ends early where its consents pass pageConsents, one customer at
// least, and the listing goes on after it: every customer once, in order,
// with all its consents.
func TestEachCustomerPagesByConsents(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	defer func(n int) { pageConsents = n }(pageConsents)
	pageConsents = 12
	var skills []string
	for i := range 20 {
		sk := &profileapi.Skill{ID: fmt.Sprintf("amzn1.ask.skill.page%02d", i), Name: "Page", Permissions: profileapi.AllScopes}
		if err := db.CreateSkill(ctx, sk); err != nil {
			t.Fatal(err)
		}
		skills = append(skills, sk.ID)
	}
	var customers []*profileapi.Customer
	var consents []*profileapi.Consent
	want := map[string]int{}
	for i := range 10 {
		c := &profileapi.Customer{ID: fmt.Sprintf("amzn1.ask.account.PAGE%02d", i), Region: profileapi.RegionNA}
		customers = append(customers, c)
		n := 5
		if i == 4 {
			n = 20 // more than a page's alone
		}
		for _, sk := range skills[:n] {
			consents = append(consents, &profileapi.Consent{CustomerID: c.ID, SkillID: sk, Scopes: profileapi.AllScopes})
		}
		want[c.ID] = n
	}
	if err := db.ImportCustomers(ctx, customers, consents); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := db.EachCustomer(ctx, func(c *profileapi.Customer, gs []*profileapi.Consent) error {
		got = append(got, c.ID)
		if len(gs) != want[c.ID] {
			t.Errorf("%s: %d consents, want %d", c.ID, len(gs), want[c.ID])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != 10 {
		t.Errorf("listed %v, want the 10 customers once each, in order", got)
	}
}
