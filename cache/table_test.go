package cache

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/profileapi/profileapi"
)

// TestRecordRoundTrip: a record decodes to the customer it was encoded
// from, whichever of its strings the encoding shortens (a given name that
// starts the name, a numbered domain or country code) and whichever it
// keeps whole.
func TestRecordRoundTrip(t *testing.T) {
	var d dict
	created := time.UnixMilli(1_700_000_000_123).UTC()
	phone := func(cc, n string) *profileapi.PhoneNumber {
		return &profileapi.PhoneNumber{CountryCode: cc, PhoneNumber: n}
	}
	profiles := []profileapi.Profile{
		{Name: "John Smith", GivenName: "John", Email: "john@example.com", MobileNumber: phone("+1", "206-555-0100")},
		{Name: "Smith John", GivenName: "John", Email: "john@example.com", MobileNumber: phone("+91", "7799-82-77-10")},
		{Name: "John", GivenName: "John", Email: "j@", MobileNumber: phone("", "1")},
		{Name: "", GivenName: "", Email: "", MobileNumber: nil},
		{Name: "Ada", GivenName: "", Email: "@example.com"},
		{Name: "", GivenName: "Ada", Email: "no-at-sign"},
		{Name: "Zoë Ünal", GivenName: "Zoë", Email: "zoë@bücher.example", MobileNumber: phone("+49", "030 1234567")},
		{Name: "a\x00b", GivenName: "a", Email: "x@y@z", MobileNumber: phone("+1", "")},
		{Name: "Jo", GivenName: "John", Email: "a@example.com"}, // the name is shorter than the given name
	}
	for i, p := range profiles {
		e := &entry{
			customer: profileapi.Customer{ID: fmt.Sprint("amzn1.ask.account.", i), Region: profileapi.Regions[i%3], Profile: p, CreatedAt: created, UpdatedAt: created.Add(time.Duration(i) * time.Second)},
			complete: i%2 == 0,
			grants:   []grant{{skill: 3, scopes: profileapi.AllScopes}, {skill: uint32(i) + 100, scopes: 1}},
		}
		for _, stamped := range []bool{false, true} {
			epoch := int64(i) << 30
			e.stamp = epoch + int64(i*7)
			k := key{hi: uint64(i), lo: uint64(i) * 0x9e3779b97f4a7c15 & (1<<loBits - 1)}
			rec, ok := encode(nil, k, e, epoch, stamped, &d)
			if !ok {
				t.Fatalf("%d: not encoded", i)
			}
			lo, stamp, body, size := recordAt(append([]byte("xx"), rec...), 2, stamped)
			if lo != k.lo || size != len(rec) || stamped && epoch+int64(stamp) != e.stamp {
				t.Fatalf("%d: record head lo %x stamp %d size %d, want %x %d %d", i, lo, stamp, size, k.lo, e.stamp, len(rec))
			}
			var got entry
			decode(body, &got, e.customer.ID, true, &d)
			got.stamp = e.stamp
			if !reflect.DeepEqual(&got, e) {
				t.Fatalf("%d (stamped %v): decoded\n%+v\nwant\n%+v", i, stamped, got, *e)
			}
			for _, g := range e.grants {
				if scopes, known := grantOf(body, g.skill); !known || scopes != g.scopes {
					t.Fatalf("%d: grantOf(%d) = %v %v, want %v", i, g.skill, scopes, known, g.scopes)
				}
			}
			if _, known := grantOf(body, 999); known != e.complete {
				t.Fatalf("%d: an unknown skill is known: %v, want %v", i, known, e.complete)
			}
		}
	}
}

// TestDictBound: past its bound the dictionary numbers nothing more, and
// records keep the strings whole.
func TestDictBound(t *testing.T) {
	var d dict
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range maxDict + 10 {
		p := profileapi.Profile{Name: "N", Email: fmt.Sprintf("u%d@d%d.example", rng.IntN(1000), i), MobileNumber: &profileapi.PhoneNumber{CountryCode: "+1", PhoneNumber: "5"}}
		e := &entry{customer: profileapi.Customer{ID: "c", Region: profileapi.RegionNA, Profile: p}}
		rec, _ := encode(nil, key{}, e, 0, false, &d)
		_, _, body, _ := recordAt(rec, 0, false)
		var got entry
		decode(body, &got, "c", false, &d)
		if got.customer.Profile.Email != p.Email || got.customer.Profile.MobileNumber.CountryCode != "+1" {
			t.Fatalf("%d: %+v, want %+v", i, got.customer.Profile, p)
		}
		if numbered := body[1]&flagDomain != 0; numbered != (i < maxDict-1) {
			t.Fatalf("%d: domain numbered %v with %d in the dictionary", i, numbered, len(d.list))
		}
	}
	if len(d.list) != maxDict {
		t.Fatalf("dictionary of %d, want its bound %d", len(d.list), maxDict)
	}
}

