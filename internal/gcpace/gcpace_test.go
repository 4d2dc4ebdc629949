package gcpace_test

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi/internal/gcpace"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live, roots, floor uint64
		base, want         int
	}{
		{4 * mib, 0, 20 * mib, 100, 400},       // a small heap collects at the floor: 4 + 4 × 4
		{4 * mib, 4 * mib, 20 * mib, 100, 200}, // as much in stacks and globals: 4 + 8 × 2
		{8 * mib, 0, 20 * mib, 100, 150},       // 8 + 8 × 1.5
		{2 * mib, 0, 20 * mib, 100, 500},       // bounded by the minimum heap: 4 MiB × 5 = 20 MiB
		{10 * mib, 0, 20 * mib, 100, 100},      // half the floor live: GOGC's own pacing
		{32 * mib, 0, 20 * mib, 100, 100},      // a large one grows by GOGC's share
		{8 * mib, 0, 20 * mib, 200, 200},       // the base GOGC is a floor too
		{0, 0, 20 * mib, 100, 500},             // nothing live yet: the minimum heap alone
		{4 * mib, 0, 0, 100, 100},              // no floor: GOGC as it is
	}
	for _, tt := range tests {
		if got := gcpace.Percent(tt.live, tt.roots, tt.floor, tt.base); got != tt.want {
			t.Errorf("Percent(%d, %d, %d, %d) = %d, want %d", tt.live, tt.roots, tt.floor, tt.base, got, tt.want)
		}
	}
}

// goal is the runtime's heap goal, and GOGC.
func goal() (uint64, int) {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), int(s[1].Value.Uint64())
}

// atFloor checks that the heap goal is the floor, give or take the 5% by
// which the pacer leaves GOGC alone, waiting up to 10 s for the pacer:
// after a collection it runs on the cleanup goroutine.
func atFloor(t *testing.T, what string, floor uint64) {
	t.Helper()
	lo, hi := floor*90/100, floor*110/100
	var g uint64
	var gogc int
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(10 * time.Millisecond) {
		if g, gogc = goal(); g >= lo && g <= hi {
			return
		}
	}
	t.Errorf("%s: heap goal %d MiB (GOGC %d), want about the floor, %d MiB", what, g>>20, gogc, floor>>20)
}

// TestStart: the pacer puts the heap goal at the floor, again after each
// collection whatever is live, counting the stacks the collector scans;
// Suspend lifts it and Stop gives GOGC back.
func TestStart(t *testing.T) {
	const floor = 64 << 20
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	runtime.GC()

	p := gcpace.Start(floor)
	defer p.Stop()
	atFloor(t, "started", floor)

	resume := p.Suspend()
	if g, gogc := goal(); gogc != 100 || g >= floor/4 {
		t.Errorf("suspended: heap goal %d MiB, GOGC %d; want GOGC 100's few MiB", g>>20, gogc)
	}
	resume()
	atFloor(t, "resumed", floor)

	live := make([][]byte, 16) // 16 MiB
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	runtime.GC()
	atFloor(t, "16 MiB live", floor)

	// 64 goroutines with 128 KiB of stack each: 8 MiB the collector
	// scans, which GOGC scales as it scales the heap.
	stop := make(chan struct{})
	var ready sync.WaitGroup
	for range 64 {
		ready.Add(1)
		go deep(128, &ready, stop)
	}
	ready.Wait()
	runtime.GC()
	runtime.GC() // the second goal counts the stacks the first scanned
	s := []metrics.Sample{{Name: "/gc/scan/stack:bytes"}}
	metrics.Read(s)
	if got := s[0].Value.Uint64(); got < 4<<20 {
		t.Fatalf("the collector scanned %d KiB of stacks, want 8 MiB", got>>10)
	}
	atFloor(t, "16 MiB live and 8 MiB of stacks", floor)
	close(stop)
	runtime.KeepAlive(live)

	p.Stop()
	if _, gogc := goal(); gogc != 100 {
		t.Errorf("after Stop GOGC = %d, want 100 again", gogc)
	}
}

// deep holds kib KiB of stack until stop is closed.
func deep(kib int, ready *sync.WaitGroup, stop chan struct{}) {
	var pad [1 << 10]byte
	if kib > 1 {
		deep(kib-1, ready, stop)
	} else {
		ready.Done()
		<-stop
	}
	runtime.KeepAlive(&pad)
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
