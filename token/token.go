// Package token issues and verifies apiAccessTokens.
//
// A token is a JWT bound to one customer, one skill and one region's
// endpoint, shaped like the live service's (iss "AlexaSkillKit", sub the
// skill, aud the endpoint, privateClaims.userId the customer). It carries no
// scopes: consent is checked against the store on every request, so a
// revocation takes effect at once.
//
// Tokens are signed with HS256. The issuer and the only verifier are the
// same service (every node shares the keys through the store), so a public
// key buys nothing, while an RSA signature would cost a millisecond per mint
// and tens of microseconds per request. The algorithm is pinned: a token
// whose header names any other, "none" included, is rejected.
package token

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/profileapi/profileapi"
)

// Issuer is the iss claim of every token, as on the live service.
const Issuer = "AlexaSkillKit"

// Default lifetimes.
const (
	DefaultTTL = time.Hour
	// MaxTTL bounds a token's lifetime, and so how long a retired key must
	// keep verifying.
	MaxTTL = 24 * time.Hour
	// DefaultRotation is how long a key signs before a new one takes over.
	DefaultRotation = 24 * time.Hour
)

// Claims is what a verified token says.
type Claims struct {
	CustomerID string
	SkillID    string
	DeviceID   string
	Region     profileapi.Region
	Audience   string
	IssuedAt   time.Time
	ExpiresAt  time.Time
	// CustomerCreatedAt and SkillCreatedAt are when the customer and the
	// skill were created, to the millisecond: a customer or skill deleted
	// and created again under its id is another, and the API refuses the
	// tokens of the first. Zero in a token issued without them.
	CustomerCreatedAt time.Time
	SkillCreatedAt    time.Time
}

// jwtClaims is the wire form, after the live service's token, as read:
// an aud of one string or an array of them.
type jwtClaims struct {
	jwt.RegisteredClaims
	Private privateClaims `json:"privateClaims"`
}

// issuedClaims is the wire form as Issue writes it: aud one string, as in
// the live token (a skill may compare it with its apiEndpoint), where
// jwt.RegisteredClaims would write an array. Its Audience stays empty,
// which omits it, and this aud takes the name.
type issuedClaims struct {
	jwt.RegisteredClaims
	Audience string        `json:"aud"`
	Private  privateClaims `json:"privateClaims"`
}

type privateClaims struct {
	Context      string            `json:"context,omitempty"`
	ConsentToken string            `json:"consentToken,omitempty"`
	UserID       string            `json:"userId"`
	DeviceID     string            `json:"deviceId"`
	Region       profileapi.Region `json:"region"`
	// Unix milliseconds; this service's own, which a skill has no use for.
	CustomerCreated int64 `json:"customerCreated,omitempty"`
	SkillCreated    int64 `json:"skillCreated,omitempty"`
}

// Keyring signs tokens with the newest key and verifies them with any key
// still in its verifying window. Keys live in a profileapi.KeyStore.
type Keyring struct {
	store    profileapi.KeyStore
	now      func() time.Time
	rotation time.Duration
	parser   *jwt.Parser
	opening  func() any // the store's Opening, or nil if it has none
	prefetch func(customerID []byte)

	mu       sync.RWMutex
	keys     map[string]*liveKey
	signing  *liveKey
	loadedOn any       // what opening returned as the keys were loaded
	loadedAt time.Time // when they were, real clock

	recheckMu sync.Mutex // held by the one signer looking at the keys again (keyRecheck)

	reloadMu   sync.Mutex
	lastReload time.Time // start of the last reload for an unknown kid, real clock

	// headers maps the header segment of tokens that verified to their
	// key, for the fast path (see verifyFast). Replaced whole under mu,
	// read without a lock.
	headers atomic.Pointer[map[string]*macKey]
}

// liveKey is a loaded key and the end of its verifying window.
type liveKey struct {
	*profileapi.SigningKey
	// until is the last instant the key verifies: MaxTTL after the last
	// token it may have signed, endless for the newest key. Computed as the
	// keys are loaded, so that verifying costs a compare.
	until time.Time
}

// keyRecheck is how often a keyring that signs looks again at the keys in
// its store, for a database made again under it.
const keyRecheck = 10 * time.Second

// endless is the verifying window's end of the newest key, which may sign
// a token at any time.
var endless = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// same reports whether both are the same key with the same window.
func (l *liveKey) same(o *liveKey) bool {
	return l.ID == o.ID && bytes.Equal(l.Secret, o.Secret) && l.CreatedAt.Equal(o.CreatedAt) && l.until.Equal(o.until)
}

