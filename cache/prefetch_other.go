//go:build !amd64 && !arm64

package cache

// canPrefetch is false where prefetch does nothing: Prefetch then skips
// its hash and lock too.
const canPrefetch = false

func prefetch(addr uintptr) {}
