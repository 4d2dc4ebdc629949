//go:build unix

package tlsconf

import (
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock on the directory dir, waiting
// for it, until unlock: processes starting together on one directory take
// turns, so that one makes the authority and the others load it.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("tls: lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil // closing the directory releases the lock
}