// ClockSkew is how far behind the clock of the node that issued a token
// another node's may be: nbf and iat are whole seconds of the issuer's
// clock, so a node a few milliseconds behind it would otherwise refuse a
// token used at once, as not valid yet, about as often as it is behind in
// thousandths of a second. A token's expiry has no such leeway.
const ClockSkew = 5 * time.Second

// Options tune a Keyring; the zero value is the defaults.
type Options struct {
	Now      func() time.Time
	Rotation time.Duration
	// Prefetch, if set, is given the customer id a token names before its
	// MAC is checked, on the fast path (a token whose payload it can
	// read): the caller may start loading into the CPU's cache what it
	// will look the customer up with (cache.Store.Prefetch) while the MAC
	// is computed. It must return at once. The id is not verified: it may
	// be forged, and is good for nothing more than that. It is valid only
	// during the call.
	Prefetch func(customerID []byte)
}

// NewKeyring loads the keys from the store, creating the first if there is none.
func NewKeyring(ctx context.Context, store profileapi.KeyStore, opts Options) (*Keyring, error) {
	k := &Keyring{store: store, now: opts.Now, rotation: opts.Rotation, prefetch: opts.Prefetch}
	if k.now == nil {
		k.now = time.Now
	}
	if k.rotation <= 0 {
		k.rotation = DefaultRotation
	}
	// A store that may reopen on another database (SQLite, when a backup
	// is restored) says so as the cache's Health does: the key this
	// keyring signs with may not be in the new one.
	if h, ok := store.(interface{ Opening() any }); ok {
		k.opening = h.Opening
	}
	k.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		// For nbf and iat; exp is checked without it, in verifyFull.
		jwt.WithLeeway(ClockSkew),
		jwt.WithTimeFunc(k.now),
		// A segment with other bits past its last byte would decode the
		// same: the token could be altered and still verify.
		jwt.WithStrictDecoding(),
	)
	if err := k.reload(ctx); err != nil {
		return nil, err
	}
	if _, err := k.signingKey(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// Issue mints a token for the customer and skill at the region's endpoint.
func (k *Keyring) Issue(ctx context.Context, c Claims, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if ttl > MaxTTL {
		return "", time.Time{}, profileapi.Errorf(profileapi.EINVALID, "ttl must be at most %s", MaxTTL)
	}
	key, err := k.signingKey(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	// The times are whole seconds. The expiry is rounded up, so that a
	// token lives at least ttl (one of a second would otherwise be dead
	// at once, minted late in a second), but never past MaxTTL from its
	// issue, which bounds how long its key must verify.
	at := k.now()
	now := at.Truncate(time.Second)
	exp := ceilSecond(at.Add(ttl))
	if limit := now.Add(MaxTTL); exp.After(limit) {
		exp = limit
	}
	claims := issuedClaims{
		Audience: c.Audience,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.SkillID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        randomHex(12),
		},
		Private: privateClaims{
			Context:         randomHex(16),
			UserID:          c.CustomerID,
			DeviceID:        c.DeviceID,
			Region:          c.Region,
			CustomerCreated: unixMilli(c.CustomerCreatedAt),
			SkillCreated:    unixMilli(c.SkillCreatedAt),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = key.ID
	s, err := t.SignedString(key.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: sign: %w", err)
	}
	return s, exp, nil
}

// Verify checks the token's signature, algorithm, issuer and times and
// returns its claims. Every failure is EUNAUTHORIZED with a message a
// developer can act on; it never says more than why the token was refused.
// Only when the store cannot be asked for a key it does not know yet is
// the error EUNAVAILABLE.
//
// A token shaped as Issue makes them, with a header that verified before,
// takes a fast path (verifyFast); any other, and any the fast path has the
// least doubt about, is parsed and checked in full by golang-jwt.
//
// The claims are a value: every public API call verifies a token, and under
// load an allocation costs more than the copy.
func (k *Keyring) Verify(ctx context.Context, s string) (Claims, error) {
	if c, ok := k.verifyFast(s); ok {
		return c, nil
	}
	return k.verifyFull(ctx, s)
}

// verifyFull verifies a token with golang-jwt, and teaches the fast path
// its header if it is valid.
func (k *Keyring) verifyFull(ctx context.Context, s string) (Claims, error) {
	var claims jwtClaims
	var used *liveKey
	_, err := k.parser.ParseWithClaims(s, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, err := k.verifyingKey(ctx, kid)
		if err != nil {
			return nil, err
		}
		if key == nil {
			return nil, errUnknownKey
		}
		used = key
		return key.Secret, nil
	})
	if err != nil {
		if profileapi.ErrorKind(err) == profileapi.EUNAVAILABLE {
			return Claims{}, err // the store could not be asked for the key: 503, not 401
		}
		return Claims{}, unauthorized(err)
	}
	if claims.ExpiresAt != nil && !k.now().Before(claims.ExpiresAt.Time) {
		return Claims{}, unauthorized(jwt.ErrTokenExpired) // to the second, the leeway is for nbf and iat
	}
	p := claims.Private
	if p.UserID == "" || claims.Subject == "" || len(claims.Audience) != 1 || claims.NotBefore == nil || claims.IssuedAt == nil {
		return Claims{}, profileapi.Errorf(profileapi.EUNAUTHORIZED, "the token lacks a required claim")
	}
	k.learnHeader(s[:strings.IndexByte(s, '.')], used)
	return Claims{
		CustomerID:        p.UserID,
		SkillID:           claims.Subject,
		DeviceID:          p.DeviceID,
		Region:            p.Region,
		Audience:          claims.Audience[0],
		IssuedAt:          claims.IssuedAt.Time,
		ExpiresAt:         claims.ExpiresAt.Time,
		CustomerCreatedAt: fromUnixMilli(p.CustomerCreated),
		SkillCreatedAt:    fromUnixMilli(p.SkillCreated),
	}, nil
}

// unixMilli is t in Unix milliseconds, 0 for the zero time (no claim).
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromUnixMilli is unixMilli's inverse.
func fromUnixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

var errUnknownKey = errors.New("unknown signing key")

func unauthorized(err error) error {
	msg := "the token is invalid"
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		msg = "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		msg = "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenMalformed):
		msg = "the token is malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		msg = "the token's signature is invalid"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		msg = "the token was not issued by this service"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		msg = "the token lacks a required claim"
	}
	return &profileapi.Error{Kind: profileapi.EUNAUTHORIZED, Message: msg, Err: err}
}

