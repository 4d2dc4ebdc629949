package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/profileapi/profileapi"
)

// Lister is a store that lists every customer with its consents, as an
// export (and the cache's warm-up) reads it.
type Lister interface {
	EachCustomer(ctx context.Context, fn func(c *profileapi.Customer, consents []*profileapi.Consent) error) error
}

// testEachCustomer: a store that lists its customers lists each once, in
// the ids' byte order, with its profile and the consents it gave, across
// the pages it reads them in.
func testEachCustomer(t *testing.T, s profileapi.Store) {
	l, ok := s.(Lister)
	if !ok {
		t.Fatal("the store does not list its customers: an export needs it")
	}
	ctx := t.Context()
	sk := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	createSkill(t, s, sk)
	// More than a page (2000) where the store imports in bulk; a few else.
	customers, consents := Generate(2500, sk.ID)
	if im, ok := s.(Importer); ok {
		if err := im.ImportCustomers(ctx, customers, consents); err != nil {
			t.Fatal(err)
		}
	} else {
		customers, consents = customers[:5], consents[:5]
		for i, c := range customers {
			createCustomer(t, s, c)
			if err := s.PutConsent(ctx, consents[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]*profileapi.Customer{}
	granted := map[string]map[string]profileapi.ScopeSet{}
	for i, c := range customers {
		want[c.ID] = c
		granted[c.ID] = map[string]profileapi.ScopeSet{sk.ID: consents[i].Scopes}
	}
	// Ids that sort differently by byte and by a language's collation, one
	// with no consent; consents to a second skill, one of no scope.
	for _, id := range []string{"amzn1.ask.account.a-B_c.1", "amzn1.ask.account.A-b_C.2", "amzn1.ask.account.Zz", "amzn1.ask.account.aa", "amzn1.ask.account._x"} {
		c := newCustomer(id)
		createCustomer(t, s, c)
		want[id] = c
		granted[id] = map[string]profileapi.ScopeSet{}
	}
	other := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	createSkill(t, s, other)
	for i, id := range []string{customers[0].ID, customers[len(customers)-1].ID, "amzn1.ask.account.aa"} {
		g := &profileapi.Consent{CustomerID: id, SkillID: other.ID, Scopes: profileapi.ScopeSet(i)}
		if err := s.PutConsent(ctx, g); err != nil {
			t.Fatal(err)
		}
		granted[id][other.ID] = g.Scopes
	}

	var ids []string
	err := l.EachCustomer(ctx, func(c *profileapi.Customer, gs []*profileapi.Consent) error {
		ids = append(ids, c.ID)
		w := want[c.ID]
		switch {
		case w == nil:
			t.Errorf("listed %s, which was not stored", c.ID)
			return nil
		case c.Region != w.Region || !c.Profile.Equal(w.Profile):
			t.Errorf("%s: listed %+v, stored %+v", c.ID, c, w)
		}
		got := map[string]profileapi.ScopeSet{}
		for _, g := range gs {
			if g.CustomerID != c.ID {
				t.Errorf("%s: listed a consent of %s", c.ID, g.CustomerID)
			}
			got[g.SkillID] = g.Scopes
		}
		if !maps.Equal(got, granted[c.ID]) {
			t.Errorf("%s: listed grants %v, stored %v", c.ID, got, granted[c.ID])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(want) || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("listed %d customers (sorted: %v), want each of %d once, in id order", len(ids), slices.IsSorted(ids), len(want))
	}

	t.Log("an error of fn ends the listing there, and is returned")
	stop := errors.New("the reader is gone")
	calls := 0
	err = l.EachCustomer(ctx, func(*profileapi.Customer, []*profileapi.Consent) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("fn failing at its third call: EachCustomer returned %v after %d calls, want the error after 3", err, calls)
	}
}
