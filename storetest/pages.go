package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/profileapi/profileapi"
)

// PageFunc reads the page of customers after the id after, with their
// consents by customer id, and whether more follow: how a store that
// pages by consents reads the listing.
type PageFunc func(ctx context.Context, after string) (_ []*profileapi.Customer, _ map[string][]*profileapi.Consent, more bool, err error)

// PagesByConsents checks that a page of db ends early where its consents
// pass the store's bound, one customer at least, and that the listing goes
// on after it: every customer once, in order, with all its consents.
// setBound sets the bound for the test and returns what restores it.
func PagesByConsents(t *testing.T, db interface {
	Importer
	Lister
}, setBound func(int) (restore func()), page PageFunc) {
	ctx := t.Context()
	defer setBound(12)()
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
	// Pages of customers 5 consents each, but PAGE04's 20: cut before the
	// customer that brings a page past 12, one customer at least.
	var pages [][]string
	for after, more := "", true; more; {
		customers, consents, m, err := page(ctx, after)
		if err != nil {
			t.Fatal(err)
		}
		var page []string
		for _, c := range customers {
			page = append(page, strings.TrimPrefix(c.ID, "amzn1.ask.account.PAGE"))
			if len(consents[c.ID]) != want[c.ID] {
				t.Errorf("%s: %d consents, want %d", c.ID, len(consents[c.ID]), want[c.ID])
			}
		}
		pages = append(pages, page)
		after, more = customers[len(customers)-1].ID, m
	}
	if got, want := fmt.Sprint(pages), "[[00 01] [02 03] [04] [05 06] [07 08] [09]]"; got != want {
		t.Errorf("pages %s, want %s", got, want)
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
