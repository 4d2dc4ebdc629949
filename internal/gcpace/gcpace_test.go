package gcpace_test

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/profileapi/profileapi/internal/gcpace"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live, floor uint64
		base, want  int
	}{
		{4 * mib, 20 * mib, 100, 400},  // a small heap collects at the floor: 4 + 16
		{8 * mib, 20 * mib, 100, 150},  // 8 + 12
		{2 * mib, 20 * mib, 100, 500},  // bounded by the minimum heap: 4 MiB × 5 = 20 MiB
		{10 * mib, 20 * mib, 100, 100}, // half the floor live: GOGC's own pacing
		{32 * mib, 20 * mib, 100, 100}, // a large one grows by GOGC's share
		{8 * mib, 20 * mib, 200, 200},  // the base GOGC is a floor too
		{0, 20 * mib, 100, 500},        // nothing live yet: the minimum heap alone
		{4 * mib, 0, 100, 100},         // no floor: GOGC as it is
	}
	for _, tt := range tests {
		if got := gcpace.Percent(tt.live, tt.floor, tt.base); got != tt.want {
			t.Errorf("Percent(%d, %d, %d) = %d, want %d", tt.live, tt.floor, tt.base, got, tt.want)
		}
	}
}

var sink []byte

// cycles counts the collections while n bytes are allocated, 1 KiB at a
// time, with little live.
func cycles(n int) uint32 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n >> 10 {
		sink = make([]byte, 1<<10)
	}
	runtime.ReadMemStats(&after)
	return after.NumGC - before.NumGC
}

// TestStart: with a floor the collector runs several times less often
// over the same garbage, and stop gives GOGC back.
func TestStart(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)

	const garbage = 512 << 20
	plain := cycles(garbage)

	p := gcpace.Start(64 << 20)
	paced := cycles(garbage)
	resume := p.Suspend()
	suspended := cycles(garbage)
	resume()
	resumed := cycles(garbage)
	p.Stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after Stop GOGC = %d, want 100 again", got)
	}
	t.Logf("suspended: %d collections; resumed: %d", suspended, resumed)
	if suspended < plain/2 || resumed*4 > plain {
		t.Errorf("%d collections while suspended, %d once resumed, %d without the floor: want as many, then several times fewer", suspended, resumed, plain)
	}
	t.Logf("collections over %d MiB of garbage: %d with GOGC=100, %d with a 64 MiB floor", garbage>>20, plain, paced)
	if paced*4 > plain {
		t.Fatalf("%d collections with the floor, %d without: want at least 4 times fewer", paced, plain)
	}
	// 512 MiB in steps of about 64 MiB: the heap is bounded by the floor,
	// not merely larger.
	if paced < 6 {
		t.Fatalf("%d collections over 512 MiB with a 64 MiB floor: the heap grew past it", paced)
	}
}

func TestStartOff(t *testing.T) {
	base := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(base)
	p := gcpace.Start(64 << 20)
	defer p.Stop()
	p.Suspend()()
	runtime.GC()
	runtime.GC()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("GOGC=off became %d", got)
	}
}
