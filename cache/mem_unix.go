//go:build unix && !linux

package cache

import "syscall"

const pageSize = 4 << 10

// hugeSize is n: no huge pages here.
func hugeSize(n int) int { return n }

// allocate returns n zeroed bytes outside the Go heap, with capacity n
// rounded up to whole pages, or nil if the system has no memory for them.
func allocate(n int) []byte {
	b, err := syscall.Mmap(-1, 0, (n+pageSize-1)&^(pageSize-1), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	return b[:n]
}

// release unmaps what allocate returned.
func release(b []byte) {
	if cap(b) > 0 {
		_ = syscall.Munmap(b[:cap(b)])
	}
}