// Rotate makes a new key sign from now on; older keys keep verifying until
// the tokens they signed have expired.
func (k *Keyring) Rotate(ctx context.Context) (*profileapi.SigningKey, error) {
	key, err := k.rotate(ctx)
	if err != nil {
		return nil, err
	}
	return key.SigningKey, nil
}

func (k *Keyring) rotate(ctx context.Context) (*liveKey, error) {
	key := &profileapi.SigningKey{ID: randomHex(8), Secret: make([]byte, 32), CreatedAt: k.now().UTC()}
	if _, err := rand.Read(key.Secret); err != nil {
		return nil, err
	}
	if err := k.store.AddSigningKey(ctx, key); err != nil {
		return nil, fmt.Errorf("token: add signing key: %w", err)
	}
	if err := k.reload(ctx); err != nil {
		return nil, err
	}
	k.mu.Lock()
	live := k.keys[key.ID]
	if live != nil {
		k.signing = live // the key just made signs, even if the clock has not moved
	}
	before := k.retiredBefore(k.now())
	k.mu.Unlock()
	if live == nil { // the store lost it at once: it must not sign
		return nil, fmt.Errorf("token: the signing key %s just added is not in the store", key.ID)
	}
	if !before.IsZero() {
		_ = k.store.DeleteSigningKeys(ctx, before)
	}
	return live, nil
}

// retiredBefore returns the creation time of the oldest key whose window
// ended less than a rotation period ago (slack for other nodes' clocks):
// the keys created before it verify nothing. Windows end in the order the
// keys were made, so those keys are all the retired ones. The caller holds
// k.mu.
func (k *Keyring) retiredBefore(now time.Time) time.Time {
	var oldest time.Time
	for _, key := range k.keys {
		if !key.until.Add(k.rotation).Before(now) && (oldest.IsZero() || key.CreatedAt.Before(oldest)) {
			oldest = key.CreatedAt
		}
	}
	return oldest
}

