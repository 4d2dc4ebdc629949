package cache_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/cache"
	"github.com/profileapi/profileapi/sqlite"
)

// copyingStore imports copies: a store (a wrapper) that does not write back.
type copyingStore struct{ *sqlite.DB }

func (s copyingStore) ImportCustomers(ctx context.Context, cs []*profileapi.Customer, gs []*profileapi.Consent) error {
	cp := make([]*profileapi.Customer, len(cs))
	for i, c := range cs {
		c2 := *c
		cp[i] = &c2
	}
	return s.DB.ImportCustomers(ctx, cp, gs)
}

// A customer the cache holds keeps its creation time through an import,
// whatever the import says and whether or not the store writes back the
// time it keeps: tokens name it.
func TestImportKeepsCachedCreationTime(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := cache.New(copyingStore{db}, cache.Options{})
	first := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	cust := &profileapi.Customer{ID: "amzn1.ask.account.X", Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "X"}, CreatedAt: first, UpdatedAt: first}
	if err := c.CreateCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	sk := &profileapi.Skill{ID: "amzn1.ask.skill.s", Name: "S", Permissions: profileapi.AllScopes}
	if err := c.CreateSkill(ctx, sk); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Access(ctx, cust.ID, sk.ID); err != nil { // cached
		t.Fatal(err)
	}
	now := time.Now().UTC()
	again := &profileapi.Customer{ID: cust.ID, Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "X2"}, CreatedAt: now, UpdatedAt: now}
	if err := c.ImportCustomers(ctx, []*profileapi.Customer{again}, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := c.Access(ctx, cust.ID, sk.ID)
	stored, _ := db.Access(ctx, cust.ID, sk.ID)
	if !got.Customer.CreatedAt.Equal(stored.Customer.CreatedAt) {
		t.Fatalf("cache CreatedAt %v, store %v", got.Customer.CreatedAt, stored.Customer.CreatedAt)
	}
}
