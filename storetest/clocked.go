package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

// Importer is a store with a bulk import, as admin.Importer.
type Importer interface {
	profileapi.Store
	ImportCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error
}

// Clocked is an Importer with what these tests need beyond the Store
// interface: a way to set the store's clock, and to count the rows of its
// "customers" and "consents" tables.
type Clocked struct {
	Importer
	SetNow func(time.Time)
	Count  func(t testing.TB, table string) int
}

// RunClocked runs the tests of the store's clock and of its bulk import.
// open must return a new, empty store, closed when the test ends.
func RunClocked(t *testing.T, open func(t *testing.T) Clocked) {
	t.Run("Clock", func(t *testing.T) { testClock(t, open(t)) })
	t.Run("Import", func(t *testing.T) { testImport(t, open(t)) })
}

// testClock checks that a time the store sets is its clock's, to the
// millisecond.
func testClock(t *testing.T, db Clocked) {
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 6_789_000, time.UTC)
	db.SetNow(now)
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Clocked"}
	if err := db.CreateSkill(ctx, sk); err != nil {
		t.Fatal(err)
	}
	got, err := db.Skill(ctx, sk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Truncate(time.Millisecond); !got.CreatedAt.Equal(want) || !sk.CreatedAt.Equal(want) {
		t.Fatalf("CreatedAt stored %v, set %v; want %v", got.CreatedAt, sk.CreatedAt, want)
	}
}

