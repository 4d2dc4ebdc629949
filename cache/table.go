package cache

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/profileapi/profileapi"
)

// The customers are kept in shards, each a hash table of records in one
// arena. Arenas and tables live outside the Go heap (mem_linux.go): a
// million customers are a hundred megabytes that the garbage collector
// neither scans nor counts towards its next cycle, so the process's memory
// is the cache plus a small heap, not twice the cache.
//
// A customer is known by a keyed hash of its id rather than the id, which
// would double the memory: 48 bits kept in the record, 32 in its slot and
// 3 that pick the shard. Two ids of a million hash alike with a probability
// under 2^-43 (of ten million, 2^-37), and the key is random per process.
//
// Eight shards are plenty for two or a few cores to rarely meet on one
// lock, and few enough that a million customers make arenas of several
// megabytes, which huge pages fit without much waste (mem_linux.go).

const shardCount = 8

// key is the hash of a customer id: hi picks the shard and the slot, lo
// (48 bits) is kept in the record.
type key struct{ hi, lo uint64 }

const loBits = 48

func (k key) tag() uint32 { return uint32(k.hi >> 32) }

// A slot of a table is 0 (empty), tombstone, or a record's offset in the
// arena plus one in the high half and its key's tag in the low half.
const tombstone = 1

type shard struct {
	mu    sync.RWMutex
	slots []uint64 // 60-80% full: see rehash
	arena []byte
	used  int // bytes of the arena in use, live or not
	live  int // bytes of live records
	count int // live records
	tombs int
	// gen changes with every write to the shard, so that a record read
	// from the store before a write is not stored after it.
	gen uint64
	// stamped says the records hold when they were read: the cache has a
	// MaxAge, in milliseconds since epoch (a uint32: 49.7 days), which
	// holds moves forward when a stamp is past that, and put no further.
	stamped bool
	epoch   int64

	hits, misses atomic.Uint64
	// Every call writes its shard's lock and counters: the padding keeps
	// two shards off one cache line, so calls on two cores to two shards
	// do not contend.
	_ [64]byte
}

// A record is the key's lo, when it was read if the cache has a MaxAge
// (in milliseconds since its shard's epoch), then the customer:
//
//	lo uint48 | stamp uint32 (with MaxAge) | len uvarint | body
//
// body: region, flags, created and updated (varints, milliseconds), name,
// given name, email, mobile number (if any), then the grants known: count,
// then skill number (uvarint) and scopes (byte). A string is a uvarint
// length and its bytes, but for what many customers share: a given name
// that begins the name is only its length; an email's domain, and a
// country code, are a number in the cache's dictionary (uvarint).

const (
	flagComplete    = 1 << iota // the grants are every grant the customer has given
	flagMobile                  // the customer has a mobile number
	flagGivenInName             // the given name is the start of the name: its length only
	flagDomain                  // the email is its local part and its domain's number
	flagCountry                 // the country code is its number
)

// dict numbers the strings many customers share, email domains and
// country codes, so that a record holds a number for each: an address at
// example.com then takes 2 bytes for its domain instead of 12. A number is
// never reused; the dictionary is bounded, and a string past its bound is
// kept in the record.
type dict struct {
	mu    sync.Mutex
	index map[string]uint32
	list  []string
	// view is list as of the last addition: readers take it without the
	// lock. An addition writes past every view's length, so no view ever
	// sees a slot change.
	view atomic.Pointer[[]string]
}

const maxDict = 1 << 14

// number returns s's number, adding s if there is room.
func (d *dict) number(s string) (uint32, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n, ok := d.index[s]; ok {
		return n, true
	}
	if len(d.list) >= maxDict || s == "" {
		return 0, false
	}
	if d.index == nil {
		d.index = map[string]uint32{}
	}
	n := uint32(len(d.list))
	s = strings.Clone(s) // not a part of a larger string it would keep
	d.list = append(d.list, s)
	d.index[s] = n
	view := d.list
	d.view.Store(&view)
	return n, true
}