// TestShardBound: a shard filled until it refuses a record has never used
// more than its bound, table and records together, and has used most of
// it. The bounds are where tables of huge pages start to matter.
func TestShardBound(t *testing.T) {
	var d dict
	e := &entry{customer: profileapi.Customer{ID: "c", Region: profileapi.RegionNA, Profile: profileapi.Profile{
		Name: "Customer Number 123456", GivenName: "Customer", Email: "customer123456@example.com",
		MobileNumber: &profileapi.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799827710"},
	}}}
	rec, _ := encode(nil, key{}, e, 0, false, &d)
	keep := func(int64) bool { return true }
	for _, max := range []int{3 << 20, 8 << 20, 9 << 20} {
		var s shard
		rng := rand.New(rand.NewPCG(uint64(max), 1))
		for s.put(key{hi: rng.Uint64(), lo: rng.Uint64() & (1<<loBits - 1)}, rec, max, keep) {
			if s.bytes() > max {
				t.Fatalf("max %d: %d bytes with %d records", max, s.bytes(), s.count)
			}
		}
		// 5/3 slots a record after a rehash, 5/4 just before the next.
		if least := max / (len(rec) + 8*5/3) * 9 / 10; s.count < least {
			t.Errorf("max %d: full at %d records of %d bytes, want at least %d", max, s.count, len(rec), least)
		}
		t.Logf("max %d: %d records of %d bytes, %d bytes", max, s.count, len(rec), s.bytes())
		s.clear()
	}
}

// FuzzRecord: any profile decodes from its record as it was encoded,
// whichever strings the encoding numbers or shortens, in a dictionary
// shared across inputs as the cache shares it.
func FuzzRecord(f *testing.F) {
	f.Add("John Smith", "John", "jsmith@example.com", "+91", "7799827710", true, uint64(7), uint32(3), uint8(15))
	f.Add("Zoë Ünal", "Zoë", "zoë@bücher.example", "", "", false, uint64(0), uint32(0), uint8(0))
	f.Add("Jo", "John", "a@@b", "+1", "", true, uint64(1<<63), uint32(1<<31), uint8(1))
	var d dict
	f.Fuzz(func(t *testing.T, name, given, email, cc, phone string, mobile bool, hi uint64, skill uint32, scopes uint8) {
		e := &entry{
			customer: profileapi.Customer{ID: "amzn1.ask.account.F", Region: profileapi.RegionEU, Profile: profileapi.Profile{Name: name, GivenName: given, Email: email}},
			complete: hi%2 == 0,
			grants:   []grant{{skill: skill, scopes: profileapi.ScopeSet(scopes) & profileapi.AllScopes}},
		}
		if mobile {
			e.customer.Profile.MobileNumber = &profileapi.PhoneNumber{CountryCode: cc, PhoneNumber: phone}
		}
		k := key{hi: hi, lo: hi >> 7 & (1<<loBits - 1)}
		for _, stamped := range []bool{false, true} {
			e.stamp = int64(uint32(hi))
			rec, ok := encode(nil, k, e, 0, stamped, &d)
			if !ok {
				t.Fatalf("not encoded: %+v", e.customer)
			}
			lo, stamp, body, size := recordAt(rec, 0, stamped)
			if lo != k.lo || size != len(rec) || stamped && int64(stamp) != e.stamp {
				t.Fatalf("record head lo %x stamp %d size %d, want %x %d %d", lo, stamp, size, k.lo, e.stamp, len(rec))
			}
			var got entry
			decode(body, &got, e.customer.ID, true, &d)
			got.stamp = e.stamp
			if !reflect.DeepEqual(&got, e) {
				t.Fatalf("stamped %v: decoded\n%+v\nwant\n%+v", stamped, got, *e)
			}
			if g, known := grantOf(body, skill); !known || g != e.grants[0].scopes {
				t.Fatalf("grantOf(%d) = %v %v, want %v", skill, g, known, e.grants[0].scopes)
			}
		}
	})
}

