package ratelimit

import (
	"context"
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a fake time source that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMemoryGCRA(t *testing.T) {
	ctx := context.Background()
	type step struct {
		advance time.Duration
		ok      bool
		retry   time.Duration
	}
	tests := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{"burst then one per interval", Limit{Rate: 2, Burst: 3}, []step{
			{0, true, 0}, {0, true, 0}, {0, true, 0},
			{0, false, 500 * time.Millisecond},
			{499 * time.Millisecond, false, time.Millisecond},
			{time.Millisecond, true, 0},
			{0, false, 500 * time.Millisecond},
		}},
		{"burst refills after idling", Limit{Rate: 10, Burst: 2}, []step{
			{0, true, 0}, {0, true, 0}, {0, false, 100 * time.Millisecond},
			{time.Hour, true, 0}, {0, true, 0}, {0, false, 100 * time.Millisecond},
		}},
		{"burst 0 acts as 1", Limit{Rate: 1, Burst: 0}, []step{
			{0, true, 0}, {0, false, time.Second}, {time.Second, true, 0},
		}},
		{"a refused call costs nothing", Limit{Rate: 1, Burst: 1}, []step{
			{0, true, 0}, {0, false, time.Second}, {0, false, time.Second}, {0, false, time.Second},
			{time.Second, true, 0},
		}},
		{"slow rate", Limit{Rate: 0.5, Burst: 1}, []step{
			{0, true, 0}, {time.Second, false, time.Second}, {time.Second, true, 0},
		}},
		{"unlimited", Limit{}, []step{
			{0, true, 0}, {0, true, 0}, {0, true, 0}, {0, true, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			m := NewMemory(clk.Now)
			for i, s := range tt.steps {
				clk.Add(s.advance)
				ok, retry, err := m.Allow(ctx, "k", tt.limit)
				if err != nil || ok != s.ok || retry != s.retry {
					t.Fatalf("step %d: Allow = %v, %v, %v; want %v, %v, nil", i, ok, retry, err, s.ok, s.retry)
				}
			}
		})
	}
}

// A key counted under one limit and then another (an override set at run
// time) owes the new limit at most its whole burst but one call: loosening
// a limit of a call in 1000 s to one in 2 s takes effect at once, as with
// Redis, and the next call waits 2 s, not the old 1000.
func TestMemoryLimitChanged(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m := NewMemory(clk.Now)
	strict, loose := Limit{Rate: 0.001, Burst: 1}, Limit{Rate: 0.5, Burst: 1}
	steps := []struct {
		limit Limit
		ok    bool
		retry time.Duration
	}{
		{strict, true, 0},
		{strict, false, 1000 * time.Second},
		{loose, true, 0},
		{loose, false, 2 * time.Second},
		{loose, false, 2 * time.Second}, // at a standstill, still 2 s away
	}
	for i, s := range steps {
		if ok, retry, err := m.Allow(ctx, "k", s.limit); err != nil || ok != s.ok || retry != s.retry {
			t.Fatalf("step %d: Allow = %v, %v, %v; want %v, %v, nil", i, ok, retry, err, s.ok, s.retry)
		}
	}
	clk.Add(2 * time.Second)
	if ok, _, _ := m.Allow(ctx, "k", loose); !ok {
		t.Fatal("refused 2 s after the limit was loosened to one call in 2 s")
	}
	// Tightening keeps what was spent, up to the new limit's burst: 10
	// calls of a burst of 10 in a second leave a limit of one a second
	// (a burst of one, as much tolerance) refusing for that second.
	clk.Add(time.Hour)
	for range 10 {
		if ok, _, _ := m.Allow(ctx, "t", Limit{Rate: 10, Burst: 10}); !ok {
			t.Fatal("the burst of 10 was refused")
		}
	}
	if ok, retry, _ := m.Allow(ctx, "t", Limit{Rate: 1, Burst: 1}); ok || retry != time.Second {
		t.Fatalf("after tightening: Allow = %v, %v; want false, 1s", ok, retry)
	}
}

func TestMemoryKeysAreIndependent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(newClock().Now)
	l := Limit{Rate: 1, Burst: 1}
	for _, key := range []string{"a", "b", "c"} {
		if ok, _, _ := m.Allow(ctx, key, l); !ok {
			t.Fatalf("first call of %q refused", key)
		}
	}
	if ok, _, _ := m.Allow(ctx, "a", l); ok {
		t.Fatal("second call of a allowed")
	}
}

