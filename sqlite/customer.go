package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/profileapi/profileapi"
)

const customerColumns = `id, region, name, given_name, email, mobile_country_code, mobile_phone_number, created_at, updated_at`

// CreateCustomer stores a new customer; ECONFLICT if the id is taken. A zero
// CreatedAt is set to now and a zero UpdatedAt to CreatedAt; c gets the times
// as stored.
func (db *DB) CreateCustomer(ctx context.Context, c *profileapi.Customer) error {
	createdAt := db.stamp(c.CreatedAt)
	updatedAt := createdAt
	if !c.UpdatedAt.IsZero() {
		updatedAt = db.stamp(c.UpdatedAt)
	}
	countryCode, phoneNumber := mobileColumns(c.Profile.MobileNumber)
	if _, err := db.write.ExecContext(ctx,
		`INSERT INTO customers (`+customerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, string(c.Region), c.Profile.Name, c.Profile.GivenName, c.Profile.Email,
		countryCode, phoneNumber, createdAt.UnixMilli(), updatedAt.UnixMilli(),
	); err != nil {
		return fmt.Errorf("sqlite: create a customer: %w", formatError(err))
	}
	c.CreatedAt, c.UpdatedAt = createdAt, updatedAt
	return nil
}

// Customer returns the customer; ENOTFOUND if there is none.
func (db *DB) Customer(ctx context.Context, id string) (*profileapi.Customer, error) {
	c, err := findCustomer(ctx, db.read, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find a customer: %w", formatError(err))
	}
	return c, nil
}

// UpdateCustomer applies fn to the stored customer and saves what fn leaves,
// in one transaction; ENOTFOUND if there is none, and fn's error, as is,
// aborts the update. fn may change anything but the id (EINVALID); if it
// leaves UpdatedAt alone, UpdatedAt is set to now when fn changed the
// region or the profile (profileapi.Customer.Update).
//
// Writers queue while fn runs, so fn should be quick, and it must not write
// to the store itself: it would wait for its own transaction.
func (db *DB) UpdateCustomer(ctx context.Context, id string, fn func(*profileapi.Customer) error) (*profileapi.Customer, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update a customer: %w", formatError(err))
	}
	defer tx.Rollback()
	c, err := findCustomer(ctx, tx, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update a customer: %w", formatError(err))
	}
	if err := c.Update(fn, db.Now()); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = db.stamp(c.CreatedAt), db.stamp(c.UpdatedAt)
	countryCode, phoneNumber := mobileColumns(c.Profile.MobileNumber)
	if _, err := tx.ExecContext(ctx, `UPDATE customers
		SET region = ?, name = ?, given_name = ?, email = ?, mobile_country_code = ?, mobile_phone_number = ?, created_at = ?, updated_at = ?
		WHERE id = ?`,
		string(c.Region), c.Profile.Name, c.Profile.GivenName, c.Profile.Email,
		countryCode, phoneNumber, c.CreatedAt.UnixMilli(), c.UpdatedAt.UnixMilli(), id,
	); err != nil {
		return nil, fmt.Errorf("sqlite: update a customer: %w", formatError(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: update a customer: %w", formatError(err))
	}
	return c, nil
}

// DeleteCustomer removes the customer and, by cascade, its consents;
// ENOTFOUND if there is none.
func (db *DB) DeleteCustomer(ctx context.Context, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM customers WHERE id = ?`, id)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete a customer: %w", formatError(err))
	}
	return nil
}

func findCustomer(ctx context.Context, q querier, id string) (*profileapi.Customer, error) {
	var c profileapi.Customer
	row := q.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = ?`, id)
	if err := scanCustomer(row, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// scanCustomer reads the customerColumns into c, then any extra columns
// into extra.
func scanCustomer(row scanner, c *profileapi.Customer, extra ...any) error {
	var region string
	var countryCode, phoneNumber sql.NullString
	var createdAt, updatedAt int64
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
	c.CreatedAt, c.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
	return nil
}

// mobileColumns returns the two columns of a mobile number: NULL for none.
func mobileColumns(n *profileapi.PhoneNumber) (countryCode, phoneNumber any) {
	if n == nil {
		return nil, nil
	}
	return n.CountryCode, n.PhoneNumber
}