// Stamps stay right past the 49.7 days of milliseconds a record holds: a
// record read that long ago is not taken for a recent one, and moving a
// shard's epoch keeps the records still fresh, with their age.
func TestStampsPastRange(t *testing.T) {
	start := time.Now()
	now := start
	at := func(ms int64) { now = start.Add(time.Duration(ms) * time.Millisecond) }
	s := New(nil, Options{MaxAge: time.Second, Now: func() time.Time { return now }})
	sh := &s.shards[0]
	var ks []key // of one shard
	for i := 0; len(ks) < 3; i++ {
		if k := s.key(fmt.Sprint("amzn1.ask.account.", i)); s.shardOf(k) == sh {
			ks = append(ks, k)
		}
	}
	put := func(k key, stamp int64) {
		s.put(sh, k, &entry{customer: profileapi.Customer{Region: profileapi.RegionNA}, stamp: stamp})
	}
	fresh := func(k key) bool {
		off := sh.find(k)
		if off < 0 {
			return false
		}
		_, stamp, _, _ := recordAt(sh.arena, off, true)
		return s.fresh(sh.epoch + int64(stamp))
	}
	want := func(when string, fresh0, fresh1, fresh2 bool) {
		t.Helper()
		if got := [3]bool{fresh(ks[0]), fresh(ks[1]), fresh(ks[2])}; got != [3]bool{fresh0, fresh1, fresh2} {
			t.Fatalf("%s (epoch %d): fresh %v, want %v", when, sh.epoch, got, [3]bool{fresh0, fresh1, fresh2})
		}
	}
	for round := range 3 {
		base := sh.epoch // 0, then as the last round left it
		at(base)
		put(ks[0], s.stamp())
		at(base + stampRange - 300)
		put(ks[1], s.stamp())
		at(base + stampRange + 50) // 50 ms past ks[0]'s stamp, modulo 2^32
		want("a range after", false, true, false)
		epoch := sh.epoch
		put(ks[2], s.stamp())
		if sh.epoch == epoch {
			t.Fatalf("round %d: the epoch stayed at %d past the range", round, epoch)
		}
		if sh.find(ks[0]) >= 0 {
			t.Fatalf("round %d: a stale record outlived its epoch", round)
		}
		want("once the epoch moved", false, true, true)
		at(base + stampRange + 699)
		want("ks[1] 999 ms old", false, true, true)
		at(base + stampRange + 700)
		want("ks[1] 1 s old", false, false, true)
		put(ks[0], s.stamp()-int64(stampRange)) // read before the epoch
		if sh.find(ks[0]) >= 0 {
			t.Fatalf("round %d: a record read before its shard's epoch was kept", round)
		}
		at(base + stampRange + 1049)
		want("ks[2] 999 ms old", false, false, true)
		at(base + stampRange + 1050)
		want("ks[2] 1 s old", false, false, false)
	}
}

// TestPrefetchAddress: Prefetch loads the slot Access probes first for the
// customer, in the customer's shard; nothing for a shard with no table.
func TestPrefetchAddress(t *testing.T) {
	s := &Store{seed: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	e := &entry{customer: profileapi.Customer{Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "N"}}}
	keep := func(int64) bool { return true }
	for i := range 200 {
		id := fmt.Sprint("amzn1.ask.account.", i)
		k := s.key(id)
		if addr := s.slotAddr([]byte(id)); addr != 0 && len(s.shardOf(k).slots) == 0 {
			t.Fatalf("%s: slot address %x in a shard with no table", id, addr)
		}
		rec, _ := encode(nil, k, e, 0, false, &s.dict)
		sh := s.shardOf(k)
		sh.mu.Lock()
		sh.put(k, rec, 1<<20, keep)
		sh.mu.Unlock()
	}
	for i := range 200 {
		id := fmt.Sprint("amzn1.ask.account.", i)
		k := s.key(id)
		sh := s.shardOf(k)
		if sh.slotOf(k) < 0 {
			t.Fatalf("%s: not found", id)
		}
		want := uintptr(unsafe.Pointer(&sh.slots[home(k.tag(), len(sh.slots))]))
		if got := s.slotAddr([]byte(id)); got != want {
			t.Fatalf("%s: Prefetch loads %x, Access probes %x first", id, got, want)
		}
		s.Prefetch([]byte(id))
	}

	// A shard being written is skipped, not waited for: the token's MAC
	// is not checked yet.
	id := []byte("amzn1.ask.account.0")
	sh := s.shardOf(s.key(string(id)))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	got := make(chan uintptr)
	go func() { got <- s.slotAddr(id) }()
	select {
	case addr := <-got:
		if addr != 0 {
			t.Fatalf("the slot address %x of a shard being written", addr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Prefetch waited for a writer")
	}
}
