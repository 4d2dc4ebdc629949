// Package cache keeps what the public API reads of each customer, the
// profile and the consents, in memory in front of a profileapi.Store, so
// that answering a call costs a hash lookup instead of a database query.
//
// It is a write-through cache for one process. Every write goes through
// it to the store, one at a time, and the cache takes the stored result
// before the write returns: a revocation or a profile change holds for the
// very next call. A read it cannot answer goes to the store and is kept,
// unless a write to the same shard happened meanwhile. So it is exact as
// long as this process is the only one writing to the store.
//
// With other writers (several nodes on one PostgreSQL database), set
// Options.MaxAge: an entry older than that is read again, which bounds how
// long another node's write can go unseen.
package cache

import (
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/profileapi/profileapi"
)

// Importer is a store that imports customers in bulk, as *sqlite.DB does:
// a customer imported has the consents given with it and no other. It
// writes back into each customer the CreatedAt it keeps, the first for
// one it had already: the cache keeps that for a customer it did not hold,
// and tokens name it.
type Importer interface {
	ImportCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error
}

// Lister is a store that lists every customer with its consents, as
// *sqlite.DB does; Warm reads it.
type Lister interface {
	EachCustomer(ctx context.Context, fn func(c *profileapi.Customer, consents []*profileapi.Consent) error) error
}

// Health is a store that tells cheaply whether its database is available
// and which opening of it the store is on, as *sqlite.DB does. In front
// of one, the cache answers as the store would while the database is
// unavailable, and forgets everything when the store reopens on what may
// be another database.
type Health interface {
	// Unavailable returns the error calls answer while the database is
	// unavailable, or nil.
	Unavailable() error
	// Opening changes when the store reopens the database.
	Opening() any
}

// Options tune a cache; the zero value is the defaults.
type Options struct {
	// MaxBytes bounds the memory of the cached customers: 1 GiB if zero.
	// A customer takes about a hundred bytes.
	MaxBytes int64
	// MaxAge, if positive, is how long a cached customer is used before it
	// is read again from the store, to the millisecond (never late). Zero:
	// until a write through the cache changes it.
	MaxAge time.Duration
	// Now is the clock of MaxAge; time.Now if nil.
	Now func() time.Time
}

// Store is a profileapi.Store with Access answered from memory. Its other
// reads go to the store it wraps.
type Store struct {
	profileapi.Store

	seed   maphash.Seed
	seed2  maphash.Seed
	dict   dict // shared strings of the records
	max    int  // bytes per shard
	maxAge time.Duration
	now    func() time.Time
	start  time.Time
	shards [shardCount]shard

	// writes serializes the writes and what the cache learns of them, so
	// that the cache sees them in the order the store does.
	writes sync.Mutex

	// skillsMu guards the skills and their counters; readers of a call's
	// skill use skillsView, a copy published after each change, so that
	// the hot path writes no memory shared by every call.
	skillsMu   sync.RWMutex
	skills     map[string]skillEntry
	nextSkill  uint32
	skillsGen  uint64
	skillsView atomic.Pointer[map[string]skillEntry]
	// outlived holds the skills whose consents in the store outlived
	// their number here (an update narrows them, a failed write may not
	// have happened): records complete before the new number lack them.
	outlived map[string]bool

	// complete is set while every customer of the store is cached: then
	// a customer the cache does not have is new to the store too. Never
	// with a MaxAge (see Warm).
	complete atomic.Bool
	// losses counts the times the cache may have stopped holding a
	// customer of the store (an eviction, a write that dropped a record,
	// a write whose outcome is not known), each of which clears complete;
	// Warm sets complete only if none happened while it ran. completeMu
	// orders the two, so that a loss is never undone.
	completeMu sync.Mutex
	losses     uint64

	health  Health // nil if the store is not one
	opening atomic.Value
	warming atomic.Bool
}

// skillEntry is a skill as the cache knows it: a number, new each time the
// skill is created, and the scopes it declares.
type skillEntry struct {
	number   uint32
	declared profileapi.ScopeSet
	created  time.Time // at the store's precision
	// renumbered: the skill had a number before, and its consents may
	// be in the store but not under this number in a complete record.
	renumbered bool
}

