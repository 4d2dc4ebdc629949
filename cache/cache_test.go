package cache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/cache"
	"github.com/profileapi/profileapi/sqlite"
	"github.com/profileapi/profileapi/storetest"
)

func openSQLite(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The cache is a store like any other, warmed or not.
func TestConformance(t *testing.T) {
	t.Run("cold", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) profileapi.Store { return cache.New(openSQLite(t), cache.Options{}) })
	})
	t.Run("warm", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) profileapi.Store {
			c := cache.New(openSQLite(t), cache.Options{})
			if err := c.Warm(t.Context()); err != nil {
				t.Fatal(err)
			}
			return c
		})
	})
	t.Run("tiny", func(t *testing.T) { // evicting all the time
		storetest.Run(t, func(t *testing.T) profileapi.Store { return cache.New(openSQLite(t), cache.Options{MaxBytes: 1}) })
	})
}

// world is a store with skills and customers, some consents given.
type world struct {
	db        *sqlite.DB
	skills    []string
	customers []string
}

func newWorld(t testing.TB, db *sqlite.DB, customers int) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{db: db}
	for i := range 3 {
		sk := &profileapi.Skill{ID: fmt.Sprintf("amzn1.ask.skill.s%d", i), Name: "S", Permissions: profileapi.AllScopes}
		if err := db.CreateSkill(ctx, sk); err != nil {
			t.Fatal(err)
		}
		w.skills = append(w.skills, sk.ID)
	}
	var cs []*profileapi.Customer
	var consents []*profileapi.Consent
	for i := range customers {
		c := &profileapi.Customer{ID: fmt.Sprintf("amzn1.ask.account.C%d", i), Region: profileapi.Regions[i%3], Profile: profileapi.Profile{
			Name: fmt.Sprintf("Customer %d", i), Email: fmt.Sprintf("c%d@example.com", i),
		}}
		if i%2 == 0 {
			c.Profile.MobileNumber = &profileapi.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799827710"}
		}
		cs = append(cs, c)
		w.customers = append(w.customers, c.ID)
		for j, sk := range w.skills {
			if (i+j)%2 == 0 {
				consents = append(consents, &profileapi.Consent{CustomerID: c.ID, SkillID: sk, Scopes: profileapi.ScopeSet(1 + (i+j)%15)})
			}
		}
	}
	if err := db.ImportCustomers(ctx, cs, consents); err != nil {
		t.Fatal(err)
	}
	return w
}

// same checks that the cache answers Access as the store does.
func same(t testing.TB, c *cache.Store, db *sqlite.DB, customerID, skillID string) {
	t.Helper()
	ctx := context.Background()
	want, werr := db.Access(ctx, customerID, skillID)
	got, gerr := c.Access(ctx, customerID, skillID)
	if profileapi.ErrorKind(werr) != profileapi.ErrorKind(gerr) || (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("Access(%s, %s): cache %+v %v, store %+v %v", customerID, skillID, got, gerr, want, werr)
	}
}

func TestWarm(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 5000) // several pages
	c := cache.New(db, cache.Options{})
	if err := c.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Customers != 5000 {
		t.Fatalf("%d customers cached, want 5000", st.Customers)
	}
	for i, id := range w.customers {
		same(t, c, db, id, w.skills[i%3])
	}
	same(t, c, db, "amzn1.ask.account.NOBODY", w.skills[0])
	same(t, c, db, w.customers[0], "amzn1.ask.skill.nothing")
	if st := c.Stats(); st.Misses != 2 {
		t.Fatalf("%d misses after a warm-up, want the 2 unknown ids only", st.Misses)
	}
}

