package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/profileapi/profileapi"
)

// What a cache in front of the store needs (package cache): to answer
// as the store would while the database is unavailable, to forget what it
// holds when the store reopens on what may be another database, and to
// fill itself at start.

// Unavailable returns the error every call answers while the database is
// unavailable, or nil. It costs one atomic load.
func (db *DB) Unavailable() error { return db.unavailable() }

// Opening identifies the opening of the database the store is on: it
// changes when the store reopens the database after it went away, and
// what was read before may no longer be in it.
func (db *DB) Opening() any { return db.opened.Load() }

// scanPage is how many customers EachCustomer reads per transaction: a
// read transaction holds the WAL from being checkpointed past it, so it
// is kept short.
const scanPage = 2000

// EachCustomer calls fn with every customer and the consents it has given,
// in id order, reading a page at a time, each page a consistent snapshot:
// a write between two pages shows in the pages after it only. A cache
// fills itself from it at start, and an export reads it.
func (db *DB) EachCustomer(ctx context.Context, fn func(c *profileapi.Customer, consents []*profileapi.Consent) error) error {
	after := ""
	for {
		customers, consents, err := db.customerPage(ctx, after)
		if err != nil {
			return fmt.Errorf("sqlite: list customers: %w", formatError(err))
		}
		for _, c := range customers {
			if err := fn(c, consents[c.ID]); err != nil {
				return err
			}
		}
		if len(customers) < scanPage {
			return nil
		}
		after = customers[len(customers)-1].ID
	}
}

// customerPage reads the scanPage customers after the id, and their
// consents, in one read transaction.
func (db *DB) customerPage(ctx context.Context, after string) ([]*profileapi.Customer, map[string][]*profileapi.Consent, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE id > ? ORDER BY id LIMIT ?`, after, scanPage)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var customers []*profileapi.Customer
	for rows.Next() {
		c := &profileapi.Customer{}
		if err := scanCustomer(rows, c); err != nil {
			return nil, nil, err
		}
		customers = append(customers, c)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	consents := map[string][]*profileapi.Consent{}
	if len(customers) == 0 {
		return customers, consents, nil
	}
	crows, err := tx.QueryContext(ctx, `SELECT customer_id, skill_id, scopes, updated_at FROM consents
		WHERE customer_id > ? AND customer_id <= ? ORDER BY customer_id, skill_id`, after, customers[len(customers)-1].ID)
	if err != nil {
		return nil, nil, err
	}
	defer crows.Close()
	for crows.Next() {
		var c profileapi.Consent
		var scopes, updatedAt int64
		if err := crows.Scan(&c.CustomerID, &c.SkillID, &scopes, &updatedAt); err != nil {
			return nil, nil, err
		}
		c.Scopes, c.UpdatedAt = profileapi.ScopeSet(scopes), fromMillis(updatedAt)
		consents[c.CustomerID] = append(consents[c.CustomerID], &c)
	}
	return customers, consents, crows.Err()
}
