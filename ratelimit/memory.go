package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

var _ Limiter = (*Memory)(nil)

// shardCount spreads keys over locks so that parallel calls for different
// skills rarely wait on each other.
const shardCount = 64

// sweepEvery is how often, in the limiter's clock, a shard drops keys whose
// TAT has passed. Such a key means the same as an absent one, so dropping
// it changes no answer; it only bounds memory to the keys seen recently.
const sweepEvery = int64(time.Minute)

// Memory is a Limiter that keeps each key's TAT in this process. It is safe
// for concurrent use.
type Memory struct {
	now    func() time.Time
	start  time.Time // what the clock read at NewMemory
	seed   maphash.Seed
	shards [shardCount]shard
}

type shard struct {
	mu        sync.Mutex
	tat       map[string]int64 // key → theoretical arrival time, nanoseconds since start
	nextSweep int64
	_         [40]byte // pad to a cache line: neighbouring locks do not share one
}

// NewMemory returns an empty in-process Limiter reading time from now
// (time.Now if nil), so tests can drive it with a fake clock.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, start: now(), seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tat = make(map[string]int64)
	}
	return m
}

// Allow counts one call under key against l. It never returns an error.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (bool, time.Duration, error) {
	if l.Unlimited() {
		return true, 0, nil
	}
	interval, tolerance := l.gcra()
	// Since start: time.Now's monotonic reading, so that the wall clock
	// stepped by NTP neither refuses a burst nor grants a fresh one.
	now := int64(m.now().Sub(m.start))
	s := &m.shards[maphash.String(m.seed, key)%shardCount]
	s.mu.Lock()
	defer s.mu.Unlock()
	if now >= s.nextSweep {
		s.sweep(now)
	}
	tat, ok := s.tat[key]
	switch {
	case !ok || tat < now:
		tat = now
	case tat > now+tolerance:
		// Counted under a limit of more tolerance than l's (a slower rate
		// before it was loosened, or a bigger burst before it was
		// tightened): what was spent then counts only up to all of l's
		// burst but this call, or loosening a limit would leave the key
		// refused for as long as the old one said. Loosening thus takes
		// effect at once, as with Redis. Tightening differs: here what was
		// spent still counts, up to the new burst, where Redis, which keeps
		// the limit in the key, starts a new count and lets one more burst
		// of the new limit through. Under an unchanged limit a TAT never
		// gets past now+tolerance, so no more than a burst goes through.
		tat = now + tolerance - interval
	}
	next := tat + interval
	if allowAt := next - tolerance; now < allowAt {
		return false, time.Duration(allowAt - now), nil
	}
	s.tat[key] = next
	return true, 0, nil
}

// sweep drops the keys whose TAT has passed. The caller holds s.mu.
func (s *shard) sweep(now int64) {
	for k, tat := range s.tat {
		if tat <= now {
			delete(s.tat, k)
		}
	}
	s.nextSweep = now + sweepEvery
}

// keys counts the keys held, for tests of the memory bound.
func (m *Memory) keys() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tat)
		s.mu.Unlock()
	}
	return n
}
