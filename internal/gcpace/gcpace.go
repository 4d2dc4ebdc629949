// Package gcpace gives the garbage collector a floor: after every
// collection it sets GOGC so that the next one starts no sooner than the
// heap reaches a fixed size, or, for a live heap large enough, where GOGC
// would start it anyway.
//
// A profile service has a small live heap (a few megabytes: its customers
// live outside the heap, in the cache) and allocates a little on every
// call. With GOGC alone the collector then runs every few megabytes, dozens
// of times a second under load, and its fixed cost per cycle is a fifth of
// the process's CPU. A floor of some megabytes makes the cycles several
// times rarer for a known amount of memory; a process whose live heap is
// half the floor or more (an import in progress) gets GOGC's pacing and no
// more memory than without the floor. A memory limit (GOMEMLIMIT) is still
// obeyed: the runtime applies it on top of the pacing set here.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// maxPercent bounds the GOGC set, whatever the live heap.
const maxPercent = 10_000

// Pacer keeps the heap goal at a floor; see Start.
type Pacer struct {
	floor     uint64
	base      int
	last      int              // the GOGC last set
	live      []metrics.Sample // live heap, scanned stacks, scannable globals
	stopped   atomic.Bool
	suspended int        // Suspend calls not yet resumed
	mu        sync.Mutex // orders tune, Suspend and Stop
}

// Start keeps the heap goal at floor bytes or more, on top of GOGC as the
// process started with it, until Stop. It does nothing if floor is not
// positive or the collector is off (GOGC=off).
func Start(floor int64) *Pacer {
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	p := &Pacer{floor: uint64(max(floor, 0)), base: base, last: base}
	if floor <= 0 || base < 0 {
		p.stopped.Store(true)
		return p
	}
	p.live = []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/scan/stack:bytes"},
		{Name: "/gc/scan/globals:bytes"},
	}
	p.tune()
	p.arm()
	return p
}

// Stop restores GOGC as it was at Start.
func (p *Pacer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped.CompareAndSwap(false, true) {
		debug.SetGCPercent(p.base)
	}
}

// Suspend lifts the floor until resume is called: for bulk work, such as
// an import, that allocates hundreds of megabytes a second on every core,
// where a larger heap goal lets the heap overshoot it by as much again
// before a collection catches up. A nil Pacer suspends nothing.
func (p *Pacer) Suspend() (resume func()) {
	if p == nil {
		return func() {}
	}
	p.mu.Lock()
	p.suspended++
	p.set(p.base)
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.suspended--
			p.mu.Unlock()
			p.tune()
		})
	}
}

// sentinel is an object made to be collected: its cleanup runs once after
// each collection, to pace the next.
type sentinel struct{ _ *byte } // a pointer: never combined with other small objects

// arm makes the next collection call tune.
func (p *Pacer) arm() {
	runtime.AddCleanup(new(sentinel), func(p *Pacer) {
		if p.stopped.Load() {
			return
		}
		p.tune()
		p.arm()
	}, p)
}

// tune sets GOGC for the live heap the last collection found.
func (p *Pacer) tune() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped.Load() || p.suspended > 0 {
		return
	}
	metrics.Read(p.live)
	var v [3]uint64
	for i, s := range p.live {
		if s.Value.Kind() != metrics.KindUint64 {
			return
		}
		v[i] = s.Value.Uint64()
	}
	percent := Percent(v[0], v[1]+v[2], p.floor, p.base)
	// Small changes are left alone: each call takes the heap lock.
	if percent > p.last && percent < p.last+p.last/20 || percent < p.last && percent > p.last-p.last/20 {
		return
	}
	p.set(percent)
}

// set sets GOGC, unless it is already that or the pacer has stopped. The
// caller holds mu.
func (p *Pacer) set(percent int) {
	if percent != p.last && !p.stopped.Load() {
		debug.SetGCPercent(percent)
		p.last = percent
	}
}

// Percent is the GOGC that puts the next collection at a heap of floor
// bytes when live bytes of heap are live and the collector scans roots
// bytes of stacks and globals, and no less than base. The runtime's goal
// is live + (live + roots) × GOGC/100: GOGC scales the roots too.
func Percent(live, roots, floor uint64, base int) int {
	if live >= floor {
		return base
	}
	p := uint64(maxPercent)
	if live+roots > 0 {
		p = (floor - live) * 100 / (live + roots)
	}
	// The runtime never aims below a minimum heap, which GOGC scales too
	// (4 MiB × GOGC/100): past a point, a larger GOGC would raise that
	// minimum above the floor instead.
	p = min(p, floor*100/minHeap, maxPercent)
	return max(int(p), base)
}

// minHeap is the runtime's minimum heap goal at GOGC=100.
const minHeap = 4 << 20