// testImport checks ImportCustomers: an import, a second one that updates,
// an id twice, a consent to a missing skill, an empty import.
func testImport(t *testing.T, db Clocked) {
	ctx := t.Context()
	first := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	db.SetNow(first)
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Importer", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(ctx, sk); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	customers, consents := Generate(n, sk.ID)
	if err := db.ImportCustomers(ctx, customers, consents); err != nil {
		t.Fatalf("ImportCustomers: %v", err)
	}
	if got := db.Count(t, "customers"); got != n {
		t.Fatalf("%d customers after importing %d", got, n)
	}
	for _, i := range []int{0, 1, n - 1} {
		a, err := db.Access(ctx, customers[i].ID, sk.ID)
		if err != nil {
			t.Fatalf("Access of imported customer %d: %v", i, err)
		}
		got := a.Customer
		if got.Region != customers[i].Region || got.Profile.Email != customers[i].Profile.Email ||
			(got.Profile.MobileNumber == nil) != (i%2 != 0) || a.Granted != consents[i].Scopes ||
			!got.CreatedAt.Equal(first) || !got.UpdatedAt.Equal(first) {
			t.Fatalf("imported customer %d: %+v granting [%v], want %+v granting [%v] at %v", i, got, a.Granted, customers[i], consents[i].Scopes, first)
		}
	}

	t.Log("importing again updates, keeping CreatedAt")
	second := first.Add(time.Hour)
	db.SetNow(second)
	customers[0].Profile.Name = "Renamed"
	consents[0].Scopes = profileapi.AllScopes
	if err := db.ImportCustomers(ctx, customers, consents); err != nil {
		t.Fatalf("ImportCustomers again: %v", err)
	}
	if got := db.Count(t, "customers"); got != n {
		t.Fatalf("%d customers after importing %d twice", got, n)
	}
	if got := db.Count(t, "consents"); got != n {
		t.Fatalf("%d consents after importing %d twice", got, n)
	}
	a, err := db.Access(ctx, customers[0].ID, sk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Customer.Profile.Name != "Renamed" || a.Granted != profileapi.AllScopes || !a.Customer.CreatedAt.Equal(first) || !a.Customer.UpdatedAt.Equal(second) {
		t.Fatalf("re-imported customer: %+v granting [%v], want renamed, granting every scope, created %v, updated %v", a.Customer, a.Granted, first, second)
	}

	t.Log("an import stamped before the stored change still moves UpdatedAt forward, and writes it back")
	// As when an import's lines were read before a PATCH was written.
	older := *customers[3]
	older.CreatedAt, older.UpdatedAt = first.Add(-time.Hour), first.Add(-time.Minute)
	olderConsent := *consents[3]
	olderConsent.UpdatedAt = first.Add(-time.Minute)
	if err := db.ImportCustomers(ctx, []*profileapi.Customer{&older}, []*profileapi.Consent{&olderConsent}); err != nil {
		t.Fatal(err)
	}
	// A millisecond past the stored change: a reader who saw that change
	// sees that this one is another.
	past := second.Add(time.Millisecond)
	if got, err := db.Customer(ctx, older.ID); err != nil || !got.UpdatedAt.Equal(past) || !got.CreatedAt.Equal(first) ||
		!older.UpdatedAt.Equal(past) || !older.CreatedAt.Equal(first) {
		t.Fatalf("after an older import: stored %+v, %v; written back created %v, updated %v; want created %v, updated %v", got, err, older.CreatedAt, older.UpdatedAt, first, past)
	}
	if got, err := db.Consent(ctx, olderConsent.CustomerID, olderConsent.SkillID); err != nil || !got.UpdatedAt.Equal(past) {
		t.Fatalf("after an older import: consent %+v, %v; want updated %v", got, err, past)
	}

	t.Log("an import writes back the CreatedAt it keeps: tokens name it")
	again := *customers[2]
	again.CreatedAt, again.UpdatedAt = second, second
	if err := db.ImportCustomers(ctx, []*profileapi.Customer{&again}, nil); err != nil {
		t.Fatal(err)
	}
	if !again.CreatedAt.Equal(first) {
		t.Fatalf("CreatedAt written back %v, want the first, %v", again.CreatedAt, first)
	}

	t.Log("of items with the same id, the last wins")
	dup := *customers[1]
	dup.Profile = profileapi.Profile{Name: "Last"}
	dupConsent := *consents[1]
	dupConsent.Scopes = profileapi.NewScopeSet(profileapi.ScopeEmail)
	if err := db.ImportCustomers(ctx, []*profileapi.Customer{customers[1], &dup}, []*profileapi.Consent{consents[1], &dupConsent}); err != nil {
		t.Fatalf("ImportCustomers with an id twice: %v", err)
	}
	if a, err := db.Access(ctx, customers[1].ID, sk.ID); err != nil || a.Customer.Profile.Name != "Last" || a.Customer.Profile.MobileNumber != nil || a.Granted != dupConsent.Scopes {
		t.Fatalf("customer imported twice in one call: %+v, %v; want the last one", a, err)
	}
	// Many ids twice over, so that a sort that is not stable shows.
	var many []*profileapi.Customer
	for _, c := range customers[200:300] {
		first := *c
		many = append(many, &first)
	}
	for _, c := range customers[200:300] {
		last := *c
		last.Profile = profileapi.Profile{Name: "Last " + c.ID}
		many = append(many, &last)
	}
	if err := db.ImportCustomers(ctx, many, nil); err != nil {
		t.Fatalf("ImportCustomers with 100 ids twice: %v", err)
	}
	for _, c := range customers[200:300] {
		if got, err := db.Customer(ctx, c.ID); err != nil || got.Profile.Name != "Last "+c.ID {
			t.Fatalf("of 100 customers imported twice in one call, %s is %+v, %v; want the last one", c.ID, got, err)
		}
	}

	t.Log("a consent to a missing skill fails the whole import")
	more, moreConsents := Generate(10, sk.ID)
	moreConsents[5].SkillID = profileapi.NewSkillID()
	err = db.ImportCustomers(ctx, more, moreConsents)
	if profileapi.ErrorKind(err) != profileapi.ENOTFOUND {
		t.Fatalf("ImportCustomers with a consent to a missing skill: %v, want ENOTFOUND", err)
	}
	if !strings.Contains(err.Error(), moreConsents[5].SkillID) || !strings.Contains(err.Error(), "item 5") {
		t.Errorf("ImportCustomers with a consent to a missing skill: %v, which does not name the skill %s and item 5", err, moreConsents[5].SkillID)
	}
	// The admin API shows the message of the error alone.
	if e := (*profileapi.Error)(nil); !errors.As(err, &e) || !strings.Contains(e.Message, moreConsents[5].SkillID) {
		t.Errorf("ImportCustomers with a consent to a missing skill: %v, whose message does not name the skill %s", err, moreConsents[5].SkillID)
	}
	if got := db.Count(t, "customers"); got != n {
		t.Fatalf("%d customers after a failed import, want the %d from before", got, n)
	}

	t.Log("an empty import does nothing")
	if err := db.ImportCustomers(ctx, nil, nil); err != nil {
		t.Fatalf("ImportCustomers of nothing: %v", err)
	}
	if got := db.Count(t, "customers"); got != n {
		t.Fatalf("%d customers after an empty import, want %d", got, n)
	}
}

// Generate returns n customers, each granting the skill one scope, for
// import tests and benchmarks.
func Generate(n int, skillID string) ([]*profileapi.Customer, []*profileapi.Consent) {
	customers := make([]*profileapi.Customer, n)
	consents := make([]*profileapi.Consent, n)
	for i := range customers {
		c := &profileapi.Customer{
			ID:     profileapi.NewCustomerID(),
			Region: profileapi.Regions[i%len(profileapi.Regions)],
			Profile: profileapi.Profile{
				Name:      fmt.Sprintf("Customer Number %d", i),
				GivenName: "Customer",
				Email:     fmt.Sprintf("customer%d@example.com", i),
			},
		}
		if i%2 == 0 {
			c.Profile.MobileNumber = &profileapi.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799827710"}
		}
		customers[i] = c
		consents[i] = &profileapi.Consent{CustomerID: c.ID, SkillID: skillID, Scopes: 1 << (i % 4)}
	}
	return customers, consents
}
