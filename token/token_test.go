package token_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/sqlite"
	"github.com/profileapi/profileapi/token"
)

func newKeyring(t testing.TB, now func() time.Time) (*token.Keyring, *sqlite.DB) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	k, err := token.NewKeyring(context.Background(), store, token.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return k, store
}

var claims = token.Claims{
	CustomerID: "amzn1.ask.account.A", SkillID: "amzn1.ask.skill.s", DeviceID: "amzn1.ask.device.D", Region: profileapi.RegionEU, Audience: "https://api.eu.amazonalexa.com",
	CustomerCreatedAt: time.UnixMilli(1773500966123), SkillCreatedAt: time.UnixMilli(1773500900007),
}

func TestIssueVerify(t *testing.T) {
	k, _ := newKeyring(t, nil)
	tok, exp, err := k.Issue(context.Background(), claims, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > time.Hour+time.Second {
		t.Fatalf("default lifetime %s, want 1h", d)
	}
	got, err := k.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.CustomerID != claims.CustomerID || got.SkillID != claims.SkillID || got.Region != claims.Region || got.Audience != claims.Audience || got.DeviceID != claims.DeviceID ||
		!got.CustomerCreatedAt.Equal(claims.CustomerCreatedAt) || !got.SkillCreatedAt.Equal(claims.SkillCreatedAt) {
		t.Fatalf("claims %+v", got)
	}
	if _, _, err := k.Issue(context.Background(), claims, token.MaxTTL+time.Second); profileapi.ErrorKind(err) != profileapi.EINVALID {
		t.Fatalf("over-long ttl: %v", err)
	}
}

// A second keyring on the same store, as a second node or a restarted
// process, verifies what the first issued; rotation by one is seen by the other.
func TestKeysSharedThroughStore(t *testing.T) {
	a, store := newKeyring(t, nil)
	b, err := token.NewKeyring(context.Background(), store, token.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := a.Issue(context.Background(), claims, 0)
	if _, err := b.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	fresh, _, _ := a.Issue(context.Background(), claims, 0)
	// b learns the new key on first sight of its kid.
	if _, err := b.Verify(context.Background(), fresh); err != nil {
		t.Fatalf("other node, rotated key: %v", err)
	}
}

func TestRotationAndRetirement(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	k, _ := newKeyring(t, clock)
	old, _, _ := k.Issue(context.Background(), claims, time.Hour)
	now = now.Add(token.DefaultRotation + time.Minute) // the first key is past its signing period
	fresh, _, _ := k.Issue(context.Background(), claims, time.Hour)
	if strings.Split(old, ".")[0] == strings.Split(fresh, ".")[0] {
		t.Fatal("no new key after the rotation period")
	}
	if _, err := k.Verify(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(context.Background(), old); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired token from the old key: %v", err)
	}
}

// FuzzVerify: no input panics, and every refusal is EUNAUTHORIZED.
func FuzzVerify(f *testing.F) {
	k, _ := newKeyring(f, nil)
	good, _, _ := k.Issue(context.Background(), claims, 0)
	parts := strings.Split(good, ".")
	f.Add(good)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".")
	f.Add("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + parts[1] + "." + parts[2])
	f.Add("a.b.c")
	f.Add("")
	f.Add(strings.Repeat("A", 5000))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := k.Verify(context.Background(), s)
		if err != nil {
			if profileapi.ErrorKind(err) != profileapi.EUNAUTHORIZED {
				t.Fatalf("kind %s: %v", profileapi.ErrorKind(err), err)
			}
			return
		}
		if s != good || c.CustomerID != claims.CustomerID {
			t.Fatalf("accepted a token this keyring did not issue: %q", s)
		}
	})
}

