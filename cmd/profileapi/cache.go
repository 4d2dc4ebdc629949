package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/cache"
)

// cacheOptions are serve's --cache flags.
type cacheOptions struct {
	mode   string
	sizeMB int64
	maxAge time.Duration
}

func (c *cacheOptions) register(f *pflag.FlagSet) {
	f.StringVar(&c.mode, "cache", "auto", `keep customers and consents in memory for the public API: on, off, or auto (on for a SQLite file, which only this process may write to; off for PostgreSQL, which other nodes write to)`)
	f.Int64Var(&c.sizeMB, "cache-size", 1024, "memory the cache may take, in MiB (about 80 bytes a customer)")
	f.DurationVar(&c.maxAge, "cache-max-age", 0, "how long a cached customer is used before it is read again (default: until this process changes it; 1s with PostgreSQL)")
}

// validate checks the --cache flags before serve creates anything.
func (c *cacheOptions) validate() error {
	switch c.mode {
	case "on", "off", "auto":
	default:
		return fmt.Errorf("--cache %q: want on, off or auto", c.mode)
	}
	if c.sizeMB < 1 || c.sizeMB > maxMiB {
		return fmt.Errorf("--cache-size %d: want from 1 to %d MiB (1 TiB)", c.sizeMB, maxMiB)
	}
	if c.maxAge < 0 {
		// The cache would read a negative age as "never re-read", even
		// with PostgreSQL, where other nodes' writes would then not show.
		return fmt.Errorf("--cache-max-age %s: want 0 or more (0: until this process changes it; 1s with PostgreSQL)", c.maxAge)
	}
	return nil
}

// prefetcher is the store's Prefetch, for the keyring (token.Options):
// the cache's, when it is on; nil otherwise.
func prefetcher(store profileapi.Store) func(customerID []byte) {
	if p, ok := store.(interface{ Prefetch(customerID []byte) }); ok {
		return p.Prefetch
	}
	return nil
}

// on reports whether the cache is used for the database db.
func (c *cacheOptions) on(db string) bool {
	return c.mode == "on" || c.mode == "auto" && !isPostgresURL(db)
}

// wrap puts the cache in front of the store, if it is on, and starts
// filling it in the background until ctx ends: calls are answered
// meanwhile, from the store if need be. It expects c validated.
func (c *cacheOptions) wrap(ctx context.Context, store profileapi.Store, db string, logger *slog.Logger) profileapi.Store {
	if !c.on(db) {
		return store
	}
	postgres := isPostgresURL(db)
	maxAge := c.maxAge
	if postgres && maxAge == 0 {
		maxAge = time.Second // other nodes' writes show within a second
	}
	cached := cache.New(store, cache.Options{MaxBytes: c.sizeMB << 20, MaxAge: maxAge})
	if postgres {
		// Other nodes write the database: a warm-up would hold entries
		// that age out within a second, and take the cache for complete.
		return cached
	}
	go func() {
		start := time.Now()
		if err := cached.Warm(ctx); err != nil {
			if ctx.Err() != nil {
				return // serve is returning: not a failure to report
			}
			logger.Warn("cache warm-up failed; the cache fills as customers are read", "err", err)
			return
		}
		st := cached.Stats()
		logger.Info("cache warm", "customers", st.Customers, "bytes", st.Bytes, "duration", time.Since(start).Round(time.Millisecond))
	}()
	return cached
}
