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

// pageConsents ends a page early at the customer whose consents bring
// the page's past it (one customer at least): customers who gave
// thousands of consents each would otherwise make a page of hundreds of
// MB, read under one call's timeout.
var pageConsents = 100_000 // a variable for tests

// EachCustomer calls fn with every customer and the consents it has given,
// in id order, reading a page at a time, each page a consistent snapshot
// (REPEATABLE READ): a write between two pages shows in the pages after it
// only. It is what an export reads.
func (db *DB) EachCustomer(ctx context.Context, fn func(c *profileapi.Customer, consents []*profileapi.Consent) error) error {
	after := ""
	for {
		customers, consents, more, err := db.customerPage(ctx, after)
		if err != nil {
			return fmt.Errorf("postgres: list customers: %w", formatError(err))
		}
		for _, c := range customers {
			if err := fn(c, consents[c.ID]); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		after = customers[len(customers)-1].ID
	}
}

// customerPage reads the listPage customers after the id, or fewer if
// their consents pass pageConsents, and their consents, in one read-only
// transaction; more is whether customers may follow them.
func (db *DB) customerPage(ctx context.Context, after string) (_ []*profileapi.Customer, _ map[string][]*profileapi.Consent, more bool, err error) {
	ctx, cancel := db.bound(ctx) // a read: the 2 s of every call, not a write's millisecond a row
	defer cancel()
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, false, err
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT `+customerColumns+` FROM customers WHERE id > $1 ORDER BY id LIMIT $2`, after, listPage)
	if err != nil {
		return nil, nil, false, err
	}
	customers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*profileapi.Customer, error) {
		c := &profileapi.Customer{}
		return c, scanCustomer(row, c)
	})
	if err != nil || len(customers) == 0 {
		return nil, nil, false, err
	}
	more = len(customers) == listPage
	last := customers[len(customers)-1].ID
	rows, err = tx.Query(ctx, `SELECT customer_id, count(*) FROM consents WHERE customer_id > $1 AND customer_id <= $2 GROUP BY customer_id`, after, last)
	if err != nil {
		return nil, nil, false, err
	}
	counts := map[string]int64{}
	var id string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { counts[id] = n; return nil }); err != nil {
		return nil, nil, false, err
	}
	total := int64(0)
	for k, c := range customers {
		if total += counts[c.ID]; total > int64(pageConsents) && k > 0 {
			customers, more = customers[:k], true
			break
		}
	}
	crows, err := tx.Query(ctx, `SELECT customer_id, skill_id, scopes, updated_at FROM consents
		WHERE customer_id > $1 AND customer_id <= $2 ORDER BY customer_id, skill_id`, after, customers[len(customers)-1].ID)
	if err != nil {
		return nil, nil, false, err
	}
	defer crows.Close()
	consents := map[string][]*profileapi.Consent{}
	for crows.Next() {
		var c profileapi.Consent
		var scopes int16
		var updatedAt time.Time
		if err := crows.Scan(&c.CustomerID, &c.SkillID, &scopes, &updatedAt); err != nil {
			return nil, nil, false, err
		}
		c.Scopes, c.UpdatedAt = profileapi.ScopeSet(scopes), updatedAt.UTC()
		consents[c.CustomerID] = append(consents[c.CustomerID], &c)
	}
	return customers, consents, more, crows.Err()
}