// TestMemorySweep checks that keys whose TAT has passed are dropped, so
// memory holds only recently seen keys.
func TestMemorySweep(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m := NewMemory(clk.Now)
	l := Limit{Rate: 1, Burst: 5}
	for i := range 1000 {
		m.Allow(ctx, "key"+strconv.Itoa(i), l)
	}
	if n := m.keys(); n != 1000 {
		t.Fatalf("%d keys held, want 1000", n)
	}
	clk.Add(2 * time.Minute)
	// Touch every shard once so each runs its due sweep.
	touched := map[uint64]bool{}
	fresh := 0
	for len(touched) < shardCount {
		key := "fresh" + strconv.Itoa(fresh)
		touched[maphash.String(m.seed, key)%shardCount] = true
		m.Allow(ctx, key, Limit{Rate: 1, Burst: 1})
		fresh++
	}
	if n := m.keys(); n != fresh {
		t.Fatalf("%d keys held after the sweep, want only the %d fresh ones", n, fresh)
	}
}

// TestMemoryConcurrent checks that parallel calls on one key never let
// through more than the burst.
func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(newClock().Now)
	l := Limit{Rate: 1, Burst: 25}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if ok, _, _ := m.Allow(ctx, "hot", l); ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 25 {
		t.Fatalf("%d calls allowed, want exactly the burst of 25", n)
	}
}

func TestLimitValidate(t *testing.T) {
	tests := []struct {
		limit Limit
		ok    bool
	}{
		{Limit{}, true},
		{Limit{Rate: 0, Burst: 7}, true},
		{Limit{Rate: 5, Burst: 10}, true},
		{Limit{Rate: MinRate, Burst: 1}, true},
		{Limit{Rate: MaxRate, Burst: MaxBurst}, true},
		{Limit{Rate: -1, Burst: 1}, false},
		{Limit{Rate: 5, Burst: 0}, false},
		{Limit{Rate: 5, Burst: -1}, false},
		{Limit{Rate: 0, Burst: -1}, false},
		{Limit{Rate: MinRate / 2, Burst: 1}, false},
		{Limit{Rate: MaxRate * 2, Burst: 1}, false},
		{Limit{Rate: 1, Burst: MaxBurst + 1}, false},
	}
	for _, tt := range tests {
		if err := tt.limit.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok %v", tt.limit, err, tt.ok)
		}
	}
}

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(time.Now)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "amzn1.ask.skill." + strconv.Itoa(i)
	}
	l := Limit{Rate: 1e6, Burst: 1000}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Allow(ctx, keys[i%len(keys)], l)
			i++
		}
	})
}

// At high rates the interval is a fraction of a nanosecond off whole ones:
// a tolerance figured from the uncut interval let hundreds more than Burst
// calls through at once.
func TestMemoryBurstExact(t *testing.T) {
	for _, l := range []Limit{{Rate: 7e5, Burst: 1e6}, {Rate: 3e5, Burst: 1e6}, {Rate: 3, Burst: 7}} {
		m := NewMemory(newClock().Now) // stands still
		allowed := 0
		for {
			ok, _, _ := m.Allow(t.Context(), "k", l)
			if !ok {
				break
			}
			allowed++
		}
		if allowed != l.Burst {
			t.Errorf("%+v: %d calls allowed at once, want %d", l, allowed, l.Burst)
		}
	}
}