// Every write through the cache is seen by the very next Access.
func TestWritesShowAtOnce(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 10)
	c := cache.New(db, cache.Options{})
	ctx := t.Context()
	cust, skill := w.customers[0], w.skills[0]
	steps := []struct {
		name  string
		write func() error
	}{
		{"revoke", func() error { return c.DeleteConsent(ctx, cust, skill) }},
		{"grant", func() error {
			return c.PutConsent(ctx, &profileapi.Consent{CustomerID: cust, SkillID: skill, Scopes: profileapi.NewScopeSet(profileapi.ScopeEmail)})
		}},
		{"regrant", func() error {
			return c.PutConsent(ctx, &profileapi.Consent{CustomerID: cust, SkillID: skill, Scopes: profileapi.AllScopes})
		}},
		{"update", func() error {
			_, err := c.UpdateCustomer(ctx, cust, func(c *profileapi.Customer) error {
				c.Profile.Email, c.Profile.MobileNumber, c.Region = "new@example.com", nil, profileapi.RegionFE
				return nil
			})
			return err
		}},
		{"failed update", func() error {
			_, err := c.UpdateCustomer(ctx, cust, func(c *profileapi.Customer) error {
				c.Profile.Email = "lost@example.com"
				return profileapi.Errorf(profileapi.EINVALID, "no")
			})
			if err == nil {
				return fmt.Errorf("the update did not fail")
			}
			return nil
		}},
		{"delete skill", func() error { return c.DeleteSkill(ctx, skill) }},
		{"recreate skill", func() error {
			return c.CreateSkill(ctx, &profileapi.Skill{ID: skill, Name: "Again", Permissions: profileapi.NewScopeSet(profileapi.ScopeName)})
		}},
		{"grant again", func() error {
			return c.PutConsent(ctx, &profileapi.Consent{CustomerID: cust, SkillID: skill, Scopes: profileapi.NewScopeSet(profileapi.ScopeName)})
		}},
		{"delete customer", func() error { return c.DeleteCustomer(ctx, cust) }},
		{"recreate customer", func() error {
			return c.CreateCustomer(ctx, &profileapi.Customer{ID: cust, Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "Reborn"}})
		}},
		{"import", func() error {
			return c.ImportCustomers(ctx, []*profileapi.Customer{{ID: cust, Region: profileapi.RegionEU, Profile: profileapi.Profile{Name: "Imported"}, CreatedAt: time.Now(), UpdatedAt: time.Now()}},
				[]*profileapi.Consent{{CustomerID: cust, SkillID: w.skills[1], Scopes: profileapi.AllScopes}})
		}},
	}
	for _, step := range steps {
		// Read first, so that the cache holds what the write changes.
		for _, sk := range w.skills {
			if _, err := c.Access(ctx, cust, sk); err != nil && !profileapi.IsNotFound(err) {
				t.Fatal(err)
			}
		}
		if err := step.write(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		for _, sk := range w.skills {
			same(t, c, db, cust, sk)
		}
	}
}

// Readers and writers at once: whatever the interleaving, once the writes
// are done the cache answers as the store does, and each writer sees its
// own write at once.
func TestConcurrentReadersAndWriters(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 50)
	c := cache.New(db, cache.Options{})
	ctx := t.Context()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = c.Access(ctx, w.customers[rng.IntN(len(w.customers))], w.skills[rng.IntN(len(w.skills))])
			}
		})
	}
	var writers sync.WaitGroup
	errs := make(chan error, 100)
	for wr := range 4 {
		writers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(wr), 2))
			for i := range 150 {
				cust := w.customers[rng.IntN(len(w.customers))]
				skill := w.skills[rng.IntN(len(w.skills))]
				scopes := profileapi.ScopeSet(rng.IntN(16))
				var err error
				switch rng.IntN(4) {
				case 0:
					err = c.PutConsent(ctx, &profileapi.Consent{CustomerID: cust, SkillID: skill, Scopes: scopes})
				case 1:
					err = c.DeleteConsent(ctx, cust, skill)
				case 2:
					_, err = c.UpdateCustomer(ctx, cust, func(c *profileapi.Customer) error {
						c.Profile.Name = fmt.Sprintf("Writer %d, write %d", wr, i)
						return nil
					})
				case 3:
					_, _ = c.Access(ctx, cust, skill)
				}
				if err != nil && !profileapi.IsNotFound(err) {
					errs <- err
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, cust := range w.customers {
		for _, sk := range w.skills {
			same(t, c, db, cust, sk)
		}
	}
}

// A warm cache takes what is imported through it, with the times the
// store keeps: a customer imported again keeps its first CreatedAt.
func TestImportIntoWarmCache(t *testing.T) {
	db := openSQLite(t)
	c := cache.New(db, cache.Options{})
	ctx := t.Context()
	if err := c.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateSkill(ctx, &profileapi.Skill{ID: "amzn1.ask.skill.i", Name: "I", Permissions: profileapi.AllScopes}); err != nil {
		t.Fatal(err)
	}
	first := time.Now().Add(-time.Hour)
	customers := []*profileapi.Customer{
		{ID: "amzn1.ask.account.I1", Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "One"}, CreatedAt: first, UpdatedAt: first},
		{ID: "amzn1.ask.account.I2", Region: profileapi.RegionEU, Profile: profileapi.Profile{Email: "two@example.com"}, CreatedAt: first, UpdatedAt: first},
	}
	consents := []*profileapi.Consent{{CustomerID: "amzn1.ask.account.I1", SkillID: "amzn1.ask.skill.i", Scopes: profileapi.AllScopes}}
	if err := c.ImportCustomers(ctx, customers, consents); err != nil {
		t.Fatal(err)
	}
	again := time.Now()
	customers[0].CreatedAt, customers[0].UpdatedAt, customers[0].Profile.Name = again, again, "One again"
	if err := c.ImportCustomers(ctx, customers[:1], nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"amzn1.ask.account.I1", "amzn1.ask.account.I2"} {
		same(t, c, db, id, "amzn1.ask.skill.i")
	}
	if st := c.Stats(); st.Misses != 0 || st.Customers != 2 {
		t.Fatalf("stats %+v: the imported customers were not cached", st)
	}
}

