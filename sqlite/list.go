package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/profileapi/profileapi"
)

// scanPage is how many customers EachCustomer reads per transaction: a
// read transaction holds the WAL from being checkpointed past it, so it
// is kept short.
const scanPage = 2000

// pageConsents ends a page early at the customer whose consents bring
// the page's past it (one customer at least): customers who gave
// thousands of consents each would otherwise make a page of hundreds of
// MB.
var pageConsents = 100_000 // a variable for tests

// EachCustomer calls fn with every customer and the consents it has given,
// in id order, reading a page at a time, each page a consistent snapshot:
// a write between two pages shows in the pages after it only. A cache
// fills itself from it at start, and an export reads it.
func (db *DB) EachCustomer(ctx context.Context, fn func(c *profileapi.Customer, consents []*profileapi.Consent) error) error {
	after := ""
	for {
		customers, consents, more, err := db.customerPage(ctx, after)
		if err != nil {
			return fmt.Errorf("sqlite: list customers: %w", formatError(err))
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

// customerPage reads the scanPage customers after the id, or fewer if
// their consents pass pageConsents, and their consents, in one read
// transaction; more is whether customers may follow them.
func (db *DB) customerPage(ctx context.Context, after string) (_ []*profileapi.Customer, _ map[string][]*profileapi.Consent, more bool, err error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, false, err
	}
	defer tx.Rollback()
	customers, err := queryCustomers(ctx, tx, after)
	if err != nil || len(customers) == 0 {
		return nil, nil, false, err
	}
	more = len(customers) == scanPage
	counts, err := consentCounts(ctx, tx, after, customers[len(customers)-1].ID)
	if err != nil {
		return nil, nil, false, err
	}
	if k := pageEnd(customers, counts); k < len(customers) {
		customers, more = customers[:k], true
	}
	consents := map[string][]*profileapi.Consent{}
	crows, err := tx.QueryContext(ctx, `SELECT customer_id, skill_id, scopes, updated_at FROM consents
		WHERE customer_id > ? AND customer_id <= ? ORDER BY customer_id, skill_id`, after, customers[len(customers)-1].ID)
	if err != nil {
		return nil, nil, false, err
	}
	defer crows.Close()
	for crows.Next() {
		var c profileapi.Consent
		var scopes, updatedAt int64
		if err := crows.Scan(&c.CustomerID, &c.SkillID, &scopes, &updatedAt); err != nil {
			return nil, nil, false, err
		}
		c.Scopes, c.UpdatedAt = profileapi.ScopeSet(scopes), fromMillis(updatedAt)
		consents[c.CustomerID] = append(consents[c.CustomerID], &c)
	}
	return customers, consents, more, crows.Err()
}

// queryCustomers reads the scanPage customers after the id.
func queryCustomers(ctx context.Context, tx *sql.Tx, after string) ([]*profileapi.Customer, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE id > ? ORDER BY id LIMIT ?`, after, scanPage)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var customers []*profileapi.Customer
	for rows.Next() {
		c := &profileapi.Customer{}
		if err := scanCustomer(rows, c); err != nil {
			return nil, err
		}
		customers = append(customers, c)
	}
	return customers, rows.Err()
}

// consentCounts counts the consents of each customer of the ids after
// after, up to last, that gave any.
func consentCounts(ctx context.Context, tx *sql.Tx, after, last string) (map[string]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT customer_id, count(*) FROM consents
		WHERE customer_id > ? AND customer_id <= ? GROUP BY customer_id`, after, last)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		counts[id] = n
	}
	return counts, rows.Err()
}

// pageEnd is how many of customers a page holds: all, or up to the one
// whose consents bring the page's past pageConsents, one at least.
func pageEnd(customers []*profileapi.Customer, counts map[string]int) int {
	total := 0
	for k, c := range customers {
		total += counts[c.ID]
		if total > pageConsents && k > 0 {
			return k
		}
	}
	return len(customers)
}
