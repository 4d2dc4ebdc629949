package profileapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"time"
)

// Customer is an Alexa account: it lives in one region and has one profile.
type Customer struct {
	ID        string    `json:"id"`
	Region    Region    `json:"region"`
	Profile   Profile   `json:"profile"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// NewCustomerID returns a fresh id of the live service's form: the prefix
// and an opaque upper-case string.
func NewCustomerID() string {
	var b [40]byte
	_, _ = rand.Read(b[:])
	return customerIDPrefix + strings.TrimRight(base32.StdEncoding.EncodeToString(b[:]), "=")
}

// DeviceID is the one device each customer has here, derived from the
// customer id so that every token and envelope built for them agrees.
func DeviceID(customerID string) string {
	sum := sha256.Sum256([]byte(customerID))
	return "amzn1.ask.device." + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:20])
}

// Update applies fn to c as every Store's UpdateCustomer does: fn may not
// change the id, and UpdatedAt becomes now if fn changed the region or the
// profile, unless fn set it. A change that changes nothing (a PATCH of {},
// or of the values already stored) is not a change a client should see.
func (c *Customer) Update(fn func(*Customer) error, now time.Time) error {
	id, region, profile, before := c.ID, c.Region, c.Profile, c.UpdatedAt
	if profile.MobileNumber != nil { // fn may change it in place
		n := *profile.MobileNumber
		profile.MobileNumber = &n
	}
	if err := fn(c); err != nil {
		return err
	}
	if c.ID != id {
		return Errorf(EINVALID, "a customer's id cannot change")
	}
	if c.UpdatedAt.Equal(before) && (c.Region != region || !c.Profile.Equal(profile)) {
		c.UpdatedAt = now
	}
	return nil
}

// Validate checks the customer's id, region and profile.
func (c *Customer) Validate() error {
	if err := ValidateCustomerID(c.ID); err != nil {
		return err
	}
	if _, err := ParseRegion(string(c.Region)); err != nil {
		return err
	}
	return c.Profile.Validate()
}

// Consent is what a customer has granted one skill: a subset of the scopes
// the skill declares.
type Consent struct {
	CustomerID string    `json:"customerId"`
	SkillID    string    `json:"skillId"`
	Scopes     ScopeSet  `json:"scopes"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Access is everything the public API needs to answer one request, read
// in one go: the customer, the scopes the skill declares, the scopes the
// customer has granted it, and when the skill was created.
type Access struct {
	Customer Customer
	Declared ScopeSet
	Granted  ScopeSet
	// SkillCreatedAt tells a skill from one deleted before it under the
	// same id, as Customer.CreatedAt tells customers apart.
	SkillCreatedAt time.Time
}