// With MaxAge, a write the cache did not see (another node's) shows once
// the entry is that old.
func TestMaxAge(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 1)
	now := time.Now()
	c := cache.New(db, cache.Options{MaxAge: time.Second, Now: func() time.Time { return now }})
	ctx := t.Context()
	cust, skill := w.customers[0], w.skills[0]
	same(t, c, db, cust, skill)
	if err := db.DeleteConsent(ctx, cust, skill); err != nil { // behind the cache's back
		t.Fatal(err)
	}
	if a, _ := c.Access(ctx, cust, skill); a.Granted == 0 {
		t.Fatal("the cache read the store again before MaxAge")
	}
	now = now.Add(time.Second)
	same(t, c, db, cust, skill)
}

// TestImportWithMaxAge: with a MaxAge, a customer the cache does not hold
// may still be in the store (its record went stale, or another node
// created it), so an import of it is not taken for a new customer, whose
// record would hold the import's creation time and none of its other
// consents.
func TestImportWithMaxAge(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 2)
	start := time.Now()
	now := start
	c := cache.New(db, cache.Options{MaxAge: time.Second, Now: func() time.Time { return now }})
	ctx := t.Context()
	if err := c.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	cust, skill := w.customers[0], w.skills[0]
	now = start.Add(2 * time.Second) // the warm record is stale
	at := time.Now().Add(time.Minute)
	again := []*profileapi.Customer{{ID: cust, Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "Again"}, CreatedAt: at, UpdatedAt: at}}
	if err := c.ImportCustomers(ctx, again, nil); err != nil {
		t.Fatal(err)
	}
	same(t, c, db, cust, skill)

	// Created behind the cache's back, as by another node.
	other := &profileapi.Customer{ID: "amzn1.ask.account.ELSEWHERE", Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "Else"}}
	if err := db.CreateCustomer(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := db.PutConsent(ctx, &profileapi.Consent{CustomerID: other.ID, SkillID: skill, Scopes: profileapi.AllScopes}); err != nil {
		t.Fatal(err)
	}
	again[0].ID = other.ID
	if err := c.ImportCustomers(ctx, again, nil); err != nil {
		t.Fatal(err)
	}
	same(t, c, db, other.ID, skill)
}

// MaxAge holds to the millisecond, not the second: with 100 ms or 1.5 s,
// another node's revocation shows once the entry is that old, not at the
// next whole second.
func TestMaxAgeSubSecond(t *testing.T) {
	for _, maxAge := range []time.Duration{100 * time.Millisecond, 1500 * time.Millisecond} {
		t.Run(maxAge.String(), func(t *testing.T) {
			db := openSQLite(t)
			w := newWorld(t, db, 1)
			start := time.Now()
			now := start
			c := cache.New(db, cache.Options{MaxAge: maxAge, Now: func() time.Time { return now }})
			ctx := t.Context()
			cust, skill := w.customers[0], w.skills[0]
			same(t, c, db, cust, skill)
			if err := db.DeleteConsent(ctx, cust, skill); err != nil { // behind the cache's back
				t.Fatal(err)
			}
			for _, at := range []time.Duration{maxAge / 2, maxAge - time.Millisecond} {
				now = start.Add(at)
				if a, err := c.Access(ctx, cust, skill); err != nil || a.Granted == 0 {
					t.Fatalf("at %s: %+v %v, want the grant cached", at, a, err)
				}
			}
			if st := c.Stats(); st.Misses != 1 {
				t.Fatalf("%d misses before MaxAge, want the first read only", st.Misses)
			}
			now = start.Add(maxAge)
			same(t, c, db, cust, skill)
			if st := c.Stats(); st.Misses != 2 {
				t.Fatalf("%d misses at MaxAge, want the entry read again", st.Misses)
			}
		})
	}
}