var _ profileapi.Store = (*Store)(nil)

// New returns a cache in front of store, empty; Warm fills it.
func New(store profileapi.Store, opts Options) *Store {
	s := &Store{
		Store:  store,
		seed:   maphash.MakeSeed(),
		seed2:  maphash.MakeSeed(),
		maxAge: opts.MaxAge,
		now:    opts.Now,
		skills: map[string]skillEntry{},
	}
	max := opts.MaxBytes
	if max <= 0 {
		max = 1 << 30
	}
	s.max = int(max / shardCount)
	if s.now == nil {
		s.now = time.Now
	}
	s.start = s.now()
	for i := range s.shards {
		s.shards[i].stamped = s.maxAge > 0
	}
	if h, ok := store.(Health); ok {
		s.health = h
		s.opening.Store(openingOf(h))
	}
	return s
}

// opening wraps what Health.Opening returns, which atomic.Value needs of
// one type.
type opening struct{ v any }

func openingOf(h Health) opening { return opening{h.Opening()} }

// checkHealth returns the store's error while its database is
// unavailable, and forgets everything once the store has reopened it.
func (s *Store) checkHealth() error {
	if s.health == nil {
		return nil
	}
	if err := s.health.Unavailable(); err != nil {
		return err
	}
	if now := openingOf(s.health); now != s.opening.Load() {
		s.forgetAll(now)
	}
	return nil
}

// forgetAll empties the cache, after the store reopened its database,
// and fills it again in the background.
func (s *Store) forgetAll(now opening) {
	s.writes.Lock()
	defer s.writes.Unlock()
	if s.opening.Load() == now {
		return // another call did it
	}
	s.lose()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.clear()
		sh.mu.Unlock()
	}
	s.skillsMu.Lock()
	clear(s.skills)
	s.skillsGen++
	s.publishSkills()
	s.skillsMu.Unlock()
	s.opening.Store(now)
	go func() { _ = s.Warm(context.Background()) }()
}

func (s *Store) key(id string) key {
	return key{hi: maphash.String(s.seed, id), lo: maphash.String(s.seed2, id) & (1<<loBits - 1)}
}

func (s *Store) shardOf(k key) *shard { return &s.shards[k.hi%shardCount] }

// elapsed is the cache's clock for MaxAge: the time since New.
func (s *Store) elapsed() time.Duration { return s.now().Sub(s.start) }

// stamp is the cache's clock in milliseconds, as records hold it.
func (s *Store) stamp() int64 { return int64(s.elapsed() / time.Millisecond) }

// fresh reports whether a record of this stamp may still be used. The
// stamp is rounded down and the clock is not: an entry is read again up to
// a millisecond early, never late.
func (s *Store) fresh(stamp int64) bool {
	return s.maxAge <= 0 || s.elapsed()-time.Duration(stamp)*time.Millisecond < s.maxAge
}

// oldestKept is the oldest stamp a shard moving its epoch forward keeps:
// one MaxAge ago, but no more than half the records' range, so that an
// epoch lasts 24.8 days at least; with a longer MaxAge, an entry may then
// be read again after 24.8 days.
func (s *Store) oldestKept(now int64) int64 {
	return now - min(s.maxAge.Milliseconds(), stampRange/2)
}

// Stats are the cache's counters.
type Stats struct {
	Customers int
	// Bytes is the memory the customers take: their records, live or
	// not yet reclaimed, and the tables.
	Bytes        int
	Hits, Misses uint64
}

// Stats counts what the cache holds and how often it answered.
func (s *Store) Stats() Stats {
	var st Stats
	for i := range s.shards {
		sh := &s.shards[i]
		st.Hits += sh.hits.Load()
		st.Misses += sh.misses.Load()
		sh.mu.RLock()
		st.Customers += sh.count
		st.Bytes += sh.bytes()
		sh.mu.RUnlock()
	}
	return st
}

// Close closes the store and gives back the cache's memory.
func (s *Store) Close() error {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.clear()
		sh.mu.Unlock()
	}
	return s.Store.Close()
}

