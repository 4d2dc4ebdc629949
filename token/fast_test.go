package token

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/sqlite"
)

func newTestKeyring(t testing.TB, now func() time.Time) *Keyring {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	k, err := NewKeyring(context.Background(), store, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var testClaims = Claims{
	CustomerID: "amzn1.ask.account.A", SkillID: "amzn1.ask.skill.s", DeviceID: "amzn1.ask.device.D", Region: profileapi.RegionEU, Audience: "https://api.eu.amazonalexa.com",
	CustomerCreatedAt: time.UnixMilli(1773500966123), SkillCreatedAt: time.UnixMilli(1773500900007),
}

// resign replaces the token's payload and signs it again with the key.
func resign(k *Keyring, tok, payload string) string {
	return resignSegment(k, tok, base64.RawURLEncoding.EncodeToString([]byte(payload)))
}

// resignSegment replaces the token's payload segment, as it is, and signs
// it again with the key.
func resignSegment(k *Keyring, tok, segment string) string {
	parts := strings.Split(tok, ".")
	k.mu.RLock()
	key := k.signing
	k.mu.RUnlock()
	signed := parts[0] + "." + segment
	mac := hmac.New(sha256.New, key.Secret)
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func payloadOf(t testing.TB, tok string) string {
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFastPathMatchesFullParse(t *testing.T) {
	k := newTestKeyring(t, nil)
	ctx := context.Background()
	tok, _, err := k.Issue(ctx, testClaims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.verifyFast(tok); ok {
		t.Fatal("the fast path knew a header before any token verified")
	}
	full, err := k.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	fast, ok := k.verifyFast(tok)
	if !ok {
		t.Fatal("the fast path refused a token that verified")
	}
	if !reflect.DeepEqual(fast, full) {
		t.Fatalf("fast path claims %+v, full parse %+v", fast, full)
	}

	// A forged signature, a bad segment count: the fast path leaves them
	// to the full parse.
	for _, bad := range []string{tok[:len(tok)-2] + "AA", tok + ".x", strings.Replace(tok, ".", "..", 1), tok[:strings.LastIndexByte(tok, '.')]} {
		if _, ok := k.verifyFast(bad); ok {
			t.Errorf("fast path accepted %q", bad)
		}
		if _, err := k.Verify(ctx, bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// TestParseIssuedReadsIssue: the one-pass reader knows the layout Issue
// writes, so that the usual token never falls back to parse, and reads it
// as parse does; in that layout, it refuses the times and strings parse
// refuses.
func TestParseIssuedReadsIssue(t *testing.T) {
	k := newTestKeyring(t, nil)
	withoutDevice := testClaims
	withoutDevice.DeviceID = ""
	for _, claims := range []Claims{testClaims, withoutDevice} {
		tok, _, err := k.Issue(context.Background(), claims, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		p := []byte(payloadOf(t, tok))
		var issued, parsed fastClaims
		if !issued.parseIssued(p) {
			t.Fatalf("parseIssued does not read Issue's payload %s", p)
		}
		if !parsed.parse(p) {
			t.Fatalf("parse does not read %s", p)
		}
		if issued != parsed {
			t.Errorf("payload %s: parseIssued %+v, parse %+v", p, issued, parsed)
		}
	}

	// A token that does not say when its customer and skill were created
	// (issued before tokens did) is not in the layout, but parse reads it.
	withoutCreation := testClaims
	withoutCreation.CustomerCreatedAt, withoutCreation.SkillCreatedAt = time.Time{}, time.Time{}
	old, _, err := k.Issue(context.Background(), withoutCreation, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var issued, parsed fastClaims
	if p := []byte(payloadOf(t, old)); issued.parseIssued(p) || !parsed.parse(p) || parsed.customerCreated != 0 || parsed.skillCreated != 0 {
		t.Errorf("payload %s: parseIssued %v, parse %v %+v", p, issued.seen != 0, parsed.seen != 0, parsed)
	}

	tok, _, err := k.Issue(context.Background(), testClaims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := payloadOf(t, tok)
	exp := p[strings.Index(p, `"exp":`)+len(`"exp":`):]
	exp = exp[:strings.IndexByte(exp, ',')]
	for _, bad := range []string{
		strings.Replace(p, `"exp":`+exp, `"exp":0`+exp, 1),
		strings.Replace(p, `"exp":`+exp, `"exp":`+exp+`.0`, 1),
		strings.Replace(p, `"exp":`+exp, `"exp":`+exp+`e0`, 1),
		strings.Replace(p, `"exp":`+exp, `"exp":1000000000000`, 1),
		strings.Replace(p, `"exp":`+exp, `"exp":-`+exp, 1),
		strings.Replace(p, `"exp":`+exp, `"exp":`, 1),
		strings.Replace(p, `"customerCreated":1`, `"customerCreated":01`, 1),
		strings.Replace(p, `"customerCreated":1`, `"customerCreated":-1`, 1),
		strings.Replace(p, `"skillCreated":1773500900007`, `"skillCreated":1773500900007.5`, 1),
		strings.Replace(p, `"skillCreated":1773500900007`, `"skillCreated":1000000000000000`, 1),
		strings.Replace(p, `"skillCreated":1773500900007`, `"skillCreated":"1773500900007"`, 1),
		strings.Replace(p, `"userId":"`, `"userId":"\u0041`, 1),
		strings.Replace(p, `"userId":"`, `"userId":"`+"\x7f", 1),
		p + "x",
	} {
		var issued, parsed fastClaims
		if issued.parseIssued([]byte(bad)) {
			t.Errorf("parseIssued read %s", bad)
		}
		if parsed.parse([]byte(bad)) {
			t.Errorf("parse read %s", bad)
		}
	}
}

// TestFastPathRefusesSlash: the AVX2 decoder reads '/' as '_' where
// golang-jwt refuses it, so a payload with a '/', even MAC-valid, is left to
// the full parse, which refuses it.
func TestFastPathRefusesSlash(t *testing.T) {
	k := newTestKeyring(t, nil)
	ctx := context.Background()
	// A '_' early in the payload, where the AVX2 loop decodes.
	var tok string
	for i := 0; ; i++ {
		claims := testClaims
		claims.CustomerID = fmt.Sprintf("amzn1.ask.account.A%d???", i)
		var err error
		if tok, _, err = k.Issue(ctx, claims, time.Hour); err != nil {
			t.Fatal(err)
		}
		segment := strings.Split(tok, ".")[1]
		if at := strings.IndexByte(segment, '_'); at >= 0 && at < len(segment)-64 {
			break
		}
		if i == 1000 {
			t.Fatal("no issued payload has a '_' early enough")
		}
	}
	if _, err := k.Verify(ctx, tok); err != nil { // the fast path learns the header
		t.Fatal(err)
	}
	slashed := resignSegment(k, tok, strings.Replace(strings.Split(tok, ".")[1], "_", "/", 1))
	if _, ok := k.verifyFast(slashed); ok {
		t.Error("the fast path accepted a payload with a '/'")
	}
	if _, err := k.Verify(ctx, slashed); err == nil {
		t.Error("Verify accepted a payload with a '/'")
	}
}

func TestFastPathRespectsTime(t *testing.T) {
	now := time.Now()
	k := newTestKeyring(t, func() time.Time { return now })
	ctx := context.Background()
	issued := now
	tok, exp, _ := k.Issue(ctx, testClaims, time.Minute)
	if _, err := k.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	now = exp
	if _, err := k.Verify(ctx, tok); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("a token at its expiry: %v", err)
	}
	now = issued.Add(-time.Minute)
	if _, err := k.Verify(ctx, tok); err == nil || !strings.Contains(err.Error(), "not valid yet") {
		t.Fatalf("a token before it was issued: %v", err)
	}
}

func TestFastPathForgetsRetiredKeys(t *testing.T) {
	now := time.Now()
	k := newTestKeyring(t, func() time.Time { return now })
	ctx := context.Background()
	tok, _, _ := k.Issue(ctx, testClaims, MaxTTL)
	if _, err := k.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	now = now.Add(MaxTTL - time.Minute)
	if _, err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.verifyFast(tok); !ok {
		t.Fatal("after a rotation, the fast path refused a live token of the previous key")
	}
	now = now.Add(DefaultRotation + 2*time.Minute)
	if _, ok := k.verifyFast(tok); ok {
		t.Fatal("the fast path accepted a token of a retired key")
	}
	if _, err := k.Verify(ctx, tok); err == nil {
		t.Fatal("accepted a token of a retired key")
	}
}

// fastPathSeeds are payloads the fast path must get exactly right or
// leave alone: each is signed with the real key.
func fastPathSeeds(good string) []string {
	return []string{
		good,
		strings.Replace(good, `"iss":`, `"ISS":`, 1),
		strings.Replace(good, `"sub":"amzn1.ask.skill.s"`, `"sub":"amzn1.ask.skill.s","sub":"amzn1.ask.skill.t"`, 1),
		strings.Replace(good, `"sub":"amzn1.ask.skill.s"`, `"sub":"amzn1.ask.skill.s","Sub":"amzn1.ask.skill.t"`, 1),
		strings.Replace(good, `"userId":"amzn1.ask.account.A"`, `"userId":"amzn1.ask.account.A","userid":"amzn1.ask.account.B"`, 1),
		strings.Replace(good, `"userId":"amzn1.ask.account.A"`, `"userId":"amzn1.ask.\u0061ccount.A"`, 1),
		strings.Replace(good, `"aud":"https://api.eu.amazonalexa.com"`, `"aud":["x","https://api.eu.amazonalexa.com"]`, 1),
		strings.Replace(good, `"aud":"https://api.eu.amazonalexa.com"`, `"aud":["https://api.eu.amazonalexa.com"]`, 1),
		strings.Replace(good, `"aud":"https://api.eu.amazonalexa.com"`, `"aud":[]`, 1),
		strings.Replace(good, `"aud":"https://api.eu.amazonalexa.com"`, `"aud":null`, 1),
		strings.Replace(good, `"exp":`, `"exp":-`, 1),
		strings.Replace(good, `"exp":`, `"exp":0`, 1),
		strings.Replace(good, `"iat":`, `"x":1,"iat":`, 1),
		strings.Replace(good, `"region":"EU"`, `"region":"EU","extra":{"a":[1,2]}`, 1),
		strings.Replace(good, `,"nbf":`, `,"nbf":1e3,"NBF":`, 1),
		strings.Replace(good, `"region":"EU"`, `"region":"Ëu"`, 1),
		strings.Replace(good, `"customerCreated":`, `"customerCreated": `, 1),
		strings.Replace(good, `"customerCreated":1`, `"customerCreated":-1`, 1),
		strings.Replace(good, `"customerCreated":1`, `"customerCreated":01`, 1),
		strings.Replace(good, `"customerCreated":1`, `"customerCreated":1.`, 1),
		strings.Replace(good, `"skillCreated":1`, `"skillCreated":null,"x":1`, 1),
		strings.Replace(good, `"skillCreated":1`, `"skillCreated":"1`, 1),
		strings.Replace(good, `"skillCreated":1`, `"skillCreated":99999999999999999999`, 1),
		strings.Replace(good, `"skillCreated":1`, `"skillCreated":0,"skillCreated":1`, 1),
		strings.Replace(good, `,"customerCreated":1773500966123,"skillCreated":1773500900007`, ``, 1),
		good + " ",
		good + "x",
		" " + good,
		"[" + good + "]",
		`{"iss":"AlexaSkillKit"}`,
		`{}`,
		``,
		`null`,
	}
}

// FuzzFastPath signs arbitrary payloads with the real key: whatever the
// fast path accepts, the full parse accepts with the same claims.
func FuzzFastPath(f *testing.F) {
	k := newTestKeyring(f, nil)
	ctx := context.Background()
	tok, _, err := k.Issue(ctx, testClaims, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := k.Verify(ctx, tok); err != nil { // teaches the fast path the header
		f.Fatal(err)
	}
	goodPayload := payloadOf(f, tok)
	for _, s := range fastPathSeeds(goodPayload) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		s := resign(k, tok, payload)
		fast, ok := k.verifyFast(s)
		full, err := k.verifyFull(ctx, s)
		if ok && (err != nil || !reflect.DeepEqual(fast, full)) {
			t.Fatalf("payload %q: fast path %+v, full parse %+v, %v", payload, fast, full, err)
		}
		// The payload is read before the MAC is checked: with the good
		// token's MAC, any other payload is refused.
		if payload != goodPayload {
			forged := s[:strings.LastIndexByte(s, '.')] + tok[strings.LastIndexByte(tok, '.'):]
			if _, ok := k.verifyFast(forged); ok {
				t.Fatalf("payload %q verified with another payload's MAC", payload)
			}
		}
	})
}

// The seeds, as a test: each one the fast path accepts is accepted the same.
func TestFastPathSeeds(t *testing.T) {
	k := newTestKeyring(t, nil)
	ctx := context.Background()
	tok, _, _ := k.Issue(ctx, testClaims, time.Hour)
	if _, err := k.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	accepted := 0
	good := payloadOf(t, tok)
	for i, payload := range fastPathSeeds(good) {
		if i > 0 && payload == good {
			// Written against a layout Issue no longer writes: it tests nothing.
			t.Errorf("seed %d is the good payload unchanged", i)
		}
		s := resign(k, tok, payload)
		fast, ok := k.verifyFast(s)
		full, err := k.verifyFull(ctx, s)
		if ok {
			accepted++
			if err != nil || !reflect.DeepEqual(fast, full) {
				t.Errorf("payload %q: fast path %+v, full parse %+v, %v", payload, fast, full, err)
			}
		}
	}
	if accepted < 3 {
		t.Errorf("the fast path accepted %d seeds, want the good one and its harmless variants", accepted)
	}
}

// TestPlain: the word-at-a-time test agrees with the table for every byte
// at every position of the four-word steps, the words after them and the
// tail, and for mixes.
func TestPlain(t *testing.T) {
	// Up to 73: the four-word steps, the single words after them, the
	// bytes after those.
	for n := 1; n <= 73; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				if got, want := plain(b), plainByte[c]; got != want {
					t.Fatalf("plain(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
	// Bytes next to each other must not hide one another (borrows and
	// carries between the bytes of a word).
	for _, s := range []string{"\x1f\x20\x20\x20\x20\x20\x20\x20", "~\x7f~~~~~~", "\xff\x00aaaaaa", "\x20\x1faaaaaa", "\\]]]]]]]", "[\\[[[[[["} {
		if plain([]byte(s)) {
			t.Errorf("plain(%q) = true", s)
		}
	}
	if !plain([]byte(" !#$%&'()*+,-./0123456789:;<=>?@AZ[]^_`az{|}~")) {
		t.Error("printable ASCII but the backslash is plain")
	}
}

// TestPrefetchBeforeTheMAC: on the fast path, Options.Prefetch is given
// the customer id of the token before its MAC is checked, so that a store
// can load the customer while the MAC is computed; a forged token's id
// too, and the token is still refused.
func TestPrefetchBeforeTheMAC(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var seen []string
	k, err := NewKeyring(context.Background(), store, Options{Prefetch: func(id []byte) { seen = append(seen, string(id)) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, _, err := k.Issue(ctx, testClaims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first verifies in full, and teaches the fast path its header
		if _, err := k.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 1 || seen[0] != testClaims.CustomerID {
		t.Fatalf("Prefetch saw %q, want the fast path's call with %q", seen, testClaims.CustomerID)
	}

	other := testClaims
	other.CustomerID = "amzn1.ask.account.OTHER"
	forged := strings.Replace(tok, strings.Split(tok, ".")[1], base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(payloadOf(t, tok), testClaims.CustomerID, other.CustomerID, 1))), 1)
	if _, err := k.Verify(ctx, forged); err == nil {
		t.Fatal("a token with another customer and the old MAC verified")
	}
	if len(seen) != 2 || seen[1] != other.CustomerID {
		t.Fatalf("Prefetch saw %q, want the forged token's %q before its MAC was refused", seen, other.CustomerID)
	}

	// A payload not in Issue's layout (no creation times: issued before
	// tokens had them) is read by parse, and prefetched alike.
	old := testClaims
	old.CustomerID, old.CustomerCreatedAt, old.SkillCreatedAt = "amzn1.ask.account.OLD", time.Time{}, time.Time{}
	tok, _, err = k.Issue(ctx, old, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen[2] != old.CustomerID {
		t.Fatalf("Prefetch saw %q, want %q from a payload parse reads", seen, old.CustomerID)
	}
}

// TestAudienceString: Issue writes aud as one string, as the live token
// does (a skill may compare it with its apiEndpoint). A token issued
// before, with aud an array of one, still verifies, on the fast path and
// in full, to the same claims.
func TestAudienceString(t *testing.T) {
	k := newTestKeyring(t, nil)
	ctx := context.Background()
	tok, _, err := k.Issue(ctx, testClaims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	payload := payloadOf(t, tok)
	want := `"aud":"` + testClaims.Audience + `"`
	if !strings.Contains(payload, want) {
		t.Fatalf("payload %s has no %s", payload, want)
	}
	if _, err := k.Verify(ctx, tok); err != nil { // the header is now known
		t.Fatal(err)
	}
	// As the earlier Issue wrote it: the array after sub.
	sub := `"sub":"` + testClaims.SkillID + `"`
	old := strings.Replace(strings.Replace(payload, ","+want, "", 1), sub, sub+`,"aud":["`+testClaims.Audience+`"]`, 1)
	if !strings.HasPrefix(old, `{"iss":"AlexaSkillKit",`+sub+`,"aud":["`) || strings.Contains(old, want) {
		t.Fatalf("the earlier layout, made: %s", old)
	}
	asArray := resign(k, tok, old)
	fast, ok := k.verifyFast(asArray)
	if !ok {
		t.Fatal("the fast path refused a token whose aud is an array of one")
	}
	k.headers.Store(nil) // the full parse alone
	full, err := k.Verify(ctx, asArray)
	if err != nil {
		t.Fatal(err)
	}
	if fast.Audience != testClaims.Audience || !reflect.DeepEqual(fast, full) {
		t.Errorf("fast path %+v, full parse %+v, want the audience %s", fast, full, testClaims.Audience)
	}
}

// TestFastPathStrictPayload: a payload segment whose last character sets
// bits past the data decodes, leniently, to the same bytes; golang-jwt's
// strict decoding refuses it, and so must the fast path. Device ids of
// three lengths give payloads of every length modulo 3.
func TestFastPathStrictPayload(t *testing.T) {
	k := newTestKeyring(t, nil)
	ctx := context.Background()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	lenient := 0
	for _, suffix := range []string{"", "X", "XX"} {
		claims := testClaims
		claims.DeviceID += suffix
		tok, _, err := k.Issue(ctx, claims, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		seg := strings.Split(tok, ".")[1]
		for _, c := range alphabet {
			variant := seg[:len(seg)-1] + string(c)
			if variant == seg {
				continue
			}
			s := resignSegment(k, tok, variant)
			_, fast := k.verifyFast(s)
			_, err := k.verifyFull(ctx, s)
			if err == nil {
				lenient++ // the same bytes, strictly: none should be
			}
			if fast && err != nil {
				t.Errorf("payload ending %q: the fast path accepted it, golang-jwt refuses it: %v", variant[len(variant)-4:], err)
			}
		}
	}
	if lenient != 0 {
		t.Errorf("golang-jwt accepted %d payloads that differ from the issued one in the last character", lenient)
	}
}
