package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/profileapi/profileapi"
)

// PutConsent sets the scopes the customer grants the skill, replacing any
// earlier grant; ENOTFOUND if the customer or the skill does not exist. A
// zero UpdatedAt is set to now; c gets the time as stored.
func (db *DB) PutConsent(ctx context.Context, c *profileapi.Consent) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	updatedAt := db.stamp(c.UpdatedAt)
	if _, err := db.pool.Exec(ctx, `INSERT INTO consents (customer_id, skill_id, scopes, updated_at) VALUES ($1, $2, $3, $4) `+onConflictConsent,
		c.CustomerID, c.SkillID, int16(c.Scopes), updatedAt,
	); err != nil {
		return fmt.Errorf("postgres: put consent of a customer to skill %q: %w", c.SkillID, formatError(err))
	}
	c.UpdatedAt = updatedAt
	return nil
}

// onConflictConsent makes an INSERT into consents replace the earlier grant.
const onConflictConsent = `ON CONFLICT (customer_id, skill_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`

// Consent returns what the customer granted the skill; ENOTFOUND if nothing
// was granted.
func (db *DB) Consent(ctx context.Context, customerID, skillID string) (*profileapi.Consent, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	c := profileapi.Consent{CustomerID: customerID, SkillID: skillID}
	var scopes int16
	var updatedAt time.Time
	if err := db.pool.QueryRow(ctx,
		`SELECT scopes, updated_at FROM consents WHERE customer_id = $1 AND skill_id = $2`, customerID, skillID,
	).Scan(&scopes, &updatedAt); err != nil {
		return nil, fmt.Errorf("postgres: find consent of a customer to skill %q: %w", skillID, formatError(err))
	}
	c.Scopes, c.UpdatedAt = profileapi.ScopeSet(scopes), updatedAt.UTC()
	return &c, nil
}

// DeleteConsent revokes every scope the customer granted the skill;
// ENOTFOUND if nothing was granted.
func (db *DB) DeleteConsent(ctx context.Context, customerID, skillID string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := affectedOne(db.pool.Exec(ctx,
		`DELETE FROM consents WHERE customer_id = $1 AND skill_id = $2`, customerID, skillID,
	)); err != nil {
		return fmt.Errorf("postgres: delete consent of a customer to skill %q: %w", skillID, formatError(err))
	}
	return nil
}

// accessQuery finds the customer, the skill's declared scopes and the granted
// ones in one statement: no row if either is missing, 0 granted if there is
// no consent. pgx prepares it once per connection.
const accessQuery = `SELECT c.id, c.region, c.name, c.given_name, c.email, c.mobile_country_code, c.mobile_phone_number, c.created_at, c.updated_at,
	s.permissions, coalesce(g.scopes, 0), s.created_at
FROM customers AS c
CROSS JOIN skills AS s
LEFT JOIN consents AS g ON g.customer_id = c.id AND g.skill_id = s.id
WHERE c.id = $1 AND s.id = $2`

// Access returns the customer, the scopes the skill declares and those the
// customer granted it (zero if none), in one query; ENOTFOUND if the customer
// or the skill does not exist.
func (db *DB) Access(ctx context.Context, customerID, skillID string) (*profileapi.Access, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var a profileapi.Access
	var declared, granted int16
	var skillCreated time.Time
	row := db.pool.QueryRow(ctx, accessQuery, customerID, skillID)
	if err := scanCustomer(row, &a.Customer, &declared, &granted, &skillCreated); err != nil {
		return nil, fmt.Errorf("postgres: find access of a customer for skill %q: %w", skillID, formatError(err))
	}
	a.Declared, a.Granted, a.SkillCreatedAt = profileapi.ScopeSet(declared), profileapi.ScopeSet(granted), skillCreated.UTC()
	return &a, nil
}
