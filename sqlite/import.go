package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/profileapi/profileapi"
)

// ImportCustomers stores many customers, then many consents, in one
// transaction: all of them or, on the first error, none. A customer or
// consent whose id is already stored is updated, so importing the same data
// twice leaves the store as importing it once; a customer keeps its first
// CreatedAt, which is written back into it, as CreateCustomer writes back
// what it stores: a cache in front keeps the customer as stored, and tokens
// name its creation time. Its UpdatedAt moves forward with every write: an
// import stamped before the change it lands after (its lines were read
// before a PATCH, or another import, was written) takes a millisecond past
// that change's, which is written back into a customer that came with an
// UpdatedAt. A customer imported has the consents given for it here and
// no other: one to a skill not among them is removed, as its profile is
// replaced whole. A consent's customer and skill must exist by then
// (ENOTFOUND). Other zero times are stored as the time of the import.
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

	stored := make(map[string][2]int64, len(customers)) // created_at, updated_at
	upsert := upsertCustomer
	upsert.returning = func(rows *sql.Rows) error {
		var id string
		var created, updated int64
		if err := rows.Scan(&id, &created, &updated); err != nil {
			return err
		}
		stored[id] = [2]int64{created, updated}
		return nil
	}
	if err := insertMany(ctx, tx, upsert, customers,
		func(c *profileapi.Customer) key { return key{c.ID, ""} },
		func(args []any, c *profileapi.Customer) []any {
			// A zero time is the import's, for both: the CreatedAt written back
			// into a customer imported again does not hold its UpdatedAt back.
			createdAt, updatedAt := orNow(c.CreatedAt), orNow(c.UpdatedAt)
			countryCode, phoneNumber := mobileColumns(c.Profile.MobileNumber)
			return append(args, c.ID, string(c.Region), c.Profile.Name, c.Profile.GivenName, c.Profile.Email,
				countryCode, phoneNumber, createdAt, updatedAt)
		},
		func(c *profileapi.Customer) string { return fmt.Sprintf("customer %q", c.ID) },
	); err != nil {
		return err
	}
	// Before the consents are written, so that a fresh import finds none
	// to check.
	if err := dropOtherConsents(ctx, tx, customers, consents); err != nil {
		return err
	}
	if err := insertMany(ctx, tx, upsertConsent, consents,
		func(c *profileapi.Consent) key { return key{c.CustomerID, c.SkillID} },
		func(args []any, c *profileapi.Consent) []any {
			return append(args, c.CustomerID, c.SkillID, int64(c.Scopes), orNow(c.UpdatedAt))
		},
		func(c *profileapi.Consent) string {
			return fmt.Sprintf("consent of customer %q to skill %q", c.CustomerID, c.SkillID)
		},
	); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return formatError(err)
	}
	for _, c := range customers {
		if ms, ok := stored[c.ID]; ok {
			c.CreatedAt = fromMillis(ms[0])
			// A zero UpdatedAt stays the import's, as the doc says.
			if !c.UpdatedAt.IsZero() && ms[1] > c.UpdatedAt.UnixMilli() {
				c.UpdatedAt = fromMillis(ms[1])
			}
		}
	}
	return nil
}

// dropOtherConsents removes the consents that the customers imported have
// to skills the import does not give them: an export imported again after
// a revocation on the old node carries the revocation over. The consents
// stored are looked up importBatch customers at a time, before the
// import's own are written: a fresh import finds none.
func dropOtherConsents(ctx context.Context, tx *sql.Tx, customers []*profileapi.Customer, consents []*profileapi.Consent) error {
	given := make(map[key]bool, len(consents))
	for _, c := range consents {
		given[key{c.CustomerID, c.SkillID}] = true
	}
	ids := make([]any, 0, len(customers))
	for _, c := range customers {
		ids = append(ids, c.ID) // in the caller's order: lookups need no sort
	}
	var stale []key
	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	for start := 0; start < len(ids); start += importBatch {
		batch := ids[start:min(start+importBatch, len(ids))]
		if stmt == nil || len(batch) < importBatch { // the first batch, or a shorter last one
			if stmt != nil {
				stmt.Close()
			}
			var err error
			stmt, err = tx.PrepareContext(ctx, `SELECT customer_id, skill_id FROM consents WHERE customer_id IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`)
			if err != nil {
				return fmt.Errorf("consents no longer given: %w", formatError(err))
			}
		}
		rows, err := stmt.QueryContext(ctx, batch...)
		if err != nil {
			return fmt.Errorf("consents no longer given: %w", formatError(err))
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.first, &k.second); err != nil {
				rows.Close()
				return fmt.Errorf("consents no longer given: %w", formatError(err))
			}
			if !given[k] {
				stale = append(stale, k)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("consents no longer given: %w", formatError(err))
		}
	}
	for _, k := range stale {
		if _, err := tx.ExecContext(ctx, `DELETE FROM consents WHERE customer_id = ? AND skill_id = ?`, k.first, k.second); err != nil {
			return fmt.Errorf("consents no longer given: %w", formatError(err))
		}
	}
	return nil
}

// upsert is an INSERT of one or more rows that updates the rows whose keys
// are taken: insert, then VALUES and one group of placeholders per row, then
// onConflict. With returning, the statement returns the id, created_at and
// updated_at of every row, which returning reads.
type upsert struct {
	insert     string
	columns    int
	onConflict string
	returning  func(*sql.Rows) error
}

