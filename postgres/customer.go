package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/profileapi/profileapi"
)

const customerColumns = `id, region, name, given_name, email, mobile_country_code, mobile_phone_number, created_at, updated_at`

// CreateCustomer stores a new customer; ECONFLICT if the id is taken. A zero
// CreatedAt is set to now and a zero UpdatedAt to CreatedAt; c gets the times
// as stored.
func (db *DB) CreateCustomer(ctx context.Context, c *profileapi.Customer) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	createdAt := db.stamp(c.CreatedAt)
	updatedAt := createdAt
	if !c.UpdatedAt.IsZero() {
		updatedAt = db.stamp(c.UpdatedAt)
	}
	countryCode, phoneNumber := mobileColumns(c.Profile.MobileNumber)
	if _, err := db.pool.Exec(ctx,
		`INSERT INTO customers (`+customerColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, string(c.Region), c.Profile.Name, c.Profile.GivenName, c.Profile.Email,
		countryCode, phoneNumber, createdAt, updatedAt,
	); err != nil {
		return fmt.Errorf("postgres: create a customer: %w", formatError(err))
	}
	c.CreatedAt, c.UpdatedAt = createdAt, updatedAt
	return nil
}

// Customer returns the customer; ENOTFOUND if there is none.
func (db *DB) Customer(ctx context.Context, id string) (*profileapi.Customer, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	c, err := findCustomer(ctx, db.pool, id, "")
	if err != nil {
		return nil, fmt.Errorf("postgres: find a customer: %w", formatError(err))
	}
	return c, nil
}

// UpdateCustomer applies fn to the stored customer and saves what fn leaves,
// in one transaction that holds the row locked; ENOTFOUND if there is none,
// and fn's error, as is, aborts the update. fn may change anything but the
// id (EINVALID); if it leaves UpdatedAt alone, UpdatedAt is set to now
// when fn changed the region or the profile (profileapi.Customer.Update).
//
// Updates of the same customer, from any node, wait for each other while
// fn runs, so fn should be quick; it must not write to the store itself.
func (db *DB) UpdateCustomer(ctx context.Context, id string, fn func(*profileapi.Customer) error) (*profileapi.Customer, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: update a customer: %w", formatError(err))
	}
	defer tx.Rollback(ctx)
	c, err := findCustomer(ctx, tx, id, " FOR UPDATE")
	if err != nil {
		return nil, fmt.Errorf("postgres: update a customer: %w", formatError(err))
	}
	if err := c.Update(fn, db.Now()); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = db.stamp(c.CreatedAt), db.stamp(c.UpdatedAt)
	countryCode, phoneNumber := mobileColumns(c.Profile.MobileNumber)
	if _, err := tx.Exec(ctx, `UPDATE customers
		SET region = $1, name = $2, given_name = $3, email = $4, mobile_country_code = $5, mobile_phone_number = $6, created_at = $7, updated_at = $8
		WHERE id = $9`,
		string(c.Region), c.Profile.Name, c.Profile.GivenName, c.Profile.Email,
		countryCode, phoneNumber, c.CreatedAt, c.UpdatedAt, id,
	); err != nil {
		return nil, fmt.Errorf("postgres: update a customer: %w", formatError(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: update a customer: %w", formatError(err))
	}
	return c, nil
}

// DeleteCustomer removes the customer and, by cascade, its consents;
// ENOTFOUND if there is none.
func (db *DB) DeleteCustomer(ctx context.Context, id string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if err := affectedOne(db.pool.Exec(ctx, `DELETE FROM customers WHERE id = $1`, id)); err != nil {
		return fmt.Errorf("postgres: delete a customer: %w", formatError(err))
	}
	return nil
}

// findCustomer reads the customer, with suffix (such as FOR UPDATE) after
// the query.
func findCustomer(ctx context.Context, q querier, id, suffix string) (*profileapi.Customer, error) {
	var c profileapi.Customer
	row := q.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`+suffix, id)
	if err := scanCustomer(row, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// scanCustomer reads the customerColumns into c, then any extra columns
// into extra.
func scanCustomer(row pgx.Row, c *profileapi.Customer, extra ...any) error {
	var region string
	var countryCode, phoneNumber pgtype.Text
	var createdAt, updatedAt time.Time
	dest := append([]any{
		&c.ID, &region, &c.Profile.Name, &c.Profile.GivenName, &c.Profile.Email,
		&countryCode, &phoneNumber, &createdAt, &updatedAt,
	}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	c.Region = profileapi.Region(region)
	c.Profile.MobileNumber = nil
	if countryCode.Valid {
		c.Profile.MobileNumber = &profileapi.PhoneNumber{CountryCode: countryCode.String, PhoneNumber: phoneNumber.String}
	}
	c.CreatedAt, c.UpdatedAt = createdAt.UTC(), updatedAt.UTC()
	return nil
}

// mobileColumns returns the two columns of a mobile number: NULL for none.
func mobileColumns(n *profileapi.PhoneNumber) (countryCode, phoneNumber pgtype.Text) {
	if n == nil {
		return pgtype.Text{}, pgtype.Text{}
	}
	return pgtype.Text{String: n.CountryCode, Valid: true}, pgtype.Text{String: n.PhoneNumber, Valid: true}
}
