//go:build unix

package cache

import (
	"syscall"
	"unsafe"
)

// allocate returns n zeroed bytes outside the Go heap, or on it if the
// system refuses.
func allocate(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	return b
}

// release gives back what allocate returned; a slice on the heap is
// left to the collector.
func release(b []byte) {
	if len(b) > 0 {
		_ = syscall.Munmap(b) // EINVAL for a heap slice
	}
}

func allocateSlots(n int) []uint64 {
	b := allocate(8 * n)
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

func releaseSlots(s []uint64) {
	if len(s) > 0 {
		release(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 8*len(s)))
	}
}
