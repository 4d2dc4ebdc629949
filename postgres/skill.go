package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/profileapi/profileapi"
)

// CreateSkill stores a new skill; ECONFLICT if the id is taken. A zero
// CreatedAt is set to now; s gets the time as stored.
func (db *DB) CreateSkill(ctx context.Context, s *profileapi.Skill) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	createdAt := db.stamp(s.CreatedAt)
	if _, err := db.pool.Exec(ctx,
		`INSERT INTO skills (id, name, permissions, created_at) VALUES ($1, $2, $3, $4)`,
		s.ID, s.Name, int16(s.Permissions), createdAt,
	); err != nil {
		return fmt.Errorf("postgres: create skill %q: %w", s.ID, formatError(err))
	}
	s.CreatedAt = createdAt
	return nil
}

// Skill returns the skill; ENOTFOUND if there is none.
func (db *DB) Skill(ctx context.Context, id string) (*profileapi.Skill, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	s, err := scanSkill(db.pool.QueryRow(ctx, `SELECT id, name, permissions, created_at FROM skills WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: find skill %q: %w", id, formatError(err))
	}
	return s, nil
}

// Skills lists every skill ordered by id.
func (db *DB) Skills(ctx context.Context) ([]*profileapi.Skill, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT id, name, permissions, created_at FROM skills ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list skills: %w", formatError(err))
	}
	defer rows.Close()
	skills := []*profileapi.Skill{}
	for rows.Next() {
		s, err := scanSkill(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list skills: %w", formatError(err))
		}
		skills = append(skills, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list skills: %w", formatError(err))
	}
	return skills, nil
}

// UpdateSkill sets the skill's name and declared scopes and narrows every
// consent to it to those scopes, in one transaction, so that no customer is
// left granting a scope the skill no longer declares; ENOTFOUND if there is
// none. A narrowed consent's UpdatedAt is set to now; s gets the CreatedAt
// as stored.
//
// The call is bounded by the time it may take to narrow every consent to
// the skill, as an import of that many.
func (db *DB) UpdateSkill(ctx context.Context, s *profileapi.Skill) error {
	start := time.Now() // the count's time is within the bound, not added to it
	n, err := db.consentsTo(ctx, s.ID)
	if err != nil {
		return fmt.Errorf("postgres: update skill %q: %w", s.ID, formatError(err))
	}
	ctx, cancel := db.boundRows(ctx, start, n)
	defer cancel()
	if err := db.updateSkill(ctx, s); err != nil {
		return fmt.Errorf("postgres: update skill %q: %w", s.ID, formatError(err))
	}
	return nil
}

// consentsTo counts the consents given to the skill: the rows a change to
// it may rewrite or delete.
func (db *DB) consentsTo(ctx context.Context, skillID string) (int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM consents WHERE skill_id = $1`, skillID).Scan(&n)
	return n, err
}

func (db *DB) updateSkill(ctx context.Context, s *profileapi.Skill) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var createdAt time.Time
	if err := tx.QueryRow(ctx,
		`UPDATE skills SET name = $1, permissions = $2 WHERE id = $3 RETURNING created_at`,
		s.Name, int16(s.Permissions), s.ID,
	).Scan(&createdAt); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx,
		`UPDATE consents SET scopes = scopes & $1, updated_at = $2 WHERE skill_id = $3 AND scopes & $1 <> scopes`,
		int16(s.Permissions), db.stamp(time.Time{}), s.ID,
	); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	s.CreatedAt = createdAt.UTC()
	return nil
}

// DeleteSkill removes the skill and, by cascade, every consent given to it;
// ENOTFOUND if there is none. Like UpdateSkill, it is bounded by the
// consents it deletes.
func (db *DB) DeleteSkill(ctx context.Context, id string) error {
	start := time.Now()
	n, err := db.consentsTo(ctx, id)
	if err != nil {
		return fmt.Errorf("postgres: delete skill %q: %w", id, formatError(err))
	}
	ctx, cancel := db.boundRows(ctx, start, n)
	defer cancel()
	if err := affectedOne(db.pool.Exec(ctx, `DELETE FROM skills WHERE id = $1`, id)); err != nil {
		return fmt.Errorf("postgres: delete skill %q: %w", id, formatError(err))
	}
	return nil
}

func scanSkill(row pgx.Row) (*profileapi.Skill, error) {
	var s profileapi.Skill
	var permissions int16
	var createdAt time.Time
	if err := row.Scan(&s.ID, &s.Name, &permissions, &createdAt); err != nil {
		return nil, err
	}
	s.Permissions = profileapi.ScopeSet(permissions)
	s.CreatedAt = createdAt.UTC()
	return &s, nil
}
