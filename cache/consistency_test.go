package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/cache"
	"github.com/profileapi/profileapi/sqlite"
)

// UpdateSkill keeps (narrows) the skill's consents in the store while the
// cache renumbers the skill: a record flagged complete, with no grant under
// the new number, must not answer "granted nothing".
func TestUpdateSkillKeepsWarmGrants(t *testing.T) {
	db, w, c := warmed(t)
	ctx := t.Context()
	skill := w.skills[0] // granted by every even customer
	// A rename: same permissions, nothing narrowed.
	if err := c.UpdateSkill(ctx, &profileapi.Skill{ID: skill, Name: "Renamed", Permissions: profileapi.AllScopes}); err != nil {
		t.Fatal(err)
	}
	same(t, c, db, w.customers[0], skill) // reads through, learns the skill again
	same(t, c, db, w.customers[2], skill) // complete record, no grant under the new number
}

// Same without Warm: CreateCustomer makes a complete record.
func TestUpdateSkillKeepsCreatedCustomersGrants(t *testing.T) {
	db := openSQLite(t)
	c := cache.New(db, cache.Options{})
	ctx := t.Context()
	sk := &profileapi.Skill{ID: "amzn1.ask.skill.s", Name: "S", Permissions: profileapi.AllScopes}
	if err := c.CreateSkill(ctx, sk); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"amzn1.ask.account.A", "amzn1.ask.account.B"} {
		if err := c.CreateCustomer(ctx, &profileapi.Customer{ID: id, Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "N"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Access(ctx, "amzn1.ask.account.A", sk.ID); err != nil { // learn the skill
		t.Fatal(err)
	}
	for _, id := range []string{"amzn1.ask.account.A", "amzn1.ask.account.B"} {
		if err := c.PutConsent(ctx, &profileapi.Consent{CustomerID: id, SkillID: sk.ID, Scopes: profileapi.AllScopes}); err != nil {
			t.Fatal(err)
		}
	}
	narrowed := &profileapi.Skill{ID: sk.ID, Name: "S", Permissions: profileapi.NewScopeSet(profileapi.ScopeName)}
	if err := c.UpdateSkill(ctx, narrowed); err != nil {
		t.Fatal(err)
	}
	same(t, c, db, "amzn1.ask.account.A", sk.ID)
	same(t, c, db, "amzn1.ask.account.B", sk.ID)
}

// A customer dropped while the cache is complete (a refused PATCH) is not
// taken for a new one by an import, whose record would hold the imported
// consents only and lose the ones it gave before.
func TestImportAfterDropKeepsOtherGrants(t *testing.T) {
	db, w, c := warmed(t)
	ctx := t.Context()
	cust := w.customers[0] // grants skills 0 and 2
	if err := refuseUpdate(ctx, c, cust); err == nil {
		t.Fatal("update did not fail")
	}
	importCustomer(t, c, cust, w.skills[1])
	for _, sk := range w.skills {
		same(t, c, db, cust, sk)
	}
}

// An import whose consents name a customer not among its customers (the
// store allows it: the customer need only exist) changes the cached grant
// too: a revocation holds at once.
func TestImportOfConsentsAlone(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 10)
	c := cache.New(db, cache.Options{})
	ctx := t.Context()
	cust, skill := w.customers[0], w.skills[0]
	same(t, c, db, cust, skill) // cached, granted
	if err := c.ImportCustomers(ctx, nil, []*profileapi.Consent{{CustomerID: cust, SkillID: skill, Scopes: 0}}); err != nil {
		t.Fatal(err)
	}
	same(t, c, db, cust, skill)
}

// warmed is a store of ten customers behind a cache warmed with all of them.
func warmed(t *testing.T) (*sqlite.DB, *world, *cache.Store) {
	t.Helper()
	db := openSQLite(t)
	w := newWorld(t, db, 10)
	c := cache.New(db, cache.Options{})
	if err := c.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db, w, c
}

// TestImportDropsNewCustomer: an import that stores a new customer but
// does not cache it (a zero UpdatedAt, which the store stamps) leaves the
// cache incomplete, so that a second import of the customer is not taken
// for a new one, whose record would lack the first import's consent.
func TestImportDropsNewCustomer(t *testing.T) {
	db, w, c := warmed(t)
	ctx := t.Context()
	id := "amzn1.ask.account.NEW"
	now := time.Now()
	if err := c.ImportCustomers(ctx,
		[]*profileapi.Customer{{ID: id, Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "N"}, CreatedAt: now}}, // UpdatedAt zero
		[]*profileapi.Consent{{CustomerID: id, SkillID: w.skills[0], Scopes: profileapi.AllScopes}}); err != nil {
		t.Fatal(err)
	}
	importCustomer(t, c, id, w.skills[1])
	same(t, c, db, id, w.skills[0])
}

