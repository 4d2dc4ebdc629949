package cache

import "unsafe"

// allocateSlots returns a table of n empty slots, or nil; see allocate.
func allocateSlots(n int) []uint64 {
	b := allocate(8 * n)
	if b == nil {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)/8)[:n]
}

// releaseSlots gives back what allocateSlots returned.
func releaseSlots(s []uint64) {
	if cap(s) > 0 {
		release(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 8*cap(s))[:0])
	}
}
