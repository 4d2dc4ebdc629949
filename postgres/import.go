package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/profileapi/profileapi"
)

// ImportCustomers stores many customers, then many consents, in one
// transaction: all of them or, on the first error, none. A customer or
// consent whose id is already stored is updated, so importing the same data
// twice leaves the store as importing it once; a customer keeps its first
// CreatedAt, which is written back into it, as CreateCustomer writes back
// what it stores: a cache in front keeps the customer as stored, and tokens
// name its creation time. Its UpdatedAt moves forward with every write: an
// import stamped before the change it lands after takes a millisecond past
// that change's, which is written back into a customer that came with an
// UpdatedAt. Of items with the same id in one import, the last wins. A
// customer imported has the consents given for it here and no other: one
// to a skill not among them is removed, as its profile is replaced whole.
// A consent's customer and skill must exist by then (ENOTFOUND). Other zero
// times are stored as the time of the import.
//
// The rows are sent as arrays, one per column, and merged with one
// INSERT ... SELECT FROM unnest(...) ON CONFLICT per table: no temporary
// table, which a role without TEMPORARY on the database may not create.
// The import is bounded by the CallTimeout plus a millisecond a row, tens
// of times what a row takes, so that a server that stops answering fails
// it rather than hangs it.
func (db *DB) ImportCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error {
	ctx, cancel := db.boundRows(ctx, time.Now(), len(customers)+len(consents))
	defer cancel()
	if err := db.importCustomers(ctx, customers, consents); err != nil {
		return fmt.Errorf("postgres: import customers: %w", err)
	}
	return nil
}

func (db *DB) importCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error {
	now := db.Now()
	orNow := func(t time.Time) time.Time {
		if t.IsZero() {
			t = now
		}
		return millis(t)
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return formatError(err)
	}
	defer db.rollback(ctx, tx)

	order := lastOfEachKey(customers, func(c *profileapi.Customer) key { return key{c.ID, ""} })
	var cols customerArrays
	for _, i := range order {
		cols.add(customers[i], orNow)
	}
	rows, err := tx.Query(ctx, `INSERT INTO customers (`+customerColumns+`)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[])
		ON CONFLICT (id) DO UPDATE SET region = excluded.region, name = excluded.name,
			given_name = excluded.given_name, email = excluded.email, mobile_country_code = excluded.mobile_country_code,
			mobile_phone_number = excluded.mobile_phone_number, updated_at = GREATEST(excluded.updated_at, customers.updated_at + interval '1 millisecond')
		RETURNING id, created_at, updated_at`,
		cols.ids, cols.regions, cols.names, cols.givenNames, cols.emails, cols.countryCodes, cols.phoneNumbers, cols.created, cols.updated,
	)
	if err != nil {
		return fmt.Errorf("customers: %w", formatError(err))
	}
	stored := make(map[string][2]time.Time, len(order)) // created_at, updated_at
	var id string
	var created, updated time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &created, &updated}, func() error {
		stored[id] = [2]time.Time{created.UTC(), updated.UTC()}
		return nil
	})
	if err != nil {
		return fmt.Errorf("customers: %w", formatError(err))
	}

	order = lastOfEachKey(consents, func(c *profileapi.Consent) key { return key{c.CustomerID, c.SkillID} })
	customerIDs, skillIDs := make([]string, len(order)), make([]string, len(order))
	scopes, updatedAt := make([]int16, len(order)), make([]time.Time, len(order))
	for k, i := range order {
		c := consents[i]
		customerIDs[k], skillIDs[k], scopes[k], updatedAt[k] = c.CustomerID, c.SkillID, int16(c.Scopes), orNow(c.UpdatedAt)
	}
	// The customers imported give no consent but those given here: an
	// export imported again after a revocation on the old node carries the
	// revocation over. Before the consents are written, so that a fresh
	// import finds none; joined from the customers' ids, so that each is
	// an index lookup rather than a scan of every consent.
	if _, err := tx.Exec(ctx, `DELETE FROM consents AS c USING unnest($1::text[]) AS i(id)
		WHERE c.customer_id = i.id
			AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS g(customer_id, skill_id)
				WHERE g.customer_id = c.customer_id AND g.skill_id = c.skill_id)`,
		cols.ids, customerIDs, skillIDs,
	); err != nil {
		return fmt.Errorf("consents no longer given: %w", formatError(err))
	}
	// A savepoint, so that after a foreign key failure the transaction is
	// still there to find the consent that caused it.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return formatError(err)
	}
	if _, err := sp.Exec(ctx, `INSERT INTO consents (customer_id, skill_id, scopes, updated_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::timestamptz[])
		ON CONFLICT (customer_id, skill_id) DO UPDATE SET scopes = excluded.scopes, updated_at = GREATEST(excluded.updated_at, consents.updated_at + interval '1 millisecond')`,
		customerIDs, skillIDs, scopes, updatedAt,
	); err != nil {
		err = formatError(err)
		if profileapi.IsNotFound(err) && sp.Rollback(ctx) == nil {
			return findMissing(ctx, tx, consents, customerIDs, skillIDs, err)
		}
		return fmt.Errorf("consents: %w", err)
	}
	if err := sp.Commit(ctx); err != nil {
		return formatError(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return formatError(err)
	}
	for _, c := range customers {
		if at, ok := stored[c.ID]; ok {
			c.CreatedAt = at[0]
			// A zero UpdatedAt stays the import's, as the doc says.
			if !c.UpdatedAt.IsZero() && at[1].UnixMilli() > c.UpdatedAt.UnixMilli() {
				c.UpdatedAt = at[1]
			}
		}
	}
	return nil
}

