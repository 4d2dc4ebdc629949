package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/profileapi/profileapi"
)

// SigningKeys lists every signing key, newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]*profileapi.SigningKey, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT id, secret, created_at FROM signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list signing keys: %w", formatError(err))
	}
	defer rows.Close()
	keys := []*profileapi.SigningKey{}
	for rows.Next() {
		var k profileapi.SigningKey
		if err := rows.Scan(&k.ID, &k.Secret, &k.CreatedAt); err != nil {
			return nil, fmt.Errorf("postgres: list signing keys: %w", formatError(err))
		}
		k.CreatedAt = k.CreatedAt.UTC()
		keys = append(keys, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list signing keys: %w", formatError(err))
	}
	return keys, nil
}

// AddSigningKey stores a new key; ECONFLICT if the id is taken. A zero
// CreatedAt is set to now; k gets the time as stored.
func (db *DB) AddSigningKey(ctx context.Context, k *profileapi.SigningKey) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	createdAt := db.stamp(k.CreatedAt)
	if _, err := db.pool.Exec(ctx,
		`INSERT INTO signing_keys (id, secret, created_at) VALUES ($1, $2, $3)`, k.ID, k.Secret, createdAt,
	); err != nil {
		return fmt.Errorf("postgres: add signing key %q: %w", k.ID, formatError(err))
	}
	k.CreatedAt = createdAt
	return nil
}

// DeleteSigningKeys removes the keys created before the given time, taken
// to the millisecond as the keys' times are stored.
func (db *DB) DeleteSigningKeys(ctx context.Context, before time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if _, err := db.pool.Exec(ctx, `DELETE FROM signing_keys WHERE created_at < $1`, millis(before)); err != nil {
		return fmt.Errorf("postgres: delete signing keys: %w", formatError(err))
	}
	return nil
}
