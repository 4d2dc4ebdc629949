//go:build !unix

package main

// lockSQLite does nothing where flock(2) is missing: there, keeping one
// process per cached SQLite file is up to the operator.
func lockSQLite(string, string, bool) (func(), error) { return func() {}, nil }
