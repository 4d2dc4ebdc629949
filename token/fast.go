package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"maps"
	"strings"
	"sync"
	"time"
	"unsafe"

	simdbase64 "github.com/segmentio/asm/base64"

	"github.com/profileapi/profileapi"
)

// The fast path verifies the tokens this package issues in a
// microsecond, a tenth of what parsing them with golang-jwt costs: every
// public API request verifies one.
//
// It only ever accepts a token golang-jwt would accept too, and returns the
// same claims. It knows a header segment only once a token with exactly that
// header has verified in full, so alg and kid need no parsing; it reads
// only the payload shape Issue writes (the known members, each once, plain
// ASCII strings and integer times) and, once the MAC holds, checks the
// claims as the parser's options do. Whatever else it meets, it gives up
// and the full parse decides, with its error messages.

// strictBase64 decodes signatures: one whose last character differs only
// in the bits past the 256 would otherwise decode to the same MAC. Made
// once: Strict copies the encoding.
var strictBase64 = base64.RawURLEncoding.Strict()

// maxHeaders bounds the header segments remembered. Only a token signed
// with a live key adds one, and Issue makes one header per key.
const maxHeaders = 64

// macKey is a signing key with a pool of HMAC states keyed with it.
type macKey struct {
	key  *liveKey
	pool sync.Pool // of *macState
}

// macState is the scratch space of one fast verification.
type macState struct {
	mac     hash.Hash
	payload []byte
	sum     [sha256.Size]byte
}

func newMacKey(key *liveKey) *macKey {
	mk := &macKey{key: key}
	mk.pool.New = func() any {
		return &macState{mac: hmac.New(sha256.New, key.Secret)}
	}
	return mk
}

// learnHeader remembers that tokens with this header segment are signed
// with key, after one of them verified in full.
func (k *Keyring) learnHeader(header string, key *liveKey) {
	if key == nil {
		return
	}
	if m := k.headers.Load(); m != nil && (*m)[header] != nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys[key.ID] != key { // reloaded meanwhile
		return
	}
	old := k.headers.Load()
	m := make(map[string]*macKey)
	if old != nil {
		if len(*old) >= maxHeaders {
			return
		}
		maps.Copy(m, *old)
	}
	for _, mk := range m { // share the pool of a key already known
		if mk.key == key {
			m[header] = mk
			k.headers.Store(&m)
			return
		}
	}
	m[header] = newMacKey(key)
	k.headers.Store(&m)
}

// forgetHeaders drops the headers of keys no longer loaded, after a
// reload. The caller holds k.mu.
func (k *Keyring) forgetHeaders() {
	old := k.headers.Load()
	if old == nil {
		return
	}
	m := make(map[string]*macKey, len(*old))
	renewed := map[*macKey]*macKey{}
	for h, mk := range *old {
		key := k.keys[mk.key.ID]
		switch {
		case key == mk.key: // reload keeps the value of an unchanged key
			m[h] = mk
		case key != nil && bytes.Equal(key.Secret, mk.key.Secret) && key.CreatedAt.Equal(mk.key.CreatedAt):
			// The same key with a new window, once a successor is made.
			if renewed[mk] == nil {
				renewed[mk] = newMacKey(key)
			}
			m[h] = renewed[mk]
		}
	}
	k.headers.Store(&m)
}

