package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/profileapi/profileapi"
)

// SigningKeys lists every signing key, newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]*profileapi.SigningKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, secret, created_at FROM signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", formatError(err))
	}
	defer rows.Close()
	keys := []*profileapi.SigningKey{}
	for rows.Next() {
		var k profileapi.SigningKey
		var createdAt int64
		if err := rows.Scan(&k.ID, &k.Secret, &createdAt); err != nil {
			return nil, fmt.Errorf("sqlite: list signing keys: %w", formatError(err))
		}
		k.CreatedAt = fromMillis(createdAt)
		keys = append(keys, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", formatError(err))
	}
	return keys, nil
}

// AddSigningKey stores a new key; ECONFLICT if the id is taken. A zero
// CreatedAt is set to now; k gets the time as stored.
func (db *DB) AddSigningKey(ctx context.Context, k *profileapi.SigningKey) error {
	createdAt := db.stamp(k.CreatedAt)
	if _, err := db.write.ExecContext(ctx,
		`INSERT INTO signing_keys (id, secret, created_at) VALUES (?, ?, ?)`, k.ID, k.Secret, createdAt.UnixMilli(),
	); err != nil {
		return fmt.Errorf("sqlite: add signing key %q: %w", k.ID, formatError(err))
	}
	k.CreatedAt = createdAt
	return nil
}

// DeleteSigningKeys removes the keys created before the given time.
func (db *DB) DeleteSigningKeys(ctx context.Context, before time.Time) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM signing_keys WHERE created_at < ?`, before.UnixMilli()); err != nil {
		return fmt.Errorf("sqlite: delete signing keys: %w", formatError(err))
	}
	return nil
}
