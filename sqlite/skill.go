package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/profileapi/profileapi"
)

// CreateSkill stores a new skill; ECONFLICT if the id is taken. A zero
// CreatedAt is set to now; s gets the times as stored.
func (db *DB) CreateSkill(ctx context.Context, s *profileapi.Skill) error {
	createdAt := db.stamp(s.CreatedAt)
	if _, err := db.write.ExecContext(ctx,
		`INSERT INTO skills (id, name, permissions, created_at) VALUES (?, ?, ?, ?)`,
		s.ID, s.Name, int64(s.Permissions), createdAt.UnixMilli(),
	); err != nil {
		return fmt.Errorf("sqlite: create skill %q: %w", s.ID, formatError(err))
	}
	s.CreatedAt = createdAt
	return nil
}

// Skill returns the skill; ENOTFOUND if there is none.
func (db *DB) Skill(ctx context.Context, id string) (*profileapi.Skill, error) {
	s, err := scanSkill(db.read.QueryRowContext(ctx,
		`SELECT id, name, permissions, created_at FROM skills WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find skill %q: %w", id, formatError(err))
	}
	return s, nil
}

// Skills lists every skill ordered by id.
func (db *DB) Skills(ctx context.Context) ([]*profileapi.Skill, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, permissions, created_at FROM skills ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list skills: %w", formatError(err))
	}
	defer rows.Close()
	skills := []*profileapi.Skill{}
	for rows.Next() {
		s, err := scanSkill(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list skills: %w", formatError(err))
		}
		skills = append(skills, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list skills: %w", formatError(err))
	}
	return skills, nil
}

// UpdateSkill sets the skill's name and declared scopes and narrows every
// consent to it to those scopes, in one transaction, so that no customer is
// left granting a scope the skill no longer declares; ENOTFOUND if there is
// none. A narrowed consent's UpdatedAt is set to now; s gets the CreatedAt
// as stored.
func (db *DB) UpdateSkill(ctx context.Context, s *profileapi.Skill) error {
	if err := db.updateSkill(ctx, s); err != nil {
		return fmt.Errorf("sqlite: update skill %q: %w", s.ID, formatError(err))
	}
	return nil
}

func (db *DB) updateSkill(ctx context.Context, s *profileapi.Skill) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var createdAt int64
	if err := tx.QueryRowContext(ctx,
		`UPDATE skills SET name = ?, permissions = ? WHERE id = ? RETURNING created_at`,
		s.Name, int64(s.Permissions), s.ID,
	).Scan(&createdAt); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE consents SET scopes = scopes & ?1, updated_at = ?2 WHERE skill_id = ?3 AND scopes & ?1 != scopes`,
		int64(s.Permissions), db.stamp(time.Time{}).UnixMilli(), s.ID,
	); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.CreatedAt = fromMillis(createdAt)
	return nil
}

// DeleteSkill removes the skill and, by cascade, every consent given to it;
// ENOTFOUND if there is none.
func (db *DB) DeleteSkill(ctx context.Context, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM skills WHERE id = ?`, id)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete skill %q: %w", id, formatError(err))
	}
	return nil
}

type scanner interface {
	Scan(dest ...any) error
}

func scanSkill(row scanner) (*profileapi.Skill, error) {
	var s profileapi.Skill
	var permissions, createdAt int64
	if err := row.Scan(&s.ID, &s.Name, &permissions, &createdAt); err != nil {
		return nil, err
	}
	s.Permissions = profileapi.ScopeSet(permissions)
	s.CreatedAt = fromMillis(createdAt)
	return &s, nil
}

// affectedOne reports sql.ErrNoRows if a delete found nothing to delete.
func affectedOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = sql.ErrNoRows
	}
	return err
}