// customerArrays are customers as one array a column, for unnest.
type customerArrays struct {
	ids, regions, names, givenNames, emails []string
	countryCodes, phoneNumbers              []pgtype.Text
	created, updated                        []time.Time
}

// add appends c; orNow gives a zero time the import's, for both times: the
// CreatedAt written back into a customer imported again does not hold its
// UpdatedAt back.
func (a *customerArrays) add(c *profileapi.Customer, orNow func(time.Time) time.Time) {
	countryCode, phoneNumber := mobileColumns(c.Profile.MobileNumber)
	a.ids = append(a.ids, c.ID)
	a.regions = append(a.regions, string(c.Region))
	a.names = append(a.names, c.Profile.Name)
	a.givenNames = append(a.givenNames, c.Profile.GivenName)
	a.emails = append(a.emails, c.Profile.Email)
	a.countryCodes = append(a.countryCodes, countryCode)
	a.phoneNumbers = append(a.phoneNumbers, phoneNumber)
	a.created = append(a.created, orNow(c.CreatedAt))
	a.updated = append(a.updated, orNow(c.UpdatedAt))
}

// findMissing names the first consent whose customer or skill does not
// exist, after the INSERT of the consents, given as arrays, failed on a
// foreign key.
func findMissing(ctx context.Context, tx pgx.Tx, consents []*profileapi.Consent, customerIDs, skillIDs []string, insertErr error) error {
	var customerID, skillID string
	if err := tx.QueryRow(ctx, `SELECT i.customer_id, i.skill_id FROM unnest($1::text[], $2::text[]) AS i(customer_id, skill_id)
		WHERE NOT EXISTS (SELECT 1 FROM customers WHERE id = i.customer_id)
			OR NOT EXISTS (SELECT 1 FROM skills WHERE id = i.skill_id)
		LIMIT 1`, customerIDs, skillIDs).Scan(&customerID, &skillID); err != nil {
		return fmt.Errorf("consents: %w", insertErr)
	}
	i := slices.IndexFunc(consents, func(c *profileapi.Consent) bool { return c.CustomerID == customerID && c.SkillID == skillID })
	// Named in the message, which the admin API shows (a skill deleted
	// while the import ran); the index in the cause, for the log.
	return &profileapi.Error{Kind: profileapi.ENOTFOUND,
		Message: fmt.Sprintf("consent of customer %q to skill %q: its customer or skill does not exist", customerID, skillID),
		Err:     fmt.Errorf("item %d: %w", i, insertErr)}
}

// key is a primary key of one or two columns.
type key struct{ first, second string }

// lastOfEachKey returns the indexes of items in the order of their keys,
// keeping of items with the same key only the last: ON CONFLICT DO UPDATE
// may not touch a row twice in one statement. Rows sent in key order go to
// the end of the primary key's b-tree rather than all over it.
func lastOfEachKey[T any](items []T, keyOf func(T) key) []int {
	type keyed struct {
		key
		i int
	}
	keys := make([]keyed, len(items))
	for i, item := range items {
		keys[i] = keyed{keyOf(item), i}
	}
	slices.SortStableFunc(keys, func(a, b keyed) int {
		return cmp.Or(strings.Compare(a.first, b.first), strings.Compare(a.second, b.second))
	})
	order := make([]int, 0, len(keys))
	for j, k := range keys {
		if j+1 < len(keys) && keys[j+1].key == k.key {
			continue // a later item has the same key
		}
		order = append(order, k.i)
	}
	return order
}
