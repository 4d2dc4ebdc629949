package sqlite

import (
	"context"
	"fmt"

	"github.com/profileapi/profileapi"
)

// PutConsent sets the scopes the customer grants the skill, replacing any
// earlier grant; ENOTFOUND if the customer or the skill does not exist. A
// zero UpdatedAt is set to now; c gets the time as stored.
func (db *DB) PutConsent(ctx context.Context, c *profileapi.Consent) error {
	updatedAt := db.stamp(c.UpdatedAt)
	if _, err := db.write.ExecContext(ctx, putConsent,
		c.CustomerID, c.SkillID, int64(c.Scopes), updatedAt.UnixMilli(),
	); err != nil {
		return fmt.Errorf("sqlite: put consent of a customer to skill %q: %w", c.SkillID, formatError(err))
	}
	c.UpdatedAt = updatedAt
	return nil
}

// putConsent is the one-row form of the upsert ImportCustomers runs.
var putConsent = upsertConsent.query(1)

// Consent returns what the customer granted the skill; ENOTFOUND if nothing
// was granted.
func (db *DB) Consent(ctx context.Context, customerID, skillID string) (*profileapi.Consent, error) {
	c := profileapi.Consent{CustomerID: customerID, SkillID: skillID}
	var scopes, updatedAt int64
	if err := db.read.QueryRowContext(ctx,
		`SELECT scopes, updated_at FROM consents WHERE customer_id = ? AND skill_id = ?`, customerID, skillID,
	).Scan(&scopes, &updatedAt); err != nil {
		return nil, fmt.Errorf("sqlite: find consent of a customer to skill %q: %w", skillID, formatError(err))
	}
	c.Scopes, c.UpdatedAt = profileapi.ScopeSet(scopes), fromMillis(updatedAt)
	return &c, nil
}

// DeleteConsent revokes every scope the customer granted the skill;
// ENOTFOUND if nothing was granted.
func (db *DB) DeleteConsent(ctx context.Context, customerID, skillID string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM consents WHERE customer_id = ? AND skill_id = ?`, customerID, skillID)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete consent of a customer to skill %q: %w", skillID, formatError(err))
	}
	return nil
}

// accessQuery finds the customer, the skill's declared scopes and the granted
// ones in one statement: no row if either is missing, 0 granted if there is
// no consent.
const accessQuery = `SELECT c.id, c.region, c.name, c.given_name, c.email, c.mobile_country_code, c.mobile_phone_number, c.created_at, c.updated_at,
	s.permissions, coalesce(g.scopes, 0), s.created_at
FROM customers AS c
JOIN skills AS s
LEFT JOIN consents AS g ON g.customer_id = c.id AND g.skill_id = s.id
WHERE c.id = ? AND s.id = ?`

// Access returns the customer, the scopes the skill declares and those the
// customer granted it (zero if none), in one query; ENOTFOUND if the customer
// or the skill does not exist.
func (db *DB) Access(ctx context.Context, customerID, skillID string) (*profileapi.Access, error) {
	// The query takes microseconds and, under WAL, waits for no writer:
	// having the driver watch ctx while it runs, with a goroutine per query,
	// would cost a third of its time. ctx is checked before it starts.
	// While the database is unavailable, fail without touching the pool.
	err := ctx.Err()
	if err == nil {
		err = db.unavailable()
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: find access of a customer for skill %q: %w", skillID, err)
	}
	var a profileapi.Access
	var declared, granted, skillCreated int64
	row := db.access.QueryRowContext(context.WithoutCancel(ctx), customerID, skillID)
	if err := scanCustomer(row, &a.Customer, &declared, &granted, &skillCreated); err != nil {
		return nil, fmt.Errorf("sqlite: find access of a customer for skill %q: %w", skillID, formatError(err))
	}
	a.Declared, a.Granted, a.SkillCreatedAt = profileapi.ScopeSet(declared), profileapi.ScopeSet(granted), fromMillis(skillCreated)
	return &a, nil
}
