//go:build !unix

package main

// openFilesLimit is 0, unknown, where getrlimit(2) is missing.
func openFilesLimit() uint64 { return 0 }
