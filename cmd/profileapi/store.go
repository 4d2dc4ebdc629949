package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/postgres"
	"github.com/profileapi/profileapi/ratelimit"
	"github.com/profileapi/profileapi/sqlite"
)

// openStore opens the store --db names: a postgres:// URL or a SQLite file.
func openStore(ctx context.Context, db string, logger *slog.Logger) (profileapi.Store, error) {
	if isPostgresURL(db) {
		// pgx knows the scheme in lower case only; a URL's is any case.
		scheme, rest, _ := strings.Cut(db, "://")
		return postgres.Open(ctx, strings.ToLower(scheme)+"://"+rest)
	}
	s, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	s.SetLogger(logger) // its outage and recovery lines
	return s, nil
}

func isPostgresURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	return ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql"))
}

// withoutURL is err without the URL a *url.Error repeats: redactURL shows
// the URL, and a password may be in the part that did not parse.
func withoutURL(err error) error {
	if uerr, ok := errors.AsType[*url.Error](err); ok {
		return uerr.Err
	}
	return err
}

// redisPrefix starts every key the rate limiter keeps in Redis, so that
// other programs may share the Redis.
const redisPrefix = "profileapi:ratelimit:"

// newLimiter returns the rate limiter: shared through Redis when --redis
// is given, else in process, and what closes its connections. Redis must
// answer at start: a node that could not count would refuse every limited
// call with 503.
func newLimiter(ctx context.Context, redisURL string, logger *slog.Logger) (ratelimit.Limiter, func() error, error) {
	if redisURL == "" {
		return ratelimit.NewMemory(nil), func() error { return nil }, nil
	}
	opt, err := ratelimit.ParseRedisURL(redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis %s: %w", redactURL(redisURL), withoutURL(err))
	}
	redis.SetLogger(redisLogger{logger})
	client := redis.NewClient(opt)
	limiter := ratelimit.NewRedis(client, redisPrefix)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := limiter.Ping(ctx); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("--redis %s does not answer: %w", redactURL(redisURL), err)
	}
	return limiter, client.Close, nil
}

// redactURL hides the passwords of a database or Redis URL, for logs and
// errors: the one before the @, and the ones pgx takes as URL parameters
// (password, sslpassword) or in a key=value connection string.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return dsnPassword.ReplaceAllString(s, "${1}xxxxx")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	// Pair by pair on the raw query: url.ParseQuery drops a pair it cannot
	// parse (a ';', a bad escape), which Redacted would then show as it is.
	// A pair that holds "password" anywhere, unescaped as pgx reads it
	// (pass%77ord), loses its whole value.
	pairs := strings.Split(u.RawQuery, "&")
	for i, pair := range pairs {
		name, _, ok := strings.Cut(pair, "=")
		text := pair
		if unescaped, err := url.QueryUnescape(pair); err == nil {
			text = unescaped
		}
		if ok && strings.Contains(strings.ToLower(text), "password") {
			pairs[i] = name + "=xxxxx"
		}
	}
	u.RawQuery = strings.Join(pairs, "&")
	return u.Redacted()
}

// keyValueDSN is the start of a libpq key=value connection string, which
// --db would otherwise take for a SQLite file's name.
var keyValueDSN = regexp.MustCompile(`^\s*(host|hostaddr|port|dbname|user|password|passfile|sslmode|service|connect_timeout|application_name)\s*=`)

// dsnPassword is a password in a key=value connection string, quoted or
// not.
var dsnPassword = regexp.MustCompile(`(?i)(\b\w*password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)

// redisLogger sends go-redis's own lines (a failed dial during an outage)
// to the structured log instead of stderr.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, "redis", "detail", fmt.Sprintf(format, v...))
}