// verifyFast verifies a token with a known header, or reports false to
// leave the decision to the full parse.
func (k *Keyring) verifyFast(s string) (Claims, bool) {
	m := k.headers.Load()
	if m == nil {
		return Claims{}, false
	}
	dot1 := strings.IndexByte(s, '.')
	if dot1 < 0 {
		return Claims{}, false
	}
	mk := (*m)[s[:dot1]]
	if mk == nil {
		return Claims{}, false
	}
	dot2 := strings.IndexByte(s[dot1+1:], '.') + dot1 + 1
	if dot2 == dot1 || strings.IndexByte(s[dot2+1:], '.') >= 0 {
		return Claims{}, false
	}
	now := k.now()
	if now.After(mk.key.until) { // as verifyingKey
		return Claims{}, false
	}

	st := mk.pool.Get().(*macState)
	defer mk.pool.Put(st)
	// The hash and the decoders only read the token: no copy of it.
	tok := unsafe.Slice(unsafe.StringData(s), len(s))
	var sig [sha256.Size + 2]byte
	if base64.RawURLEncoding.DecodedLen(len(s)-dot2-1) != sha256.Size {
		return Claims{}, false
	}
	if n, err := strictBase64.Decode(sig[:], tok[dot2+1:]); err != nil || n != sha256.Size {
		return Claims{}, false
	}
	// The payload is decoded with AVX2, five times faster than
	// encoding/base64 on a payload's 630 characters. That decoder reads '/'
	// as '_', which golang-jwt refuses: such a payload is left to it. The
	// signature keeps the standard decoder.
	payload := tok[dot1+1 : dot2]
	if bytes.IndexByte(payload, '/') >= 0 || !strictTail(payload) {
		return Claims{}, false
	}
	if n := simdbase64.RawURLEncoding.DecodedLen(len(payload)); cap(st.payload) < n {
		st.payload = make([]byte, n)
	}
	n, err := simdbase64.RawURLEncoding.Decode(st.payload[:cap(st.payload)], payload)
	if err != nil {
		return Claims{}, false
	}
	st.payload = st.payload[:n]
	// The payload is read before the MAC is checked, as golang-jwt does,
	// so that Prefetch can start loading the customer while the MAC is
	// computed. Nothing read counts until the MAC holds: a forged id costs
	// a wasted prefetch.
	var c fastClaims
	if !c.parseIssued(st.payload) && !c.parse(st.payload) {
		return Claims{}, false
	}
	if k.prefetch != nil && c.userID.end > c.userID.start {
		k.prefetch(c.userID.in(st.payload))
	}
	st.mac.Reset()
	st.mac.Write(tok[:dot2])
	if !hmac.Equal(st.mac.Sum(st.sum[:0]), sig[:sha256.Size]) || !c.valid(st.payload, now) {
		return Claims{}, false
	}
	return c.claims(st.payload), true
}

// strictTail reports whether the last character of an unpadded base64url
// segment leaves the bits past the data zero, as golang-jwt's strict
// decoding requires; the AVX2 decoder ignores them, so that a segment
// golang-jwt refuses would otherwise pass here (only with the key: the
// MAC covers the segment's text).
func strictTail(seg []byte) bool {
	var unused byte
	switch len(seg) % 4 {
	case 2:
		unused = 0x0f // 12 bits for 8
	case 3:
		unused = 0x03 // 18 bits for 16
	default:
		return true // whole groups; or a length no decoder takes
	}
	var v byte
	switch c := seg[len(seg)-1]; {
	case c >= 'A' && c <= 'Z':
		v = c - 'A'
	case c >= 'a' && c <= 'z':
		v = c - 'a' + 26
	case c >= '0' && c <= '9':
		v = c - '0' + 52
	case c == '-':
		v = 62
	case c == '_':
		v = 63
	default:
		return true // not base64url: the decoder refuses it
	}
	return v&unused == 0
}

// fastClaims are the members of a payload, as offsets into it.
type fastClaims struct {
	iss, sub, aud, jti                   span
	context, consentToken, userID, devID span
	region                               span
	exp, nbf, iat                        int64
	customerCreated, skillCreated        int64  // Unix milliseconds
	seen                                 uint32 // one bit per member
	auds                                 int
}

// span is a string of the payload: [start, end).
type span struct{ start, end int }

func (s span) in(p []byte) []byte { return p[s.start:s.end] }

// The members the fast path knows, each a bit of fastClaims.seen.
const (
	seenIss = 1 << iota
	seenSub
	seenAud
	seenExp
	seenNbf
	seenIat
	seenJti
	seenPrivate
	seenContext
	seenConsentToken
	seenUserID
	seenDeviceID
	seenRegion
	seenCustomerCreated
	seenSkillCreated
)

