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
		live, headroom uint64
		base, want     int
	}{
		{8 * mib, 16 * mib, 100, 200},  // a small heap gets the floor
		{4 * mib, 16 * mib, 100, 400},  // (the minimum heap, 4 MiB × 4, is 16 MiB)
		{2 * mib, 16 * mib, 100, 450},  // bounded by the minimum heap: 4 MiB × 4.5 = 2 + 16 MiB
		{32 * mib, 16 * mib, 100, 100}, // a large one grows by GOGC's share
		{16 * mib, 16 * mib, 100, 100}, // where they meet
		{10 * mib, 16 * mib, 200, 200}, // the base GOGC is a floor too
		{0, 16 * mib, 100, 400},        // nothing live yet: the minimum heap alone
		{4 * mib, 0, 100, 100},         // no headroom: GOGC as it is
	}
	for _, tt := range tests {
		if got := gcpace.Percent(tt.live, tt.headroom, tt.base); got != tt.want {
			t.Errorf("Percent(%d, %d, %d) = %d, want %d", tt.live, tt.headroom, tt.base, got, tt.want)
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

// TestStart: with a floor of headroom the collector runs several times
// less often over the same garbage, and stop gives GOGC back.
func TestStart(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)

	const garbage = 512 << 20
	plain := cycles(garbage)

	stop := gcpace.Start(64 << 20)
	paced := cycles(garbage)
	stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after stop GOGC = %d, want 100 again", got)
	}
	t.Logf("collections over %d MiB of garbage: %d with GOGC=100, %d with 64 MiB of headroom", garbage>>20, plain, paced)
	if paced*4 > plain {
		t.Fatalf("%d collections with the floor, %d without: want at least 4 times fewer", paced, plain)
	}
	// 512 MiB in steps of about 64 MiB: the growth is bounded, not
	// merely larger.
	if paced < 6 {
		t.Fatalf("%d collections over 512 MiB with 64 MiB of headroom: the heap grew by more", paced)
	}
}

func TestStartOff(t *testing.T) {
	base := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(base)
	stop := gcpace.Start(64 << 20)
	defer stop()
	runtime.GC()
	runtime.GC()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("GOGC=off became %d", got)
	}
}