// Access answers from memory if it can, else from the store, keeping the
// answer.
func (s *Store) Access(ctx context.Context, customerID, skillID string) (*profileapi.Access, error) {
	if err := s.checkHealth(); err != nil {
		return nil, fmt.Errorf("cache: find access of a customer for skill %q: %w", skillID, err)
	}
	k := s.key(customerID)
	sh := s.shardOf(k)
	if a := s.cached(sh, k, customerID, skillID); a != nil {
		sh.hits.Add(1)
		return a, nil
	}
	sh.misses.Add(1)
	return s.readThrough(ctx, customerID, skillID)
}

func (s *Store) skill(id string) (skillEntry, bool) {
	if m := s.skillsView.Load(); m != nil {
		e, ok := (*m)[id]
		return e, ok
	}
	return skillEntry{}, false
}

// publishSkills makes the skills as they are now what skill reads. The
// caller holds skillsMu for writing. Skills change seldom, calls often.
func (s *Store) publishSkills() {
	m := maps.Clone(s.skills)
	s.skillsView.Store(&m)
}

// cached is the access from memory, or nil.
func (s *Store) cached(sh *shard, k key, customerID, skillID string) *profileapi.Access {
	sk, ok := s.skill(skillID)
	if !ok {
		return nil
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	off := sh.find(k)
	if off < 0 {
		return nil
	}
	_, stamp, body, _ := recordAt(sh.arena, off, sh.stamped)
	if !s.fresh(sh.epoch + int64(stamp)) {
		return nil
	}
	granted, found, complete := grantIn(body, sk.number)
	if !found && (!complete || sk.renumbered) {
		return nil // read through, which records the grant under this number
	}
	// The access and its mobile number, in one allocation: every call
	// makes one.
	a := new(struct {
		profileapi.Access
		phone profileapi.PhoneNumber
	})
	e := entry{phone: &a.phone}
	decode(body, &e, customerID, false, &s.dict)
	a.Access = profileapi.Access{Customer: e.customer, Declared: sk.declared, Granted: granted, SkillCreatedAt: sk.created}
	return &a.Access
}

// Reread is Access from the store itself, kept as Access keeps what it
// reads: for a call whose token names a customer or skill created after
// the one held, on another node since this one read it (MaxAge).
func (s *Store) Reread(ctx context.Context, customerID, skillID string) (*profileapi.Access, error) {
	if err := s.checkHealth(); err != nil {
		return nil, fmt.Errorf("cache: find access of a customer for skill %q: %w", skillID, err)
	}
	return s.readThrough(ctx, customerID, skillID)
}

// readThrough reads the access from the store and keeps it, unless a
// write happened since the read began.
func (s *Store) readThrough(ctx context.Context, customerID, skillID string) (*profileapi.Access, error) {
	k := s.key(customerID)
	sh := s.shardOf(k)
	sh.mu.RLock()
	gen := sh.gen
	sh.mu.RUnlock()
	readAt := s.stamp()
	s.skillsMu.RLock()
	skillsGen := s.skillsGen
	s.skillsMu.RUnlock()

	a, err := s.Store.Access(ctx, customerID, skillID)
	if err != nil {
		return nil, err
	}
	sk, ok := s.learnSkill(skillID, a.Declared, a.SkillCreatedAt, skillsGen)
	if !ok {
		return a, nil
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.gen != gen {
		return a, nil
	}
	e := entry{customer: a.Customer, stamp: readAt}
	if off := sh.find(k); off >= 0 {
		_, stamp, body, _ := recordAt(sh.arena, off, sh.stamped)
		var held entry
		decode(body, &held, customerID, true, &s.dict)
		// Keep the grants it knows, unless the record is of another
		// customer under the id (deleted and created again by another
		// node): those grants were that one's.
		if read := sh.epoch + int64(stamp); s.fresh(read) && held.customer.CreatedAt.Equal(toMillis(a.Customer.CreatedAt)) {
			e.complete, e.grants = held.complete, held.grants
			// The grants kept are as old as their record: a new stamp
			// would keep serving one another node has revoked past MaxAge.
			e.stamp = min(read, readAt)
		}
	}
	e.grants = setGrant(e.grants, sk.number, a.Granted)
	s.put(sh, k, &e)
	return a, nil
}

// learnSkill keeps a skill read with an access, unless a skill was
// created or deleted since the read began: even when the skill is cached,
// it may be a new skill of the same id, and the access read before belongs
// to the old one (whose consents were deleted with it). A skill read with
// other scopes or another creation time than the cache holds was changed,
// or deleted and created again, by another node: it is forgotten and
// learnt again, as UpdateSkill does here.
func (s *Store) learnSkill(id string, declared profileapi.ScopeSet, created time.Time, gen uint64) (skillEntry, bool) {
	m, ok := s.learnSkills([]*profileapi.Skill{{ID: id, Permissions: declared, CreatedAt: created}}, gen)
	return m[id], ok
}

// learnSkills is learnSkill for every skill of a store, published once:
// publishing copies the skills, and a store may have thousands.
func (s *Store) learnSkills(skills []*profileapi.Skill, gen uint64) (map[string]skillEntry, bool) {
	s.skillsMu.Lock()
	defer s.skillsMu.Unlock()
	if s.skillsGen != gen {
		return nil, false
	}
	learnt := false
	defer func() {
		if learnt {
			s.publishSkills()
		}
	}()
	numbers := make(map[string]skillEntry, len(skills))
	for _, sk := range skills {
		e, ok := s.skills[sk.ID]
		created := toMillis(sk.CreatedAt)
		if !ok || e.declared != sk.Permissions || !e.created.Equal(created) {
			// A new number: grants records hold under the old one were
			// narrowed in the store, or belong to a skill deleted since,
			// and are read again. A read begun before this one may hold
			// the old scopes: it is not kept.
			if ok {
				s.skillsGen++
			}
			e = skillEntry{number: s.nextSkill, declared: sk.Permissions, created: created, renumbered: ok || s.outlived[sk.ID]}
			s.nextSkill++
			s.skills[sk.ID] = e
			learnt = true
		}
		numbers[sk.ID] = e
	}
	return numbers, true
}

func setGrant(grants []grant, skill uint32, scopes profileapi.ScopeSet) []grant {
	for i := range grants {
		if grants[i].skill == skill {
			grants[i].scopes = scopes
			return grants
		}
	}
	return append(grants, grant{skill: skill, scopes: scopes})
}

// put stores e as k's record, stamped with e.stamp: when the oldest of
// what it holds was read. If the shard is full, it starts over empty, and
// the cache is no longer complete. The caller holds sh.mu.
func (s *Store) put(sh *shard, k key, e *entry) {
	if sh.stamped {
		now := s.stamp()
		if !sh.holds(e.stamp, s.oldestKept(now), s.fresh) {
			sh.remove(k) // read too long ago to be of use
			return
		}
	}
	rec, ok := encode(nil, k, e, sh.epoch, sh.stamped, &s.dict)
	if !ok {
		sh.remove(k)
		s.lose()
		return
	}
	if !sh.put(k, rec, s.max, s.fresh) {
		sh.clear()
		s.lose()
		sh.put(k, rec, s.max, s.fresh)
	}
}

// lose notes that the cache may no longer hold every customer of the store.
func (s *Store) lose() {
	s.completeMu.Lock()
	s.losses++
	s.complete.Store(false)
	s.completeMu.Unlock()
}

// update changes k's record under the shard's lock, after a write: fn gets
// the record (ok false if there is none) and says what to keep, or drop.
func (s *Store) update(id string, fn func(e *entry, ok bool) (keep bool)) {
	k := s.key(id)
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.gen++
	e := entry{stamp: s.stamp()}
	ok := false
	if off := sh.find(k); off >= 0 {
		_, stamp, body, _ := recordAt(sh.arena, off, sh.stamped)
		if read := sh.epoch + int64(stamp); s.fresh(read) {
			decode(body, &e, id, true, &s.dict)
			ok = true
			// What fn keeps of the record was read then, not now: a write
			// through this node does not make another node's revocation
			// of a grant kept here any less old.
			e.stamp = read
		}
	}
	if fn(&e, ok) {
		s.put(sh, k, &e)
		return
	}
	sh.remove(k)
	// The customer may be in the store (still, or now: an import that
	// stored it and could not cache it): an import must not take it for
	// a new one, whose record would lack its other consents.
	s.lose()
}

// removeDeleted drops a customer the store has just deleted: the cache
// still holds every customer the store has, if it did.
func (s *Store) removeDeleted(id string) {
	k := s.key(id)
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.gen++
	sh.remove(k)
}

// forget drops a customer after a write whose outcome is not known.
func (s *Store) forget(id string) {
	s.update(id, func(*entry, bool) bool { return false })
}

// CreateSkill creates the skill in the store.
func (s *Store) CreateSkill(ctx context.Context, sk *profileapi.Skill) error {
	return s.skillWrite(sk.ID, false, func() error { return s.Store.CreateSkill(ctx, sk) })
}

// UpdateSkill changes the skill in the store, which narrows the consents
// to it. The cache forgets the skill, as after CreateSkill: the grants its
// records hold under the old number were read before the narrowing. The
// consents themselves remain, so a complete record without a grant under
// the new number does not say there is none.
func (s *Store) UpdateSkill(ctx context.Context, sk *profileapi.Skill) error {
	return s.skillWrite(sk.ID, true, func() error { return s.Store.UpdateSkill(ctx, sk) })
}

// DeleteSkill deletes the skill, and with it every consent to it.
func (s *Store) DeleteSkill(ctx context.Context, id string) error {
	return s.skillWrite(id, false, func() error { return s.Store.DeleteSkill(ctx, id) })
}

// skillWrite runs a write of skill id among the cache's writes, then
// forgets the skill, whatever the outcome: a failed write may have been
// done. The skill's consents outlive it if the write keeps them, or if
// it failed and so may not have happened.
func (s *Store) skillWrite(id string, keepsConsents bool, write func() error) error {
	s.writes.Lock()
	defer s.writes.Unlock()
	err := write()
	s.forgetSkill(id, keepsConsents || err != nil)
	return err
}

// forgetSkill drops what the cache knows of a skill: the grants to it that
// customers' records hold name its old number, which no skill has again.
func (s *Store) forgetSkill(id string, outlived bool) {
	s.skillsMu.Lock()
	delete(s.skills, id)
	if outlived {
		if s.outlived == nil {
			s.outlived = map[string]bool{}
		}
		s.outlived[id] = true
	}
	s.skillsGen++
	s.publishSkills()
	s.skillsMu.Unlock()
}

// CreateCustomer creates the customer in the store and caches it: it has
// given no consent yet.
func (s *Store) CreateCustomer(ctx context.Context, c *profileapi.Customer) error {
	s.writes.Lock()
	defer s.writes.Unlock()
	err := s.Store.CreateCustomer(ctx, c)
	s.update(c.ID, func(e *entry, ok bool) bool {
		if err != nil {
			return ok && profileapi.ErrorKind(err) == profileapi.ECONFLICT // the one stored is unchanged
		}
		*e = entry{customer: *c, complete: true, stamp: s.stamp()}
		return true
	})
	if err != nil && profileapi.ErrorKind(err) != profileapi.ECONFLICT {
		s.lose() // it may have been created all the same
	}
	return err
}

// UpdateCustomer changes the customer in the store and in the cache.
func (s *Store) UpdateCustomer(ctx context.Context, id string, fn func(*profileapi.Customer) error) (*profileapi.Customer, error) {
	s.writes.Lock()
	defer s.writes.Unlock()
	c, err := s.Store.UpdateCustomer(ctx, id, fn)
	s.update(id, func(e *entry, ok bool) bool {
		if err != nil || !ok {
			return false
		}
		e.customer = *c
		return true
	})
	return c, err
}

// DeleteCustomer deletes the customer, and its consents.
func (s *Store) DeleteCustomer(ctx context.Context, id string) error {
	s.writes.Lock()
	defer s.writes.Unlock()
	err := s.Store.DeleteCustomer(ctx, id)
	if err == nil {
		s.removeDeleted(id)
	} else {
		s.forget(id)
	}
	return err
}

// PutConsent sets the consent in the store and in the cache.
func (s *Store) PutConsent(ctx context.Context, c *profileapi.Consent) error {
	s.writes.Lock()
	defer s.writes.Unlock()
	err := s.Store.PutConsent(ctx, c)
	s.setConsent(c.CustomerID, c.SkillID, c.Scopes, err)
	return err
}

// DeleteConsent revokes the consent in the store and in the cache.
func (s *Store) DeleteConsent(ctx context.Context, customerID, skillID string) error {
	s.writes.Lock()
	defer s.writes.Unlock()
	err := s.Store.DeleteConsent(ctx, customerID, skillID)
	if profileapi.IsNotFound(err) {
		return err // nothing changed
	}
	s.setConsent(customerID, skillID, 0, err)
	return err
}

// setConsent records a grant after a consent write; after a failed one,
// or for a skill the cache does not know, it drops the customer.
func (s *Store) setConsent(customerID, skillID string, scopes profileapi.ScopeSet, err error) {
	sk, known := s.skill(skillID)
	s.update(customerID, func(e *entry, ok bool) bool {
		if err != nil || !ok || !known {
			return false
		}
		e.grants = setGrant(e.grants, sk.number, scopes)
		return true
	})
}

// ImportCustomers imports into the store, then caches what it imported:
// a customer the cache has keeps its CreatedAt, as in the store; a new one
// is cached if the cache holds every customer, for then it knows the
// customer is new. A customer with a zero time, which the store stamps
// with its own clock, is dropped instead.
func (s *Store) ImportCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error {
	importer, ok := s.Store.(Importer)
	if !ok {
		return profileapi.Errorf(profileapi.EINVALID, "this server's store cannot import in bulk")
	}
	s.writes.Lock()
	defer s.writes.Unlock()
	err := importer.ImportCustomers(ctx, customers, consents)
	grants := make(map[string][]*profileapi.Consent, len(consents))
	for _, c := range consents {
		grants[c.CustomerID] = append(grants[c.CustomerID], c)
	}
	skills := map[string]knownSkill{}
	if err == nil {
		for _, c := range consents {
			if _, ok := skills[c.SkillID]; !ok {
				e, ok := s.skillForWrite(ctx, c.SkillID)
				skills[c.SkillID] = knownSkill{e, ok}
			}
		}
	}
	for _, c := range customers {
		s.update(c.ID, func(e *entry, cached bool) bool {
			// Read under the shard lock: a put during this loop may have
			// emptied a full shard and cleared complete meanwhile.
			complete := s.complete.Load()
			if err != nil || !cached && !complete || c.CreatedAt.IsZero() || c.UpdatedAt.IsZero() {
				return false
			}
			// Tokens name the creation time: a customer held keeps its
			// own; one not held (new, or dropped after a refused PATCH)
			// gets what the store wrote back, the first for one it had.
			created := c.CreatedAt
			if cached {
				created = e.customer.CreatedAt
			} else {
				*e = entry{complete: true, stamp: s.stamp()}
			}
			e.customer = *c
			e.customer.CreatedAt = toMillis(created)
			e.customer.UpdatedAt = toMillis(c.UpdatedAt)
			// It has the consents given with it and no other, as stored.
			e.grants = nil
			return setGrants(e, grants[c.ID], skills)
		})
	}
	// Consents of customers the import does not name: their records, if
	// held, take the grants too.
	named := make(map[string]bool, len(customers))
	for _, c := range customers {
		named[c.ID] = true
	}
	for id, gs := range grants {
		if !named[id] {
			s.update(id, func(e *entry, cached bool) bool {
				return err == nil && cached && setGrants(e, gs, skills)
			})
		}
	}
	if err != nil {
		s.lose() // what it stored is not known
	}
	return err
}

// setGrants records an import's consents in a record; false if a skill
// is not known, when the record must go.
func setGrants(e *entry, consents []*profileapi.Consent, skills map[string]knownSkill) bool {
	for _, g := range consents {
		sk := skills[g.SkillID]
		if !sk.ok {
			return false
		}
		e.grants = setGrant(e.grants, sk.number, g.Scopes)
	}
	return true
}

// knownSkill is a skill's entry and whether the cache could learn it.
type knownSkill struct {
	skillEntry
	ok bool
}

// toMillis is t at the store's precision.
func toMillis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// skillForWrite is the skill's entry, read from the store if need be. The
// caller holds s.writes: no skill is created or deleted meanwhile.
func (s *Store) skillForWrite(ctx context.Context, id string) (skillEntry, bool) {
	if e, ok := s.skill(id); ok {
		return e, true
	}
	sk, err := s.Store.Skill(ctx, id)
	if err != nil {
		return skillEntry{}, false
	}
	s.skillsMu.Lock()
	defer s.skillsMu.Unlock()
	if e, ok := s.skills[id]; ok {
		return e, true
	}
	e := skillEntry{number: s.nextSkill, declared: sk.Permissions, created: toMillis(sk.CreatedAt), renumbered: s.outlived[id]}
	s.nextSkill++
	s.skills[id] = e
	s.publishSkills()
	return e, true
}

// EachCustomer lists the store's customers with their consents, from the
// store: what an export reads is what the database holds, not a copy.
func (s *Store) EachCustomer(ctx context.Context, fn func(c *profileapi.Customer, consents []*profileapi.Consent) error) error {
	lister, ok := s.Store.(Lister)
	if !ok {
		return profileapi.Errorf(profileapi.EINVALID, "this store cannot list its customers")
	}
	return lister.EachCustomer(ctx, fn)
}

// Warm caches every skill and every customer of the store, if it can list
// them, and notes that the cache is complete if all fitted. Run it once,
// at start; requests are answered meanwhile, and writes may happen: a
// shard written to during the warm-up is not warmed further, as a page
// read before the write could be older than it.
func (s *Store) Warm(ctx context.Context) error {
	lister, ok := s.Store.(Lister)
	if !ok || !s.warming.CompareAndSwap(false, true) {
		return nil
	}
	defer s.warming.Store(false)
	s.completeMu.Lock()
	losses := s.losses
	s.completeMu.Unlock()
	var gens [shardCount]uint64
	for i := range s.shards {
		s.shards[i].mu.RLock()
		gens[i] = s.shards[i].gen
		s.shards[i].mu.RUnlock()
	}
	s.skillsMu.RLock()
	skillsGen := s.skillsGen
	s.skillsMu.RUnlock()
	skills, err := s.Store.Skills(ctx)
	if err != nil {
		return err
	}
	numbers, ok := s.learnSkills(skills, skillsGen)
	if !ok {
		return nil // a skill changed meanwhile: the cache warms as it is used
	}
	complete := true
	err = lister.EachCustomer(ctx, func(c *profileapi.Customer, consents []*profileapi.Consent) error {
		k := s.key(c.ID)
		sh := s.shardOf(k)
		e := entry{customer: *c, complete: true, stamp: s.stamp()}
		for _, g := range consents {
			sk, ok := numbers[g.SkillID]
			if !ok {
				complete = false // a skill created meanwhile
				return nil
			}
			e.grants = setGrant(e.grants, sk.number, g.Scopes)
		}
		sh.mu.Lock()
		defer sh.mu.Unlock()
		if sh.gen != gens[k.hi%shardCount] {
			complete = false
			return nil
		}
		s.put(sh, k, &e)
		return nil
	})
	if err != nil {
		return err
	}
	s.skillsMu.RLock()
	unchanged := s.skillsGen == skillsGen
	s.skillsMu.RUnlock()
	// With a MaxAge, a customer the cache lacks may be one whose record
	// went stale, or one another node created: the cache is never taken
	// for complete.
	s.completeMu.Lock()
	defer s.completeMu.Unlock()
	if complete && unchanged && s.losses == losses && s.maxAge <= 0 {
		s.complete.Store(true)
	}
	return nil
}