// claimMember and privateMember name the members the fast path knows;
// 0 for any other.
func claimMember(name []byte) uint32 {
	switch string(name) {
	case "iss":
		return seenIss
	case "sub":
		return seenSub
	case "aud":
		return seenAud
	case "exp":
		return seenExp
	case "nbf":
		return seenNbf
	case "iat":
		return seenIat
	case "jti":
		return seenJti
	case "privateClaims":
		return seenPrivate
	}
	return 0
}

func privateMember(name []byte) uint32 {
	switch string(name) {
	case "context":
		return seenContext
	case "consentToken":
		return seenConsentToken
	case "userId":
		return seenUserID
	case "deviceId":
		return seenDeviceID
	case "region":
		return seenRegion
	case "customerCreated":
		return seenCustomerCreated
	case "skillCreated":
		return seenSkillCreated
	}
	return 0
}

// parse reads the payload; false for anything the fast path does not
// know: an unknown member (or a known one in other case, which
// encoding/json would match), a member twice, a string with an escape or a
// byte outside printable ASCII, a time that is not a plain integer, null.
func (c *fastClaims) parse(p []byte) bool {
	d := &scanner{p: p}
	ok := d.object(func(name []byte) bool {
		bit := claimMember(name)
		if bit == 0 || c.seen&bit != 0 {
			return false
		}
		c.seen |= bit
		switch bit {
		case seenIss:
			return d.str(&c.iss)
		case seenSub:
			return d.str(&c.sub)
		case seenJti:
			return d.str(&c.jti)
		case seenAud:
			if d.peek() != '[' {
				c.auds = 1
				return d.str(&c.aud)
			}
			return d.array(func() bool {
				var s span
				if !d.str(&s) {
					return false
				}
				if c.auds == 0 {
					c.aud = s
				}
				c.auds++
				return true
			})
		case seenExp:
			return d.integer(&c.exp, secondDigits)
		case seenNbf:
			return d.integer(&c.nbf, secondDigits)
		case seenIat:
			return d.integer(&c.iat, secondDigits)
		}
		return d.object(func(name []byte) bool { // privateClaims
			bit := privateMember(name)
			if bit == 0 || c.seen&bit != 0 {
				return false
			}
			c.seen |= bit
			switch bit {
			case seenContext:
				return d.str(&c.context)
			case seenConsentToken:
				return d.str(&c.consentToken)
			case seenUserID:
				return d.str(&c.userID)
			case seenDeviceID:
				return d.str(&c.devID)
			case seenCustomerCreated:
				return d.integer(&c.customerCreated, milliDigits)
			case seenSkillCreated:
				return d.integer(&c.skillCreated, milliDigits)
			}
			return d.str(&c.region)
		})
	})
	return ok && d.end()
}

// parseIssued reads a payload laid out exactly as Issue writes it, member
// by member in encoding/json's order, in one pass with no backtracking;
// false for any other, which parse then reads. What it accepts, parse
// accepts alike.
func (c *fastClaims) parseIssued(p []byte) bool {
	d := issuedScanner{p: p, ok: true}
	d.lit(`{"iss":"`)
	d.str(&c.iss)
	d.lit(`,"sub":"`)
	d.str(&c.sub)
	d.lit(`,"exp":`)
	d.num(&c.exp, secondDigits)
	d.lit(`,"nbf":`)
	d.num(&c.nbf, secondDigits)
	d.lit(`,"iat":`)
	d.num(&c.iat, secondDigits)
	d.lit(`,"jti":"`)
	d.str(&c.jti)
	d.lit(`,"aud":"`)
	d.str(&c.aud)
	d.lit(`,"privateClaims":{"context":"`)
	d.str(&c.context)
	d.lit(`,"userId":"`)
	d.str(&c.userID)
	d.lit(`,"deviceId":"`)
	d.str(&c.devID)
	d.lit(`,"region":"`)
	d.str(&c.region)
	d.lit(`,"customerCreated":`)
	d.num(&c.customerCreated, milliDigits)
	d.lit(`,"skillCreated":`)
	d.num(&c.skillCreated, milliDigits)
	d.lit(`}}`)
	if !d.ok || d.i != len(p) {
		*c = fastClaims{}
		return false
	}
	c.seen = seenIss | seenSub | seenAud | seenExp | seenNbf | seenIat | seenJti | seenPrivate | seenContext | seenUserID | seenDeviceID | seenRegion | seenCustomerCreated | seenSkillCreated
	c.auds = 1
	return true
}

