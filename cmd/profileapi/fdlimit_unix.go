//go:build unix

package main

import (
	"math"
	"syscall"
)

// openFilesLimit is how many files the process may hold open (Go raises
// the soft limit to the hard one at start), or 0 if unknown or unlimited.
func openFilesLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || uint64(rl.Cur) == math.MaxUint64 {
		return 0
	}
	return uint64(rl.Cur)
}