// signingKey returns the newest key, rotating when it is older than the
// rotation period.
func (k *Keyring) signingKey(ctx context.Context) (*liveKey, error) {
	k.mu.RLock()
	key, loadedOn, loadedAt := k.signing, k.loadedOn, k.loadedAt
	k.mu.RUnlock()
	// After the store reopened, on a restored backup say, the key may be
	// gone from it: signing with it would mint tokens that die at the next
	// restart.
	reopened := k.opening != nil && k.opening() != loadedOn
	if key != nil && k.now().Sub(key.CreatedAt) < k.rotation && !reopened {
		// A database dropped and made again, or restored from a dump,
		// under the running service (PostgreSQL's tables come back at the
		// next /readyz) no longer holds the key: its tokens would die with
		// the next reload on any node. Another look now and then bounds
		// that; one caller looks while the others sign on.
		if time.Since(loadedAt) <= keyRecheck || !k.recheckMu.TryLock() {
			return key, nil
		}
		defer k.recheckMu.Unlock()
		if err := k.reload(ctx); err != nil {
			// The key in hand is the store's as far as is known: a store
			// failing now is no reason to stop minting. Next look later.
			k.mu.Lock()
			k.loadedAt = time.Now()
			k.mu.Unlock()
			return key, nil
		}
	} else if err := k.reload(ctx); err != nil { // another node may have rotated already
		return nil, err
	}
	k.mu.RLock()
	key = k.signing
	k.mu.RUnlock()
	if key != nil && k.now().Sub(key.CreatedAt) < k.rotation {
		return key, nil
	}
	return k.rotate(ctx)
}

// verifyingKey finds the key by id. A kid not known yet makes the keyring
// reload from the store, so a key another node has just made is found at
// once. Reloads are serialised, and a caller that waited for one which
// started after it arrived does not start another: concurrent requests
// with a new kid share one reload, and a flood of forged kids costs one
// store query at a time.
func (k *Keyring) verifyingKey(ctx context.Context, kid string) (*liveKey, error) {
	key, ok := k.lookup(kid)
	if !ok && kid != "" {
		arrived := time.Now()
		k.reloadMu.Lock()
		if key, ok = k.lookup(kid); !ok && !k.lastReload.After(arrived) {
			started := time.Now()
			if err := k.reload(ctx); err != nil {
				k.reloadMu.Unlock()
				return nil, err
			}
			k.lastReload = started // only a reload that happened counts
			key, ok = k.lookup(kid)
		}
		k.reloadMu.Unlock()
	}
	if !ok || k.now().After(key.until) {
		return nil, nil
	}
	return key, nil
}

func (k *Keyring) lookup(kid string) (*liveKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.keys[kid]
	return key, ok
}

// reload loads the keys from the store, and the end of each one's
// verifying window: a key signs until the next is made, or for this
// node's rotation period if that is longer (a node signs with its key
// until the period ends, and every node has the same period); its tokens
// expire at most MaxTTL later. The window follows from the keys, not
// from a setting alone, so that a restart with a shorter period keeps
// the tokens of the keys made before.
func (k *Keyring) reload(ctx context.Context) error {
	var on any
	if k.opening != nil {
		on = k.opening() // before the query: a reopen during it shows next time
	}
	keys, err := k.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: load signing keys: %w", err)
	}
	slices.SortStableFunc(keys, func(a, b *profileapi.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	k.mu.Lock()
	defer k.mu.Unlock()
	m := make(map[string]*liveKey, len(keys))
	var successor time.Time // creation of the oldest key newer than the one at hand
	for i, key := range keys {
		if i > 0 && key.CreatedAt.Before(keys[i-1].CreatedAt) {
			successor = keys[i-1].CreatedAt
		}
		live := &liveKey{SigningKey: key, until: endless}
		if !successor.IsZero() {
			live.until = later(successor, key.CreatedAt.Add(k.rotation)).Add(MaxTTL)
		}
		if old := k.keys[key.ID]; old != nil && old.same(live) {
			live = old // the fast path knows its headers by this pointer
		}
		m[key.ID] = live
	}
	var newest *liveKey
	if len(keys) > 0 {
		newest = m[keys[0].ID]
	}
	k.keys, k.signing, k.loadedOn, k.loadedAt = m, newest, on, time.Now()
	k.forgetHeaders()
	return nil
}

// ceilSecond rounds t up to a whole second.
func ceilSecond(t time.Time) time.Time {
	if s := t.Truncate(time.Second); !s.Equal(t) {
		return s.Add(time.Second)
	}
	return t
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
