package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/profileapi/profileapi"
)

// ImportCustomers stores many customers, then many consents, in one
// transaction: all of them or, on the first error, none. A customer or
// consent whose id is already stored is updated, so importing the same data
// twice leaves the store as importing it once; a customer keeps its first
// CreatedAt. A consent's customer and skill must exist by then (ENOTFOUND).
// Zero times are stored as the time of the import; unlike CreateCustomer,
// it does not write them back.
func (db *DB) ImportCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error {
	if err := db.importCustomers(ctx, customers, consents); err != nil {
		return fmt.Errorf("sqlite: import customers: %w", err)
	}
	return nil
}

func (db *DB) importCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error {
	now := db.Now()
	orNow := func(t time.Time) int64 {
		if t.IsZero() {
			t = now
		}
		return t.UnixMilli()
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return formatError(err)
	}
	defer tx.Rollback()

	insertCustomer, err := tx.PrepareContext(ctx, `INSERT INTO customers (`+customerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET region = excluded.region, name = excluded.name, given_name = excluded.given_name,
			email = excluded.email, mobile_country_code = excluded.mobile_country_code,
			mobile_phone_number = excluded.mobile_phone_number, updated_at = excluded.updated_at`)
	if err != nil {
		return formatError(err)
	}
	defer insertCustomer.Close()
	for i, c := range customers {
		createdAt, updatedAt := orNow(c.CreatedAt), orNow(c.UpdatedAt)
		if c.UpdatedAt.IsZero() {
			updatedAt = createdAt // as CreateCustomer does
		}
		countryCode, phoneNumber := mobileColumns(c.Profile.MobileNumber)
		if _, err := insertCustomer.ExecContext(ctx,
			c.ID, string(c.Region), c.Profile.Name, c.Profile.GivenName, c.Profile.Email,
			countryCode, phoneNumber, createdAt, updatedAt,
		); err != nil {
			return fmt.Errorf("customer %d (%q): %w", i, c.ID, formatError(err))
		}
	}

	insertConsent, err := tx.PrepareContext(ctx, upsertConsent)
	if err != nil {
		return formatError(err)
	}
	defer insertConsent.Close()
	for i, c := range consents {
		if _, err := insertConsent.ExecContext(ctx, c.CustomerID, c.SkillID, int64(c.Scopes), orNow(c.UpdatedAt)); err != nil {
			return fmt.Errorf("consent %d (customer %q, skill %q): %w", i, c.CustomerID, c.SkillID, formatError(err))
		}
	}
	return formatError(tx.Commit())
}
