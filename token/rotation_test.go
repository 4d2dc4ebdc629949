package token

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/sqlite"
)

func openKeyStore(t testing.TB) *sqlite.DB {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func kidOf(t testing.TB, tok string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	_, kid, ok := strings.Cut(string(h), `"kid":"`)
	if !ok {
		t.Fatalf("no kid in %s", h)
	}
	return kid[:strings.IndexByte(kid, '"')]
}

func storedKids(t testing.TB, store profileapi.KeyStore) []string {
	t.Helper()
	keys, err := store.SigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}

// verifyBoth checks the token through the full parse and then, its
// header learnt, through the fast path.
func verifyBoth(t testing.TB, k *Keyring, tok string) error {
	t.Helper()
	if _, err := k.verifyFull(context.Background(), tok); err != nil {
		return err
	}
	if _, ok := k.verifyFast(tok); !ok {
		t.Fatal("the full parse accepted the token, the fast path did not")
	}
	return nil
}

// TestRestartWithShorterRotation: a token minted before a restart with a
// shorter --key-rotation, by a key older than the new period, verifies
// until it expires, on both paths, and its key is not deleted meanwhile.
// Once the key's window is over, the key is refused and deleted.
func TestRestartWithShorterRotation(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	store := openKeyStore(t)
	before, err := NewKeyring(ctx, store, Options{Now: clock}) // 24 hours
	if err != nil {
		t.Fatal(err)
	}
	now = t0.Add(23 * time.Hour)
	tok, exp, err := before.Issue(ctx, testClaims, MaxTTL)
	if err != nil {
		t.Fatal(err)
	}
	old := kidOf(t, tok)

	after, err := NewKeyring(ctx, store, Options{Now: clock, Rotation: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now = exp.Add(-time.Minute) // the key is a day older than the new period allows
	if _, err := after.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(storedKids(t, store), old) {
		t.Fatal("Rotate deleted the key of a token still valid")
	}
	if err := verifyBoth(t, after, tok); err != nil {
		t.Fatalf("a token minted before the restart, a minute before it expires: %v", err)
	}
	again, err := NewKeyring(ctx, store, Options{Now: clock, Rotation: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyBoth(t, again, tok); err != nil {
		t.Fatalf("the same, after another restart: %v", err)
	}

	// A token of the old key that expires later than Issue allows: good
	// within the key's window, refused after it.
	forged := signWith(t, after.keys[old].SigningKey, tok, exp.Add(time.Hour))
	if err := verifyBoth(t, after, forged); err != nil {
		t.Fatalf("a token of the old key within its window: %v", err)
	}
	now = exp.Add(time.Second) // the old key stopped signing a day ago
	if _, ok := after.verifyFast(forged); ok {
		t.Error("the fast path accepted a key past its window")
	}
	if _, err := after.verifyFull(ctx, forged); err == nil || !strings.Contains(err.Error(), "signature is invalid") {
		t.Errorf("the full parse, a key past its window: %v", err)
	}
	if !slices.Contains(storedKids(t, store), old) {
		t.Fatal("the key was deleted before its window ended plus a rotation period")
	}
	now = exp.Add(time.Hour + time.Second)
	if _, err := after.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(storedKids(t, store), old) {
		t.Fatal("Rotate kept a key past its window")
	}
}

// signWith returns the token with its expiry changed, signed with key.
func signWith(t testing.TB, key *profileapi.SigningKey, tok string, exp time.Time) string {
	t.Helper()
	p := payloadOf(t, tok)
	at := strings.Index(p, `"exp":`) + len(`"exp":`)
	end := at + strings.IndexByte(p[at:], ',')
	p = p[:at] + strconv.FormatInt(exp.Unix(), 10) + p[end:]
	signed := strings.Split(tok, ".")[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(p))
	mac := hmac.New(sha256.New, key.Secret)
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// reopening is a key store that reopens on another database, as
// sqlite.DB does when a backup is restored.
type reopening struct {
	*sqlite.DB
	opened *int
}

func (r *reopening) Opening() any { return r.opened }

func (r *reopening) reopen(db *sqlite.DB) {
	r.DB, r.opened = db, new(int)
}

// TestReopenedStoreLacksSigningKey: after the store reopens on a
// database without the key the keyring signs with, the next token is
// signed with a key the store has.
func TestReopenedStoreLacksSigningKey(t *testing.T) {
	ctx := context.Background()
	live, restored := openKeyStore(t), openKeyStore(t)
	store := &reopening{DB: live, opened: new(int)}
	k, err := NewKeyring(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := live.SigningKeys(ctx) // the backup holds the first key
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		if err := restored.AddSigningKey(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}

	store.reopen(restored)
	signsWithStoredKey(t, k, restored)
}

// signsWithStoredKey checks that the next token k issues is signed with a
// key the store holds, and verifies.
func signsWithStoredKey(t *testing.T, k *Keyring, store profileapi.KeyStore) {
	t.Helper()
	ctx := context.Background()
	tok, _, err := k.Issue(ctx, testClaims, 0)
	if err != nil {
		t.Fatal(err)
	}
	if kid := kidOf(t, tok); !slices.Contains(storedKids(t, store), kid) {
		t.Fatalf("signed with key %s, not in the store (%v)", kid, storedKids(t, store))
	}
	if _, err := k.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

// recreated is a key store without Opening, as PostgreSQL's, whose
// database is dropped and made again under the keyring.
type recreated struct{ profileapi.KeyStore }

// TestRecreatedStoreLacksSigningKey: a store that cannot say it changed
// (its database dropped and made empty again) is looked at again within
// keyRecheck, and the next token is signed with a key it holds.
func TestRecreatedStoreLacksSigningKey(t *testing.T) {
	ctx := context.Background()
	store := &recreated{openKeyStore(t)}
	k, err := NewKeyring(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k.opening != nil {
		t.Fatal("the store has an Opening: this tests one without")
	}
	empty := openKeyStore(t)
	store.KeyStore = empty

	if _, _, err := k.Issue(ctx, testClaims, 0); err != nil {
		t.Fatal(err)
	}
	if len(storedKids(t, empty)) != 0 {
		t.Fatalf("looked at the store again at once: %v", storedKids(t, empty))
	}
	k.mu.Lock()
	k.loadedAt = k.loadedAt.Add(-keyRecheck - time.Second) // as keyRecheck later
	k.mu.Unlock()
	signsWithStoredKey(t, k, empty)
}

// failingKeys is a key store whose SigningKeys fails once failing is set:
// a database that stopped answering.
type failingKeys struct {
	profileapi.KeyStore
	failing bool
}

func (f *failingKeys) SigningKeys(ctx context.Context) ([]*profileapi.SigningKey, error) {
	if f.failing {
		return nil, profileapi.Unavailable(errors.New("the database stopped answering"), time.Second)
	}
	return f.KeyStore.SigningKeys(ctx)
}

// A look at the keys again that fails keeps the key in hand: a store
// failing for a moment does not stop a token batch.
func TestRecheckFailureKeepsSigning(t *testing.T) {
	ctx := context.Background()
	store := &failingKeys{KeyStore: openKeyStore(t)}
	k, err := NewKeyring(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := k.Issue(ctx, testClaims, 0)
	if err != nil {
		t.Fatal(err)
	}
	store.failing = true
	k.mu.Lock()
	k.loadedAt = k.loadedAt.Add(-keyRecheck - time.Second)
	k.mu.Unlock()
	tok, _, err := k.Issue(ctx, testClaims, 0)
	if err != nil {
		t.Fatalf("Issue after a failed recheck: %v", err)
	}
	if kidOf(t, tok) != kidOf(t, first) {
		t.Errorf("signed with %s after a failed recheck, want the key in hand %s", kidOf(t, tok), kidOf(t, first))
	}
	k.mu.RLock()
	next := time.Since(k.loadedAt)
	k.mu.RUnlock()
	if next > keyRecheck {
		t.Errorf("the next look is due at once (%v since the last): every call would wait on the failing store", next)
	}
}