// issuedScanner reads the layout parseIssued expects. Once a step fails,
// ok is false and the later steps do nothing, so that parseIssued reads as
// the payload it expects rather than as a chain of conditions.
type issuedScanner struct {
	p  []byte
	i  int
	ok bool
}

// lit reads the literal s.
func (d *issuedScanner) lit(s string) {
	d.ok = d.ok && len(d.p)-d.i >= len(s) && string(d.p[d.i:d.i+len(s)]) == s
	if d.ok {
		d.i += len(s)
	}
}

// str reads the rest of a string whose opening quote lit read, and its
// closing quote.
func (d *issuedScanner) str(s *span) {
	if !d.ok {
		return
	}
	n := bytes.IndexByte(d.p[d.i:], '"')
	if n < 0 || !plain(d.p[d.i:d.i+n]) {
		d.ok = false
		return
	}
	*s = span{d.i, d.i + n}
	d.i += n + 1
}

// num reads a plain integer as scanner.integer does, with no white space
// before it.
func (d *issuedScanner) num(v *int64, max int) {
	if !d.ok {
		return
	}
	// A fraction or an exponent fails at the next lit, which wants a
	// comma or a brace.
	*v, d.i, d.ok = unixTime(d.p, d.i, max)
}

// valid checks the claims as the parser's options do, and as Verify
// requires: the issuer, exp present and not reached, nbf and iat present
// and passed (but for ClockSkew), one audience, a subject and a user.
func (c *fastClaims) valid(p []byte, now time.Time) bool {
	const required = seenIss | seenSub | seenAud | seenExp | seenNbf | seenIat | seenUserID
	return c.seen&required == required && c.auds == 1 &&
		string(c.iss.in(p)) == Issuer &&
		c.sub.end > c.sub.start && c.userID.end > c.userID.start &&
		now.Before(time.Unix(c.exp, 0)) &&
		!now.Add(ClockSkew).Before(time.Unix(c.nbf, 0)) &&
		!now.Add(ClockSkew).Before(time.Unix(c.iat, 0))
}

// claims returns the claims of a valid payload.
func (c *fastClaims) claims(p []byte) Claims {
	// One string for the claims kept: each is a part of it.
	parts := [...]span{c.userID, c.sub, c.devID, c.aud, c.region}
	n := 0
	for _, sp := range parts {
		n += sp.end - sp.start
	}
	var b strings.Builder
	b.Grow(n)
	for _, sp := range parts {
		b.Write(sp.in(p))
	}
	all := b.String()
	var got [len(parts)]string
	at := 0
	for i, sp := range parts {
		got[i] = all[at : at+sp.end-sp.start]
		at += sp.end - sp.start
	}
	region := profileapi.Region(got[4])
	for _, r := range profileapi.Regions {
		if r == region {
			region = r // the constant, not a part of the payload
		}
	}
	return Claims{
		CustomerID:        got[0],
		SkillID:           got[1],
		DeviceID:          got[2],
		Region:            region,
		Audience:          got[3],
		IssuedAt:          time.Unix(c.iat, 0),
		ExpiresAt:         time.Unix(c.exp, 0),
		CustomerCreatedAt: fromUnixMilli(c.customerCreated),
		SkillCreatedAt:    fromUnixMilli(c.skillCreated),
	}
}

// scanner reads the little JSON the fast path accepts.
type scanner struct {
	p []byte
	i int
}

func (d *scanner) space() {
	for d.i < len(d.p) && (d.p[d.i] == ' ' || d.p[d.i] == '\t' || d.p[d.i] == '\n' || d.p[d.i] == '\r') {
		d.i++
	}
}

func (d *scanner) peek() byte {
	d.space()
	if d.i == len(d.p) {
		return 0
	}
	return d.p[d.i]
}