// string returns the string numbered n by number.
func (d *dict) string(n uint32) string { return (*d.view.Load())[n] }

// entry is a decoded record.
type entry struct {
	customer profileapi.Customer
	complete bool
	grants   []grant
	stamp    int64 // when it was read, by the cache's clock
	// phone, if set, is where decode puts the mobile number, so that the
	// caller can allocate it together with what holds the customer.
	phone *profileapi.PhoneNumber
}

// grant is what a customer grants one skill, by the skill's number.
type grant struct {
	skill  uint32
	scopes profileapi.ScopeSet
}

var regionCodes = map[profileapi.Region]byte{profileapi.RegionNA: 1, profileapi.RegionEU: 2, profileapi.RegionFE: 3}

var codeRegions = [4]profileapi.Region{"", profileapi.RegionNA, profileapi.RegionEU, profileapi.RegionFE}

// encode appends e's record, stamped if asked relative to epoch, which
// the caller has made hold e's stamp. A region the cache has no code for
// cannot be kept: ok is false.
func encode(dst []byte, k key, e *entry, epoch int64, stamped bool, dict *dict) ([]byte, bool) {
	region, ok := regionCodes[e.customer.Region]
	if !ok {
		return dst, false
	}
	var body []byte
	body = append(body, region)
	var flags byte
	if e.complete {
		flags |= flagComplete
	}
	p := &e.customer.Profile
	if p.MobileNumber != nil {
		flags |= flagMobile
	}
	givenInName := p.GivenName != "" && strings.HasPrefix(p.Name, p.GivenName)
	if givenInName {
		flags |= flagGivenInName
	}
	local, domain, hasDomain := strings.Cut(p.Email, "@")
	var domainN, countryN uint32
	if hasDomain {
		domainN, hasDomain = dict.number(domain)
	}
	if hasDomain {
		flags |= flagDomain
	}
	hasCountry := false
	if p.MobileNumber != nil {
		if countryN, hasCountry = dict.number(p.MobileNumber.CountryCode); hasCountry {
			flags |= flagCountry
		}
	}
	body = append(body, flags)
	created := e.customer.CreatedAt.UnixMilli()
	body = binary.AppendVarint(body, created)
	body = binary.AppendVarint(body, e.customer.UpdatedAt.UnixMilli()-created)
	str := func(s string) {
		body = binary.AppendUvarint(body, uint64(len(s)))
		body = append(body, s...)
	}
	str(p.Name)
	if givenInName {
		body = binary.AppendUvarint(body, uint64(len(p.GivenName)))
	} else {
		str(p.GivenName)
	}
	if hasDomain {
		str(local)
		body = binary.AppendUvarint(body, uint64(domainN))
	} else {
		str(p.Email)
	}
	if p.MobileNumber != nil {
		if hasCountry {
			body = binary.AppendUvarint(body, uint64(countryN))
		} else {
			str(p.MobileNumber.CountryCode)
		}
		str(p.MobileNumber.PhoneNumber)
	}
	body = binary.AppendUvarint(body, uint64(len(e.grants)))
	for _, g := range e.grants {
		body = binary.AppendUvarint(body, uint64(g.skill))
		body = append(body, byte(g.scopes))
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(k.lo))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(k.lo>>32))
	if stamped {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(e.stamp-epoch))
	}
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...), true
}

// recordAt returns the record at off: its key's lo, its stamp relative to
// the shard's epoch (0 if not stamped), its body, and its whole length.
func recordAt(arena []byte, off int, stamped bool) (lo uint64, stamp uint32, body []byte, size int) {
	lo = uint64(binary.LittleEndian.Uint32(arena[off:])) | uint64(binary.LittleEndian.Uint16(arena[off+4:]))<<32
	head := loBits / 8
	if stamped {
		stamp = binary.LittleEndian.Uint32(arena[off+head:])
		head += 4
	}
	n, w := binary.Uvarint(arena[off+head:])
	start := off + head + w
	return lo, stamp, arena[start : start+int(n)], head + w + int(n)
}

