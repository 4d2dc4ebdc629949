//go:build amd64 || arm64

package cache

const canPrefetch = true

// prefetch asks the CPU to load the cache line at addr, and returns
// without waiting for it. It never faults: addr may be memory that a
// shard has since given back.
//
//go:noescape
func prefetch(addr uintptr)