// failSkillStore's Skill fails once: a read error right after an import's
// commit, which no real store produces on demand.
type failSkillStore struct {
	*sqlite.DB
	fail bool
}

func (s *failSkillStore) Skill(ctx context.Context, id string) (*profileapi.Skill, error) {
	if s.fail {
		s.fail = false
		return nil, profileapi.Errorf(profileapi.EINTERNAL, "injected")
	}
	return s.DB.Skill(ctx, id)
}

// TestImportSkillLookupFails: as TestImportDropsNewCustomer, when the
// cache cannot learn an imported consent's skill after the commit.
func TestImportSkillLookupFails(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 10)
	fs := &failSkillStore{DB: db}
	c := cache.New(fs, cache.Options{})
	ctx := t.Context()
	if err := c.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	// A skill created through the cache is unknown to it until read.
	nsk := &profileapi.Skill{ID: "amzn1.ask.skill.new", Name: "New", Permissions: profileapi.AllScopes}
	if err := c.CreateSkill(ctx, nsk); err != nil {
		t.Fatal(err)
	}
	id := "amzn1.ask.account.NEW"
	now := time.Now()
	fs.fail = true
	if err := c.ImportCustomers(ctx,
		[]*profileapi.Customer{{ID: id, Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "N"}, CreatedAt: now, UpdatedAt: now}},
		[]*profileapi.Consent{{CustomerID: id, SkillID: nsk.ID, Scopes: profileapi.AllScopes}}); err != nil {
		t.Fatal(err)
	}
	same(t, c, db, w.customers[1], nsk.ID) // the cache learns the new skill via another customer
	importCustomer(t, c, id, w.skills[1])
	same(t, c, db, id, nsk.ID)
}

// hookLister runs after once EachCustomer has listed every customer: while
// Warm is between its last put and deciding whether the cache is complete.
type hookLister struct {
	*sqlite.DB
	after func()
}

func (h *hookLister) EachCustomer(ctx context.Context, fn func(*profileapi.Customer, []*profileapi.Consent) error) error {
	err := h.DB.EachCustomer(ctx, fn)
	if h.after != nil {
		h.after()
	}
	return err
}

// TestWarmKeepsLaterDrop: a write that drops a warmed customer's record (a
// refused PATCH) at the end of Warm leaves the cache incomplete.
func TestWarmKeepsLaterDrop(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 10)
	h := &hookLister{DB: db}
	c := cache.New(h, cache.Options{})
	ctx := t.Context()
	cust := w.customers[0] // grants skills 0 and 2
	h.after = func() { _ = refuseUpdate(ctx, c, cust) }
	if err := c.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	importCustomer(t, c, cust, w.skills[1])
	for _, sk := range w.skills {
		same(t, c, db, cust, sk)
	}
}

// TestImportDuringWarm: a new customer imported while the cache warms up,
// as serve's admin API allows, and not cached then, keeps the cache
// incomplete.
func TestImportDuringWarm(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 10)
	h := &hookLister{DB: db}
	c := cache.New(h, cache.Options{})
	ctx := t.Context()
	id := "amzn1.ask.account.NEW"
	now := time.Now()
	h.after = func() {
		if err := c.ImportCustomers(ctx,
			[]*profileapi.Customer{{ID: id, Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "N"}, CreatedAt: now, UpdatedAt: now}},
			[]*profileapi.Consent{{CustomerID: id, SkillID: w.skills[0], Scopes: profileapi.AllScopes}}); err != nil {
			t.Error(err)
		}
	}
	if err := c.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	importCustomer(t, c, id, w.skills[1])
	same(t, c, db, id, w.skills[0])
}

// importCustomer imports the customer id, with fresh times, and its
// consent to skill, through the cache.
func importCustomer(t *testing.T, c *cache.Store, id, skill string) {
	t.Helper()
	now := time.Now()
	if err := c.ImportCustomers(t.Context(),
		[]*profileapi.Customer{{ID: id, Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "Imported"}, CreatedAt: now, UpdatedAt: now}},
		[]*profileapi.Consent{{CustomerID: id, SkillID: skill, Scopes: profileapi.AllScopes}}); err != nil {
		t.Fatal(err)
	}
}

// refuseUpdate runs an update of the customer that its function refuses:
// the cache drops the record.
func refuseUpdate(ctx context.Context, c *cache.Store, id string) error {
	_, err := c.UpdateCustomer(ctx, id, func(*profileapi.Customer) error {
		return profileapi.Errorf(profileapi.EINVALID, "refused")
	})
	return err
}