func (d *scanner) expect(b byte) bool {
	if d.peek() != b {
		return false
	}
	d.i++
	return true
}

// end reports whether nothing but white space is left.
func (d *scanner) end() bool {
	d.space()
	return d.i == len(d.p)
}

// plainByte holds the bytes a string may have on the fast path: printable
// ASCII but the backslash (the quote ends the string).
var plainByte = func() (t [256]bool) {
	for b := 0x20; b <= 0x7e; b++ {
		t[b] = b != '\\'
	}
	return t
}()

// plain reports whether every byte of b is a plainByte. It tests 32 bytes
// a step, four words tested together: the ids in a token are most of its
// payload (its 470 bytes took 120 ns a word at a time, 88 so).
func plain(b []byte) bool {
	var bad uint64
	for ; len(b) >= 32; b = b[32:] {
		bad |= notPlain(binary.LittleEndian.Uint64(b)) | notPlain(binary.LittleEndian.Uint64(b[8:])) |
			notPlain(binary.LittleEndian.Uint64(b[16:])) | notPlain(binary.LittleEndian.Uint64(b[24:]))
	}
	for ; len(b) >= 8; b = b[8:] {
		bad |= notPlain(binary.LittleEndian.Uint64(b))
	}
	if bad != 0 {
		return false
	}
	for _, c := range b {
		if !plainByte[c] {
			return false
		}
	}
	return true
}

// notPlain has a high bit set in the byte of any byte of w that is not a
// plainByte: below 0x20; from 0x7f; the backslash (a zero byte of bs).
func notPlain(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	bs := w ^ ones*'\\'
	return ((w-ones*0x20)&^w | (w + ones) | w | (bs-ones)&^bs) & highs
}

// str reads a string of printable ASCII without escapes.
func (d *scanner) str(s *span) bool {
	if !d.expect('"') {
		return false
	}
	s.start = d.i
	n := bytes.IndexByte(d.p[d.i:], '"')
	if n < 0 || !plain(d.p[d.i:d.i+n]) {
		return false
	}
	d.i += n + 1
	s.end = d.i - 1
	return true
}

// The most digits the fast path reads in a time: golang-jwt reads any
// number, but 12 digits of seconds and 15 of milliseconds reach past the
// year 30000, and the full parse takes the rest.
const (
	secondDigits = 12
	milliDigits  = 15
)

// unixTime reads the digits at p[i:] of a Unix time, as golang-jwt and
// encoding/json read them: 1 to max digits, no leading zero. It returns
// the value, where the digits end, and whether they are such a time.
func unixTime(p []byte, i, max int) (v int64, end int, ok bool) {
	start := i
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		v = v*10 + int64(p[i]-'0')
		i++
	}
	digits := i - start
	return v, i, digits > 0 && digits <= max && (digits == 1 || p[start] != '0')
}

// integer reads a plain non-negative integer of at most max digits: a Unix
// time, exactly as golang-jwt would read it.
func (d *scanner) integer(v *int64, max int) bool {
	d.space()
	n, end, ok := unixTime(d.p, d.i, max)
	d.i = end
	if !ok {
		return false
	}
	if d.i < len(d.p) && (d.p[d.i] == '.' || d.p[d.i] == 'e' || d.p[d.i] == 'E') {
		return false
	}
	*v = n
	return true
}

// object reads an object, calling member after each member's name and
// colon to read its value.
func (d *scanner) object(member func(name []byte) bool) bool {
	if !d.expect('{') {
		return false
	}
	if d.expect('}') {
		return true
	}
	for {
		var name span
		if !d.str(&name) || !d.expect(':') || !member(name.in(d.p)) {
			return false
		}
		if d.expect('}') {
			return true
		}
		if !d.expect(',') {
			return false
		}
	}
}

// array reads an array, calling elem to read each element.
func (d *scanner) array(elem func() bool) bool {
	if !d.expect('[') {
		return false
	}
	if d.expect(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.expect(']') {
			return true
		}
		if !d.expect(',') {
			return false
		}
	}
}