// decoder reads a record's body.
type decoder struct {
	b []byte
	i int
}

func (d *decoder) byte() byte { d.i++; return d.b[d.i-1] }

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[d.i:])
	d.i += n
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b[d.i:])
	d.i += n
	return v
}

// span returns the bounds of the next string.
func (d *decoder) span() (int, int) {
	n := int(d.uvarint())
	d.i += n
	return d.i - n, d.i
}

// decode reads a body into e, with its grants if asked. The strings are
// copied out of the arena, in one allocation: the arena is reused once the
// shard's lock is released.
func decode(body []byte, e *entry, id string, withGrants bool, dict *dict) {
	d := &decoder{b: body}
	e.customer.ID = id
	e.customer.Region = codeRegions[d.byte()&3]
	flags := d.byte()
	e.complete = flags&flagComplete != 0
	created := d.varint()
	updated := created + d.varint()
	e.customer.CreatedAt = time.UnixMilli(created).UTC()
	e.customer.UpdatedAt = time.UnixMilli(updated).UTC()
	var f fields
	f.read(d, flags, dict)
	// One string holds name, given name (unless it starts the name),
	// email and phone number; the country code, when numbered, is the
	// dictionary's own.
	var b strings.Builder
	b.Grow(f.size())
	b.Write(f.name)
	b.Write(f.given)
	b.Write(f.email)
	if f.domain != "" {
		b.WriteByte('@')
		b.WriteString(f.domain)
	}
	b.Write(f.country)
	b.Write(f.phone)
	all := b.String()
	at := 0
	next := func(n int) string { at += n; return all[at-n : at] }
	p := &e.customer.Profile
	p.Name = next(len(f.name))
	if flags&flagGivenInName != 0 {
		p.GivenName = p.Name[:min(f.givenLen, len(p.Name))]
	} else {
		p.GivenName = next(len(f.given))
	}
	p.Email = next(len(f.email) + len(f.domain) + min(len(f.domain), 1))
	p.MobileNumber = nil
	if flags&flagMobile != 0 {
		cc := next(len(f.country))
		if flags&flagCountry != 0 {
			cc = f.countryName
		}
		phone := e.phone
		if phone == nil {
			phone = new(profileapi.PhoneNumber)
		}
		*phone = profileapi.PhoneNumber{CountryCode: cc, PhoneNumber: next(len(f.phone))}
		p.MobileNumber = phone
	}
	if !withGrants {
		return
	}
	n := int(d.uvarint())
	e.grants = e.grants[:0]
	for range n {
		skill := uint32(d.uvarint())
		e.grants = append(e.grants, grant{skill: skill, scopes: profileapi.ScopeSet(d.byte())})
	}
}

// fields are a record's strings, as they are in the record.
type fields struct {
	name, given, email, country, phone []byte
	givenLen                           int    // with flagGivenInName
	domain                             string // with flagDomain: the email's
	countryName                        string // with flagCountry
}

// read reads the strings of a body; with a nil dict it skips the
// numbered ones.
func (f *fields) read(d *decoder, flags byte, dict *dict) {
	bytes := func() []byte { a, b := d.span(); return d.b[a:b] }
	f.name = bytes()
	if flags&flagGivenInName != 0 {
		f.givenLen = int(d.uvarint())
	} else {
		f.given = bytes()
	}
	f.email = bytes()
	if flags&flagDomain != 0 {
		n := uint32(d.uvarint())
		if dict != nil {
			f.domain = dict.string(n)
		}
	}
	if flags&flagMobile != 0 {
		if flags&flagCountry != 0 {
			n := uint32(d.uvarint())
			if dict != nil {
				f.countryName = dict.string(n)
			}
		} else {
			f.country = bytes()
		}
		f.phone = bytes()
	}
}

// size is the bytes of the strings decode copies.
func (f *fields) size() int {
	n := len(f.name) + len(f.given) + len(f.email) + len(f.country) + len(f.phone)
	if f.domain != "" {
		n += 1 + len(f.domain)
	}
	return n
}

