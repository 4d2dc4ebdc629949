//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockSQLite takes an advisory lock on a file beside the SQLite database,
// held until release: exclusive for a process that caches the database
// (no other process may write behind its cache), shared for one that does
// not (several such may share the file, as SQLite allows). A second serve
// on the same file with its cache on would otherwise go on answering with
// consents revoked and customers deleted through the first.
// The lock is taken on the file's real path, so that two spellings of it
// (a symbolic link) share it; a hard link does not.
func lockSQLite(db string, exclusive bool) (release func(), err error) {
	real, err := filepath.EvalSymlinks(db)
	if err != nil {
		return nil, fmt.Errorf("the database %s: %w", db, err)
	}
	path := real + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("the database %s: create its lock file: %w", db, err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the database %s is in use by another profileapi serve (lock %s): a process that caches a SQLite file (--cache, on by default for SQLite) must be its only one; stop the other, run every process on it with --cache off, or use PostgreSQL for several nodes", db, path)
		}
		return nil, fmt.Errorf("the database %s: lock %s: %w", db, path, err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