var (
	upsertCustomer = upsert{
		insert:  `INSERT INTO customers (` + customerColumns + `)`,
		columns: 9,
		onConflict: `ON CONFLICT (id) DO UPDATE SET region = excluded.region, name = excluded.name,
			given_name = excluded.given_name, email = excluded.email, mobile_country_code = excluded.mobile_country_code,
			mobile_phone_number = excluded.mobile_phone_number, updated_at = max(excluded.updated_at, customers.updated_at + 1)`,
	}
	upsertConsent = upsert{
		insert:     `INSERT INTO consents (customer_id, skill_id, scopes, updated_at)`,
		columns:    4,
		onConflict: `ON CONFLICT (customer_id, skill_id) DO UPDATE SET scopes = excluded.scopes, updated_at = max(excluded.updated_at, consents.updated_at + 1)`,
	}
)

// importBatch is how many rows one statement carries: a statement's fixed
// cost (database/sql, the driver, starting the VM) is paid once per batch,
// which makes an import half again as fast; larger batches gain nothing
// more. 100 rows of 9 columns stay far below SQLite's 32766 parameters.
const importBatch = 100

func (s upsert) query(rows int) string {
	group := "(?" + strings.Repeat(", ?", s.columns-1) + ")"
	q := s.insert + " VALUES " + group + strings.Repeat(", "+group, rows-1) + " " + s.onConflict
	if s.returning != nil {
		q += " RETURNING id, created_at, updated_at"
	}
	return q
}

// exec runs a prepared upsert, reading what it returns.
func (s upsert) exec(ctx context.Context, stmt *sql.Stmt, args []any) error {
	if s.returning == nil {
		_, err := stmt.ExecContext(ctx, args...)
		return err
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := s.returning(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// insertMany inserts items in the order of their primary keys, importBatch
// rows per statement. Rows inserted in key order go to the end of their
// b-tree instead of splitting pages all over it: three times as fast, for
// random ids. row appends an item's values to args; name names an item in
// an error.
func insertMany[T any](ctx context.Context, tx *sql.Tx, s upsert, items []T,
	keyOf func(T) key, row func(args []any, item T) []any, name func(T) string,
) error {
	order := inKeyOrder(items, keyOf)

	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	args := make([]any, 0, s.columns*importBatch)
	for start := 0; start < len(order); start += importBatch {
		batch := order[start:min(start+importBatch, len(order))]
		if stmt == nil || len(batch) < importBatch { // the first batch, or a shorter last one
			if stmt != nil {
				stmt.Close()
			}
			var err error
			if stmt, err = tx.PrepareContext(ctx, s.query(len(batch))); err != nil {
				return formatError(err)
			}
		}
		args = args[:0]
		for _, i := range batch {
			args = row(args, items[i])
		}
		if err := s.exec(ctx, stmt, args); err != nil {
			err = formatError(err)
			if profileapi.IsNotFound(err) {
				return findMissing(ctx, tx, s, items, batch, row, name, err)
			}
			return fmt.Errorf("%s to %s: %w", name(items[batch[0]]), name(items[batch[len(batch)-1]]), err)
		}
	}
	return nil
}

// key is a primary key of one or two columns.
type key struct{ first, second string }

// inKeyOrder returns the indexes of items in the order of their keys.
func inKeyOrder[T any](items []T, keyOf func(T) key) []int {
	type keyed struct {
		key
		i int
	}
	// Sorting the keys beside the indexes, rather than indexes that point
	// to items that point to keys, halves the time of a large sort.
	keys := make([]keyed, len(items))
	for i, item := range items {
		keys[i] = keyed{keyOf(item), i}
	}
	// Items of one key stay in their order, so that the last one is
	// written last and wins.
	slices.SortFunc(keys, func(a, b keyed) int {
		return cmp.Or(strings.Compare(a.first, b.first), strings.Compare(a.second, b.second), cmp.Compare(a.i, b.i))
	})
	order := make([]int, len(keys))
	for i, k := range keys {
		order[i] = k.i
	}
	return order
}

// findMissing names the item of a failed batch that refers to a missing
// customer or skill, by inserting them one at a time. A foreign key failure
// undoes only its own statement, so the transaction is still there to try in.
func findMissing[T any](ctx context.Context, tx *sql.Tx, s upsert, items []T, batch []int,
	row func(args []any, item T) []any, name func(T) string, batchErr error,
) error {
	one, err := tx.PrepareContext(ctx, s.query(1))
	if err != nil {
		return batchErr
	}
	defer one.Close()
	for _, i := range batch {
		if err := s.exec(ctx, one, row(nil, items[i])); err != nil {
			return missingError(name(items[i]), i, formatError(err))
		}
	}
	return batchErr
}

// missingError names the item of an import that refers to something
// missing in its message, which the admin API shows (a skill deleted while
// the import ran), and the item's index in its cause, for the log.
func missingError(name string, i int, err error) error {
	cause := fmt.Errorf("item %d: %w", i, err)
	if !profileapi.IsNotFound(err) {
		return fmt.Errorf("%s (%w)", name, cause)
	}
	return &profileapi.Error{Kind: profileapi.ENOTFOUND, Message: name + ": its customer or skill does not exist", Err: cause}
}