// grantOf reads only what a body says of one skill: the scopes granted,
// and whether the body knows.
func grantOf(body []byte, skill uint32) (profileapi.ScopeSet, bool) {
	scopes, found, complete := grantIn(body, skill)
	return scopes, found || complete
}

// grantIn is grantOf telling a grant the body holds (found) from none in a
// body that holds all the customer's (complete).
func grantIn(body []byte, skill uint32) (scopes profileapi.ScopeSet, found, complete bool) {
	d := &decoder{b: body}
	d.i = 1
	flags := d.byte()
	d.varint()
	d.varint()
	var f fields
	f.read(d, flags, nil)
	for n := int(d.uvarint()); n > 0; n-- {
		s := uint32(d.uvarint())
		scopes := profileapi.ScopeSet(d.byte())
		if s == skill {
			return scopes, true, false
		}
	}
	return 0, false, flags&flagComplete != 0
}

// find returns the offset of k's record, or -1. The caller holds mu.
func (s *shard) find(k key) int {
	i := s.slotOf(k)
	if i < 0 {
		return -1
	}
	return int(s.slots[i]>>32) - 1
}

// slotOf returns the index of k's slot, or -1. The caller holds mu.
func (s *shard) slotOf(k key) int {
	if len(s.slots) == 0 {
		return -1
	}
	tag := k.tag()
	for i := home(tag, len(s.slots)); ; i = next(i, len(s.slots)) {
		v := s.slots[i]
		if v == 0 {
			return -1
		}
		if v != tombstone && uint32(v) == tag {
			if lo, _, _, _ := recordAt(s.arena, int(v>>32)-1, s.stamped); lo == k.lo {
				return i
			}
		}
	}
}

// remove drops k's record, if any. The caller holds mu for writing.
func (s *shard) remove(k key) {
	i := s.slotOf(k)
	if i < 0 {
		return
	}
	_, _, _, size := recordAt(s.arena, int(s.slots[i]>>32)-1, s.stamped)
	s.live -= size
	s.count--
	s.slots[i] = tombstone
	s.tombs++
}

// put stores rec, the record of k, replacing any other. It returns false
// if the shard has no room within max bytes, even once compacted. The
// caller holds mu for writing.
func (s *shard) put(k key, rec []byte, max int, keep func(stamp int64) bool) bool {
	s.remove(k)
	if (s.count+s.tombs+1)*5 > len(s.slots)*4 && !s.rehash(max-len(rec)) {
		return false
	}
	if s.used+len(rec) > len(s.arena) && !s.grow(len(rec), max, keep) {
		return false
	}
	// A table grown since the arena was sized may leave it less room.
	if s.used+len(rec)+8*len(s.slots) > max {
		return false
	}
	off := s.used
	copy(s.arena[off:], rec)
	s.used += len(rec)
	s.live += len(rec)
	s.count++
	for i := home(k.tag(), len(s.slots)); ; i = next(i, len(s.slots)) {
		if v := s.slots[i]; v == 0 || v == tombstone {
			if v == tombstone {
				s.tombs--
			}
			s.slots[i] = uint64(off+1)<<32 | uint64(k.tag())
			return true
		}
	}
}

// grow makes room for need more bytes: compacts the arena if half of it
// is dead, else doubles it, within max bytes for arena and slots. keep
// says whether a record of that stamp is still worth its room.
func (s *shard) grow(need, max int, keep func(stamp int64) bool) bool {
	size := len(s.arena)
	switch {
	case size == 0:
		size = 64 << 10
	case s.live+need <= size/2:
		// as large: compact only
	default:
		size *= 2
	}
	for size < s.live+need {
		size *= 2
	}
	if size+len(s.slots)*8 > max {
		if s.live+need+len(s.slots)*8 > max {
			return false
		}
		size = max - len(s.slots)*8
	}
	arena := allocate(size)
	if arena == nil {
		return false
	}
	used, live, count := 0, 0, 0
	for i, v := range s.slots {
		if v == 0 || v == tombstone {
			continue
		}
		_, stamp, _, n := recordAt(s.arena, int(v>>32)-1, s.stamped)
		if !keep(s.epoch + int64(stamp)) {
			s.slots[i] = tombstone
			s.tombs++
			continue
		}
		copy(arena[used:], s.arena[int(v>>32)-1:int(v>>32)-1+n])
		s.slots[i] = uint64(used+1)<<32 | uint64(uint32(v))
		used += n
		live += n
		count++
	}
	release(s.arena)
	s.arena, s.used, s.live, s.count = arena, used, live, count
	return s.used+need <= len(s.arena)
}

