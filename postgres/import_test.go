package postgres

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

// generate returns n customers, each granting the skill one scope.
func generate(n int, skillID string) ([]*profileapi.Customer, []*profileapi.Consent) {
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

func TestImportCustomers(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	first := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return first }
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Importer", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(ctx, sk); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	customers, consents := generate(n, sk.ID)
	if err := db.ImportCustomers(ctx, customers, consents); err != nil {
		t.Fatalf("ImportCustomers: %v", err)
	}
	if got := count(t, db, "customers"); got != n {
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
	db.Now = func() time.Time { return second }
	customers[0].Profile.Name = "Renamed"
	consents[0].Scopes = profileapi.AllScopes
	if err := db.ImportCustomers(ctx, customers, consents); err != nil {
		t.Fatalf("ImportCustomers again: %v", err)
	}
	if got := count(t, db, "customers"); got != n {
		t.Fatalf("%d customers after importing %d twice", got, n)
	}
	if got := count(t, db, "consents"); got != n {
		t.Fatalf("%d consents after importing %d twice", got, n)
	}
	a, err := db.Access(ctx, customers[0].ID, sk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Customer.Profile.Name != "Renamed" || a.Granted != profileapi.AllScopes || !a.Customer.CreatedAt.Equal(first) || !a.Customer.UpdatedAt.Equal(second) {
		t.Fatalf("re-imported customer: %+v granting [%v], want renamed, granting every scope, created %v, updated %v", a.Customer, a.Granted, first, second)
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

	t.Log("a consent to a missing skill fails the whole import")
	more, moreConsents := generate(10, sk.ID)
	moreConsents[5].SkillID = profileapi.NewSkillID()
	err = db.ImportCustomers(ctx, more, moreConsents)
	if profileapi.ErrorKind(err) != profileapi.ENOTFOUND {
		t.Fatalf("ImportCustomers with a consent to a missing skill: %v, want ENOTFOUND", err)
	}
	if !strings.Contains(err.Error(), moreConsents[5].SkillID) || !strings.Contains(err.Error(), "item 5") {
		t.Errorf("ImportCustomers with a consent to a missing skill: %v, which does not name the skill %s and item 5", err, moreConsents[5].SkillID)
	}
	if got := count(t, db, "customers"); got != n {
		t.Fatalf("%d customers after a failed import, want the %d from before", got, n)
	}

	t.Log("an empty import does nothing")
	if err := db.ImportCustomers(ctx, nil, nil); err != nil {
		t.Fatalf("ImportCustomers of nothing: %v", err)
	}
}

// BenchmarkImport imports b.N customers, each with a consent, in one call;
// -benchtime 1000000x imports a million.
func BenchmarkImport(b *testing.B) {
	db := openDB(b)
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Importer", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(b.Context(), sk); err != nil {
		b.Fatal(err)
	}
	customers, consents := generate(b.N, sk.ID)
	b.ReportAllocs()
	b.ResetTimer()
	if err := db.ImportCustomers(b.Context(), customers, consents); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "customers/s")
	b.ReportMetric(float64(len(customers)+len(consents))/b.Elapsed().Seconds(), "rows/s")
}

// setUpAccess stores n customers and the skill they all granted.
func setUpAccess(b *testing.B, n int) (*DB, []string, string) {
	db := openDB(b)
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Reader", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(b.Context(), sk); err != nil {
		b.Fatal(err)
	}
	customers, consents := generate(n, sk.ID)
	if err := db.ImportCustomers(b.Context(), customers, consents); err != nil {
		b.Fatal(err)
	}
	if _, err := db.pool.Exec(b.Context(), `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i, c := range customers {
		ids[i] = c.ID
	}
	return db, ids, sk.ID
}

func BenchmarkAccess(b *testing.B) {
	db, ids, skillID := setUpAccess(b, 100_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := db.Access(b.Context(), ids[i%len(ids)], skillID); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkAccessParallel(b *testing.B) {
	db, ids, skillID := setUpAccess(b, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := db.Access(b.Context(), ids[i%len(ids)], skillID); err != nil {
				b.Error(err)
				return
			}
			i += 7
		}
	})
}