// Many requests carrying a key another node has just made all verify:
// they share one reload instead of being turned away while it runs.
func TestConcurrentNewKid(t *testing.T) {
	a, store := newKeyring(t, nil)
	b, err := token.NewKeyring(context.Background(), store, token.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, _, _ := a.Issue(context.Background(), claims, 0)
	errs := make(chan error, 32)
	for range 32 {
		go func() {
			_, err := b.Verify(context.Background(), tok)
			errs <- err
		}()
	}
	for range 32 {
		if err := <-errs; err != nil {
			t.Fatalf("a token of a key made by another node: %v", err)
		}
	}
	// A forged kid is still refused, after its one reload.
	parts := strings.Split(tok, ".")
	forged := "eyJhbGciOiJIUzI1NiIsImtpZCI6Im5vcGUiLCJ0eXAiOiJKV1QifQ." + parts[1] + "." + parts[2]
	if _, err := b.Verify(context.Background(), forged); err == nil {
		t.Fatal("a forged kid verified")
	}
}

// TestAlteredSignatureRefused: the last character of a signature holds
// two bits past the MAC's 256; a token with other values there decodes to
// the same MAC, and is refused all the same, by the fast path and the full
// parse alike.
func TestAlteredSignatureRefused(t *testing.T) {
	k, store := newKeyring(t, nil)
	tok, _, err := k.Issue(context.Background(), claims, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(context.Background(), tok); err != nil { // learns the header: the fast path
		t.Fatal(err)
	}
	fresh, err := token.NewKeyring(context.Background(), store, token.Options{}) // the full parse
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(tok[strings.LastIndexByte(tok, '.')+1:])
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	altered := 0
	for _, c := range alphabet {
		other := tok[:len(tok)-1] + string(c)
		if other == tok {
			continue
		}
		if b, err := base64.RawURLEncoding.DecodeString(other[strings.LastIndexByte(other, '.')+1:]); err != nil || !bytes.Equal(b, sig) {
			continue // a different MAC: refused anyway
		}
		altered++
		for name, kr := range map[string]*token.Keyring{"fast path": k, "full parse": fresh} {
			if _, err := kr.Verify(context.Background(), other); profileapi.ErrorKind(err) != profileapi.EUNAUTHORIZED {
				t.Errorf("%s: the token with its last character %q for %q: %v, want refused", name, c, tok[len(tok)-1], err)
			}
		}
	}
	if altered != 3 {
		t.Fatalf("%d other last characters decode to the same MAC, want 3", altered)
	}
}

// A token lives at least the lifetime asked for, though its times are
// whole seconds: one of a second, minted late in a second, is good for
// that second; and none outlives MaxTTL from its issue, which bounds how
// long its key must verify.
func TestLifetimeAtLeastTTL(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 900_000_000, time.UTC)
	k, _ := newKeyring(t, func() time.Time { return at })
	for _, ttl := range []time.Duration{time.Second, time.Minute, token.MaxTTL} {
		tok, exp, err := k.Issue(context.Background(), claims, ttl)
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("ttl %s: %v", ttl, err)
		}
		if !got.ExpiresAt.Equal(exp) || got.ExpiresAt.Sub(got.IssuedAt) > token.MaxTTL {
			t.Errorf("ttl %s: expires %v (said %v), issued %v", ttl, got.ExpiresAt, exp, got.IssuedAt)
		}
		if ttl < token.MaxTTL && exp.Before(at.Add(ttl)) {
			t.Errorf("ttl %s: expires %v, before %v", ttl, exp, at.Add(ttl))
		}
	}
}

// Nodes' clocks differ a little: a token issued on a node whose clock is
// ahead is good at once on the others, for nbf and iat are whole seconds of
// the issuer's clock. Not much further ahead, and never past its expiry.
func TestClockSkewBetweenNodes(t *testing.T) {
	var offset time.Duration // the issuing node's clock, ahead of the verifier's
	issuer, store := newKeyring(t, func() time.Time { return time.Now().Add(offset) })
	verifier, err := token.NewKeyring(context.Background(), store, token.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ahead time.Duration
		ok    bool
	}{{2 * time.Second, true}, {token.ClockSkew - time.Second, true}, {token.ClockSkew + 2*time.Second, false}} {
		offset = tc.ahead
		tok, _, err := issuer.Issue(context.Background(), claims, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"first (full parse)", "again (fast path)"} {
			_, err := verifier.Verify(context.Background(), tok)
			if tc.ok && err != nil || !tc.ok && (err == nil || !strings.Contains(err.Error(), "not valid yet")) {
				t.Errorf("issued %v ahead, verified %s: %v, want ok %v", tc.ahead, path, err, tc.ok)
			}
		}
	}

	// Expiry keeps no leeway: a second past it, on either path.
	offset = 0
	tok, exp, err := issuer.Issue(context.Background(), claims, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	late := exp.Add(time.Second)
	for _, fresh := range []bool{true, false} { // a keyring that has seen its header verifies fast
		var now time.Time
		k, err := token.NewKeyring(context.Background(), store, token.Options{Now: func() time.Time {
			if now.IsZero() {
				return time.Now()
			}
			return now
		}})
		if err != nil {
			t.Fatal(err)
		}
		if !fresh {
			if _, err := k.Verify(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
		}
		now = late
		if _, err := k.Verify(context.Background(), tok); err == nil || !strings.Contains(err.Error(), "has expired") {
			t.Errorf("a second past expiry (header seen before: %v): %v, want it expired", !fresh, err)
		}
	}
}