// A write through this node, or another skill's read, keeps the grants
// the record holds; they were read when the record was, so they must be
// read again MaxAge after that, or a grant another node revoked is served
// for as long as the customer keeps being written to here.
func TestMaxAgeBoundsKeptGrants(t *testing.T) {
	for name, touch := range map[string]func(c *cache.Store, cust, other string) error{
		"write through this node": func(c *cache.Store, cust, _ string) error {
			_, err := c.UpdateCustomer(t.Context(), cust, func(p *profileapi.Customer) error {
				p.Profile.GivenName = "Renamed"
				return nil
			})
			return err
		},
		"another skill's read": func(c *cache.Store, cust, other string) error {
			_, err := c.Access(t.Context(), cust, other)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			db := openSQLite(t)
			w := newWorld(t, db, 1)
			start := time.Now()
			now := start
			c := cache.New(db, cache.Options{MaxAge: 3 * time.Second, Now: func() time.Time { return now }})
			cust, revoked, other := w.customers[0], w.skills[0], w.skills[2] // both granted
			same(t, c, db, cust, revoked)
			if err := db.DeleteConsent(t.Context(), cust, revoked); err != nil { // another node's write
				t.Fatal(err)
			}
			for _, at := range []time.Duration{1 * time.Second, 2 * time.Second} {
				now = start.Add(at)
				if err := touch(c, cust, other); err != nil {
					t.Fatal(err)
				}
			}
			now = start.Add(3 * time.Second)
			same(t, c, db, cust, revoked)
		})
	}
}

// With room for a few customers only, answers stay right.
func TestEviction(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 3000)
	const max = 8 * 10 << 10 // per shard of 8: a table of 8 KiB and records of 2 KiB, some 30 customers
	c := cache.New(db, cache.Options{MaxBytes: max})
	if err := c.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for i, id := range w.customers {
			same(t, c, db, id, w.skills[(i+round)%3])
		}
	}
	st := c.Stats()
	if st.Bytes > max || st.Customers >= len(w.customers) {
		t.Fatalf("%+v: over the bound, or nothing evicted", st)
	}
	t.Logf("%+v", st)
}

func BenchmarkAccess(b *testing.B) { benchAccess(b, cache.Options{}) }

// BenchmarkAccessMaxAge is BenchmarkAccess with a MaxAge, as with
// PostgreSQL: every hit also reads the clock.
func BenchmarkAccessMaxAge(b *testing.B) { benchAccess(b, cache.Options{MaxAge: time.Hour}) }

func benchAccess(b *testing.B, opts cache.Options) {
	db := openSQLite(b)
	w := newWorld(b, db, 100_000)
	c := cache.New(db, opts)
	if err := c.Warm(b.Context()); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Access(ctx, w.customers[i%len(w.customers)], w.skills[i%3]); err != nil {
			b.Fatal(err)
		}
		i += 7
	}
	b.ReportMetric(float64(c.Stats().Bytes)/float64(len(w.customers)), "bytes/customer")
}

func BenchmarkAccessParallel(b *testing.B) {
	db := openSQLite(b)
	w := newWorld(b, db, 100_000)
	c := cache.New(db, cache.Options{})
	if err := c.Warm(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		i := rand.IntN(len(w.customers))
		for pb.Next() {
			if _, err := c.Access(ctx, w.customers[i%len(w.customers)], w.skills[i%3]); err != nil {
				b.Error(err)
				return
			}
			i += 7
		}
	})
}

// healthStore is a store whose availability and opening the test sets.
type healthStore struct {
	*sqlite.DB
	mu      sync.Mutex
	down    error
	opening int
}

func (h *healthStore) Unavailable() error { h.mu.Lock(); defer h.mu.Unlock(); return h.down }
func (h *healthStore) Opening() any       { h.mu.Lock(); defer h.mu.Unlock(); return h.opening }

// While the database is unavailable, the cache answers as the store does;
// once the store reopens it, the cache forgets what it read before.
func TestHealth(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 10)
	h := &healthStore{DB: db}
	c := cache.New(h, cache.Options{})
	if err := c.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	cust, skill := w.customers[0], w.skills[0]
	same(t, c, db, cust, skill)

	h.mu.Lock()
	h.down = profileapi.Unavailable(fmt.Errorf("the file went away"), time.Second)
	h.mu.Unlock()
	if _, err := c.Access(t.Context(), cust, skill); profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE {
		t.Fatalf("Access while the database is unavailable: %v", err)
	}
	// Another database comes back in its place.
	if err := db.DeleteConsent(t.Context(), cust, skill); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.down, h.opening = nil, 1
	h.mu.Unlock()
	same(t, c, db, cust, skill)
}

