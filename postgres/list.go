package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/profileapi/profileapi"
)

// listPage is how many customers EachCustomer reads per transaction: one
// call's worth of rows, each page under its own call timeout.
const listPage = 2000

// EachCustomer calls fn with every customer and the consents it has given,
// in id order, reading a page at a time, each page a consistent snapshot
// (REPEATABLE READ): a write between two pages shows in the pages after it
// only. It is what an export reads.
func (db *DB) EachCustomer(ctx context.Context, fn func(c *profileapi.Customer, consents []*profileapi.Consent) error) error {
	after := ""
	for {
		customers, consents, err := db.customerPage(ctx, after)
		if err != nil {
			return fmt.Errorf("postgres: list customers: %w", formatError(err))
		}
		for _, c := range customers {
			if err := fn(c, consents[c.ID]); err != nil {
				return err
			}
		}
		if len(customers) < listPage {
			return nil
		}
		after = customers[len(customers)-1].ID
	}
}

// customerPage reads the listPage customers after the id, and their
// consents, in one read-only transaction.
func (db *DB) customerPage(ctx context.Context, after string) ([]*profileapi.Customer, map[string][]*profileapi.Consent, error) {
	ctx, cancel := db.boundRows(ctx, time.Now(), listPage)
	defer cancel()
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT `+customerColumns+` FROM customers WHERE id > $1 ORDER BY id LIMIT $2`, after, listPage)
	if err != nil {
		return nil, nil, err
	}
	var customers []*profileapi.Customer
	for rows.Next() {
		c := &profileapi.Customer{}
		if err := scanCustomer(rows, c); err != nil {
			rows.Close()
			return nil, nil, err
		}
		customers = append(customers, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	consents := map[string][]*profileapi.Consent{}
	if len(customers) == 0 {
		return customers, consents, nil
	}
	crows, err := tx.Query(ctx, `SELECT customer_id, skill_id, scopes, updated_at FROM consents
		WHERE customer_id > $1 AND customer_id <= $2 ORDER BY customer_id, skill_id`, after, customers[len(customers)-1].ID)
	if err != nil {
		return nil, nil, err
	}
	defer crows.Close()
	for crows.Next() {
		var c profileapi.Consent
		var scopes int16
		var updatedAt time.Time
		if err := crows.Scan(&c.CustomerID, &c.SkillID, &scopes, &updatedAt); err != nil {
			return nil, nil, err
		}
		c.Scopes, c.UpdatedAt = profileapi.ScopeSet(scopes), updatedAt.UTC()
		consents[c.CustomerID] = append(consents[c.CustomerID], &c)
	}
	return customers, consents, crows.Err()
}
