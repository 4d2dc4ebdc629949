//go:build unix

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// lockSQLite takes an advisory lock on a file beside the SQLite database,
// held until release: exclusive for a process that caches the database
// (no other process may write behind its cache), shared for one that does
// not (several such may share the file, as SQLite allows). A second serve
// on the same file with its cache on would otherwise go on answering with
// consents revoked and customers deleted through the first. It is taken
// before the database is opened, which migrates it: a newer binary started
// beside a running one must not change the schema under it.
//
// The lock is on the file's real path, so that two spellings of it (a
// symbolic link) share it; a hard link does not. The lock file takes the
// database file's mode, so that a group sharing the one shares the other.
// what names the database in errors; an error that wraps errInUse means
// another serve holds it.
func lockSQLite(db, what string, exclusive bool) (release func(), err error) {
	path, mode, err := lockPath(db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, mode)
	if err != nil {
		return nil, fmt.Errorf("%s: create its lock file: %w", what, err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is %w by another profileapi serve (lock %s): a process that caches a SQLite file (--cache, on by default for SQLite) must be its only one; stop the other, run every process on it with --cache off, or use PostgreSQL for several nodes", what, errInUse, path)
		}
		return nil, fmt.Errorf("%s: lock %s: %w", what, path, err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}

// lockPath is the lock file of the database db, by its real path, and the
// mode to create it with.
func lockPath(db string) (string, fs.FileMode, error) {
	real, err := filepath.EvalSymlinks(db)
	if errors.Is(err, fs.ErrNotExist) {
		// Not made yet: its directory, resolved, and its name.
		dir, derr := filepath.EvalSymlinks(filepath.Dir(db))
		if derr != nil {
			return "", 0, derr
		}
		return filepath.Join(dir, filepath.Base(db)) + ".lock", 0o600, nil
	}
	if err != nil {
		return "", 0, err
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", 0, err
	}
	return real + ".lock", st.Mode().Perm() & 0o666, nil
}