// pausingStore holds the first Access after reading it, so a test can
// write in between the read and the cache keeping what was read: an
// interleaving the real store cannot be made to produce on cue.
type pausingStore struct {
	profileapi.Store
	paused        atomic.Bool
	read, proceed chan struct{}
}

func (p *pausingStore) Access(ctx context.Context, customerID, skillID string) (*profileapi.Access, error) {
	a, err := p.Store.Access(ctx, customerID, skillID)
	if p.paused.CompareAndSwap(false, true) { // only the first
		close(p.read)
		<-p.proceed
	}
	return a, err
}

// A skill deleted and made anew while a read of its old consent is in
// flight: the old grant must not be kept for the new skill.
func TestSkillRecreatedDuringReadThrough(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	p := &pausingStore{Store: db, read: make(chan struct{}), proceed: make(chan struct{})}
	c := cache.New(p, cache.Options{})
	now := time.Now()
	skill := &profileapi.Skill{ID: "amzn1.ask.skill.s", Name: "S", Permissions: profileapi.AllScopes, CreatedAt: now}
	for _, err := range []error{
		c.CreateSkill(ctx, skill),
		c.CreateCustomer(ctx, &profileapi.Customer{ID: "amzn1.ask.account.C", Region: profileapi.RegionNA, Profile: profileapi.Profile{Email: "c@example.com"}, CreatedAt: now, UpdatedAt: now}),
		c.CreateCustomer(ctx, &profileapi.Customer{ID: "amzn1.ask.account.D", Region: profileapi.RegionNA, CreatedAt: now, UpdatedAt: now}),
		c.PutConsent(ctx, &profileapi.Consent{CustomerID: "amzn1.ask.account.C", SkillID: skill.ID, Scopes: profileapi.AllScopes, UpdatedAt: now}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error)
	go func() { _, err := c.Access(ctx, "amzn1.ask.account.C", skill.ID); done <- err }()
	<-p.read // the old grant has been read from the store
	if err := c.DeleteSkill(ctx, skill.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateSkill(ctx, skill); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Access(ctx, "amzn1.ask.account.D", skill.ID); err != nil { // caches the new skill
		t.Fatal(err)
	}
	close(p.proceed)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a, err := c.Access(ctx, "amzn1.ask.account.C", skill.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Granted != 0 {
		t.Fatalf("the recreated skill has the old skill's grant %s; the store has none", a.Granted)
	}
}

// BenchmarkWarmSkills is the warm-up of a store with many skills and few
// customers: the skills are learnt, and published, once.
func BenchmarkWarmSkills(b *testing.B) {
	db := openSQLite(b)
	ctx := context.Background()
	for i := range 10_000 {
		if err := db.CreateSkill(ctx, &profileapi.Skill{ID: fmt.Sprintf("amzn1.ask.skill.w%d", i), Name: "W", Permissions: profileapi.AllScopes}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		c := cache.New(db, cache.Options{})
		if err := c.Warm(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Access(ctx, "amzn1.ask.account.none", "amzn1.ask.skill.w9999"); !profileapi.IsNotFound(err) {
			b.Fatalf("Access of no customer: %v", err)
		}
	}
}

// A skill another node changed is learnt again when an access read after
// MaxAge brings its new scopes: its customers are cached again, not read
// from the store on every call until a restart, and the scopes it no
// longer declares are not served from records read before.
func TestSkillChangedElsewhere(t *testing.T) {
	db := openSQLite(t)
	w := newWorld(t, db, 2)
	start := time.Now()
	now := start
	c := cache.New(db, cache.Options{MaxAge: time.Second, Now: func() time.Time { return now }})
	ctx := t.Context()
	skill := w.skills[0]
	same(t, c, db, w.customers[0], skill)
	now = start.Add(time.Second / 2)
	same(t, c, db, w.customers[1], skill) // fresh until 1.5 s
	narrowed := &profileapi.Skill{ID: skill, Name: "S", Permissions: profileapi.NewScopeSet(profileapi.ScopeName)}
	if err := db.UpdateSkill(ctx, narrowed); err != nil { // behind the cache's back
		t.Fatal(err)
	}
	now = start.Add(time.Second)
	same(t, c, db, w.customers[0], skill) // read again: the new scopes
	misses := c.Stats().Misses
	for range 3 {
		same(t, c, db, w.customers[0], skill)
	}
	if st := c.Stats(); st.Misses != misses {
		t.Fatalf("%d misses after the skill was read again, want none: it is cached again", st.Misses-misses)
	}
	// The other customer's record is still within MaxAge, but its grant
	// was read under the old scopes: it is read again, not served.
	same(t, c, db, w.customers[1], skill)
}