// stampRange is how many milliseconds past its shard's epoch a record's
// stamp can be: 49.7 days.
const stampRange = 1 << 32

// holds makes the records able to hold stamp: if it is past their range,
// it moves the epoch forward to oldest, dropping the records read before
// that or that keep refuses. It returns false if stamp is before the
// epoch: it is older than any record the shard keeps. The caller holds mu
// for writing.
func (s *shard) holds(stamp, oldest int64, keep func(stamp int64) bool) bool {
	if stamp-s.epoch >= stampRange && oldest > s.epoch {
		s.rebase(oldest, keep)
	}
	return stamp >= s.epoch && stamp-s.epoch < stampRange
}

// rebase moves the epoch forward, restamping the records in place.
func (s *shard) rebase(epoch int64, keep func(stamp int64) bool) {
	for i, v := range s.slots {
		if v == 0 || v == tombstone {
			continue
		}
		off := int(v>>32) - 1
		_, stamp, _, size := recordAt(s.arena, off, true)
		read := s.epoch + int64(stamp)
		if read < epoch || !keep(read) {
			s.slots[i] = tombstone
			s.tombs++
			s.live -= size
			s.count--
			continue
		}
		binary.LittleEndian.PutUint32(s.arena[off+loBits/8:], uint32(read-epoch))
	}
	s.epoch = epoch
}

// rehash sizes the table for the records it holds, dropping tombstones:
// 60% full after (less if rounded up to whole huge pages, when those fit
// beside the arena within maxBytes), and put rehashes again past 80%. It
// returns false if the table and the records would not fit maxBytes. The
// slots are an eighth of the cache's memory at that load; a power-of-two
// table, half full on average, would take a fifth.
func (s *shard) rehash(maxBytes int) bool {
	n := max(1024, (s.count+1)*5/3)
	if size := hugeSize(8 * n); size+len(s.arena) <= maxBytes {
		n = size / 8 // a little emptier, and in huge pages
	}
	n = (n + 511) &^ 511 // whole pages of slots
	if 8*n+s.used > maxBytes {
		return false
	}
	slots := allocateSlots(n)
	if slots == nil {
		return false
	}
	for _, v := range s.slots {
		if v == 0 || v == tombstone {
			continue
		}
		for i := home(uint32(v), n); ; i = next(i, n) {
			if slots[i] == 0 {
				slots[i] = v
				break
			}
		}
	}
	releaseSlots(s.slots)
	s.slots, s.tombs = slots, 0
	return true
}

// home is the first slot of a key's tag in a table of n slots: the tag
// scaled to [0, n), which needs no power of two.
func home(tag uint32, n int) int { return int(uint64(tag) * uint64(n) >> 32) }

// next is the slot after i, wrapping around.
func next(i, n int) int {
	if i++; i == n {
		return 0
	}
	return i
}

// clear drops every record and gives the memory back.
func (s *shard) clear() {
	release(s.arena)
	releaseSlots(s.slots)
	s.arena, s.slots = nil, nil
	s.used, s.live, s.count, s.tombs = 0, 0, 0, 0
	s.gen++
}

// bytes is the memory the shard uses; the arena's tail is reserved, not
// yet touched, though in huge pages up to 2 MiB of it is in memory.
func (s *shard) bytes() int { return s.used + 8*len(s.slots) }
