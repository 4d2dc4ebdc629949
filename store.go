package profileapi

import (
	"context"
	"time"
)

// SkillStore keeps skills.
type SkillStore interface {
	// CreateSkill stores a new skill; ECONFLICT if the id is taken.
	CreateSkill(ctx context.Context, s *Skill) error
	// Skill returns the skill; ENOTFOUND if there is none.
	Skill(ctx context.Context, id string) (*Skill, error)
	// Skills lists every skill ordered by id.
	Skills(ctx context.Context) ([]*Skill, error)
	// UpdateSkill sets the name and the declared scopes of the skill s.ID,
	// keeping its consents but narrowing each to the scopes now declared, in
	// one transaction; ENOTFOUND if there is none. s gets the CreatedAt as
	// stored.
	UpdateSkill(ctx context.Context, s *Skill) error
	// DeleteSkill removes the skill and every consent given to it; ENOTFOUND if there is none.
	DeleteSkill(ctx context.Context, id string) error
}

// CustomerStore keeps customers and their profiles.
type CustomerStore interface {
	// CreateCustomer stores a new customer; ECONFLICT if the id is taken.
	CreateCustomer(ctx context.Context, c *Customer) error
	// Customer returns the customer; ENOTFOUND if there is none.
	Customer(ctx context.Context, id string) (*Customer, error)
	// UpdateCustomer applies fn to the stored customer and saves the result
	// atomically; ENOTFOUND if there is none. fn's error aborts the update.
	UpdateCustomer(ctx context.Context, id string, fn func(*Customer) error) (*Customer, error)
	// DeleteCustomer removes the customer and its consents; ENOTFOUND if there is none.
	DeleteCustomer(ctx context.Context, id string) error
}

// ConsentStore keeps what customers have granted skills.
type ConsentStore interface {
	// PutConsent sets the scopes granted, replacing any earlier grant;
	// ENOTFOUND if the customer or skill does not exist. Callers check the
	// scopes against the skill's declared ones.
	PutConsent(ctx context.Context, c *Consent) error
	// Consent returns the grant; ENOTFOUND if none was given.
	Consent(ctx context.Context, customerID, skillID string) (*Consent, error)
	// DeleteConsent revokes every scope; ENOTFOUND if none was given.
	DeleteConsent(ctx context.Context, customerID, skillID string) error
	// Access returns what the public API needs for one request: the
	// customer, the skill's declared scopes and the scopes granted (zero if
	// none). ENOTFOUND if the customer or the skill does not exist.
	Access(ctx context.Context, customerID, skillID string) (*Access, error)
}

// SigningKey is a secret that signs apiAccessTokens. Keys live in the store
// so that they survive restarts and every node shares them.
type SigningKey struct {
	ID        string
	Secret    []byte
	CreatedAt time.Time
}

// KeyStore keeps signing keys.
type KeyStore interface {
	// SigningKeys lists every key, newest first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
	// AddSigningKey stores a new key; ECONFLICT if the id is taken.
	AddSigningKey(ctx context.Context, k *SigningKey) error
	// DeleteSigningKeys removes keys created before the given time.
	DeleteSigningKeys(ctx context.Context, before time.Time) error
}

// Store is everything profileapi keeps. sqlite.DB and postgres.DB implement
// it, and storetest holds the suite both must pass.
type Store interface {
	SkillStore
	CustomerStore
	ConsentStore
	KeyStore
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	Close() error
}
