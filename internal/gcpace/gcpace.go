// Package gcpace gives the garbage collector a floor of headroom: after
// every collection it sets GOGC so that the heap may grow by at least a
// fixed number of bytes beyond what is live, or by GOGC's own share of the
// live heap where that is more.
//
// A profile service has a small live heap (a few megabytes: its customers
// live outside the heap, in the cache) and allocates a little on every
// call. With GOGC alone the collector then runs every few megabytes, dozens
// of times a second under load, and its fixed cost per cycle is a fifth of
// the process's CPU. A floor of some megabytes makes the cycles several
// times rarer for a known, bounded amount of memory, while a process whose
// live heap is large (an import in progress) keeps GOGC's proportional
// growth. A memory limit (GOMEMLIMIT) is still obeyed: the runtime applies
// it on top of the pacing set here.
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

// Start keeps at least headroom bytes of growth between collections, on
// top of GOGC as the process started with it, until stop is called, which
// restores that GOGC. It does nothing if headroom is not positive or the
// collector is off (GOGC=off).
func Start(headroom int64) (stop func()) {
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	if headroom <= 0 || base < 0 {
		return func() {}
	}
	p := &pacer{headroom: uint64(headroom), base: base, last: base}
	p.live = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	p.tune()
	p.arm()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.stopped.CompareAndSwap(false, true) {
			debug.SetGCPercent(base)
		}
	}
}

type pacer struct {
	headroom uint64
	base     int
	last     int // the GOGC last set
	live     []metrics.Sample
	stopped  atomic.Bool
	mu       sync.Mutex // orders tune and stop
}

// sentinel is an object made to be collected: its cleanup runs once after
// each collection, to pace the next.
type sentinel struct{ _ *byte } // a pointer: never combined with other small objects

// arm makes the next collection call tune.
func (p *pacer) arm() {
	runtime.AddCleanup(new(sentinel), func(p *pacer) {
		if p.stopped.Load() {
			return
		}
		p.tune()
		p.arm()
	}, p)
}

// tune sets GOGC for the live heap the last collection found.
func (p *pacer) tune() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped.Load() {
		return
	}
	metrics.Read(p.live)
	if p.live[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	percent := Percent(p.live[0].Value.Uint64(), p.headroom, p.base)
	// Small changes are left alone: each call takes the heap lock.
	if percent == p.last || percent > p.last && percent < p.last+p.last/20 || percent < p.last && percent > p.last-p.last/20 {
		return
	}
	debug.SetGCPercent(percent)
	p.last = percent
}

// Percent is the GOGC that lets a heap of live bytes grow by headroom
// bytes, and no less than base.
func Percent(live, headroom uint64, base int) int {
	p := uint64(maxPercent)
	if live > 0 {
		p = headroom * 100 / live
	}
	// The runtime never aims below a minimum heap, which GOGC scales too
	// (4 MiB × GOGC/100): past a point, a larger GOGC would raise that
	// minimum instead, and the heap would grow by more than headroom.
	p = min(p, (live+headroom)*100/minHeap, maxPercent)
	return max(int(p), base)
}

// minHeap is the runtime's minimum heap goal at GOGC=100.
const minHeap = 4 << 20
