//go:build !unix

package cache

func allocate(n int) []byte        { return make([]byte, n) }
func release([]byte)               {}
func allocateSlots(n int) []uint64 { return make([]uint64, n) }
func releaseSlots([]uint64)        {}
