package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
)

// TestPrefetchWired: with the cache on, as serve wraps it, the keyring is
// given the cache's Prefetch; with it off, none.
func TestPrefetchWired(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db := filepath.Join(t.TempDir(), "profileapi.db")
	store, err := openStore(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	defer cancel() // first: the caches' warm-ups stop before the store closes
	if prefetcher(store) != nil {
		t.Fatal("the bare store has a Prefetch")
	}
	for mode, want := range map[string]bool{"auto": true, "on": true, "off": false} {
		c := cacheOptions{mode: mode, sizeMB: 16}
		wrapped := c.wrap(ctx, store, db, slog.New(slog.DiscardHandler))
		if got := prefetcher(wrapped) != nil; got != want {
			t.Errorf("--cache %s: Prefetch wired %v, want %v", mode, got, want)
		}
	}
}
