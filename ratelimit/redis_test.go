package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// envRedis names the Redis the tests share, such as redis://127.0.0.1:56379/0.
const envRedis = "PROFILEAPI_TEST_REDIS"

// testRedis returns a client of the shared test Redis and a prefix of the
// test's own. It skips the test if envRedis is unset and fails it if that
// Redis does not answer.
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv(envRedis)
	if url == "" {
		t.Skipf("%s is not set: set it to a Redis URL, such as redis://127.0.0.1:6379/0, to run this test", envRedis)
	}
	return dial(t, url), "profileapi-test:" + randomHex(6) + ":"
}

func dial(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := ParseRedisURL(url)
	if err != nil {
		t.Fatalf("%s: %v", envRedis, err)
	}
	client := redis.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("Redis at %s does not answer: %v", url, err)
	}
	return client
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestRedisGCRA checks the script's arithmetic against the server's clock.
// Calls made at once are microseconds apart, so each retry is within a
// few milliseconds of what Memory would say at a standstill.
func TestRedisGCRA(t *testing.T) {
	client, prefix := testRedis(t)
	r := NewRedis(client, prefix)
	type step struct {
		ok    bool
		retry time.Duration // at most this, and at most 50ms less
	}
	tests := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{"burst then refused", Limit{Rate: 2, Burst: 3}, []step{
			{true, 0}, {true, 0}, {true, 0}, {false, 500 * time.Millisecond}, {false, 500 * time.Millisecond},
		}},
		{"burst 0 acts as 1", Limit{Rate: 1, Burst: 0}, []step{{true, 0}, {false, time.Second}}},
		{"slow rate", Limit{Rate: 0.001, Burst: 2}, []step{{true, 0}, {true, 0}, {false, 1000 * time.Second}}},
		{"fast rate", Limit{Rate: 1e6, Burst: 1}, []step{{true, 0}}},
		// 333333.3125 µs a call, kept with its fraction; a wait rounded up.
		{"a third of a second", Limit{Rate: 3, Burst: 2}, []step{{true, 0}, {true, 0}, {false, 333334 * time.Microsecond}}},
		{"unlimited", Limit{}, []step{{true, 0}, {true, 0}, {true, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := randomHex(4)
			for i, s := range tt.steps {
				ok, retry, err := r.Allow(t.Context(), key, tt.limit)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if ok != s.ok || retry > s.retry || retry < s.retry-50*time.Millisecond {
					t.Fatalf("step %d: Allow = %v, %v; want %v, %v", i, ok, retry, s.ok, s.retry)
				}
			}
		})
	}
}

// The script keeps an interval in sixteenths of a microsecond: sums of
// them are exact for years, so that Burst calls pass at once, and a rate
// is kept to within half a sixteenth a call. Rounded to whole
// microseconds, 700,000 calls a second were a million.
func TestRedisInterval(t *testing.T) {
	for _, rate := range []float64{MaxRate, 7e5, 666_000, 150_000, 3, MinRate} {
		l := Limit{Rate: rate, Burst: MaxBurst}
		interval, tolerance := redisGCRA(l)
		if sixteenths := interval * 16; sixteenths != math.Trunc(sixteenths) || sixteenths < 1 {
			t.Errorf("rate %g: interval %v µs is not whole sixteenths", rate, interval)
		}
		if tolerance != interval*MaxBurst {
			t.Errorf("rate %g: tolerance %v µs, want exactly %d intervals of %v", rate, tolerance, MaxBurst, interval)
		}
		if got := 1e6 / interval; math.Abs(got-rate) > rate*(1.0/32)/interval+1e-9 {
			t.Errorf("rate %g: counted as %g a second", rate, got)
		}
	}
	// The TAT in Redis, too, is a whole number of sixteenths.
	client, prefix := testRedis(t)
	r := NewRedis(client, prefix)
	l := Limit{Rate: 3, Burst: 1}
	if ok, _, err := r.Allow(t.Context(), "k", l); !ok || err != nil {
		t.Fatalf("Allow: %v, %v", ok, err)
	}
	tat, err := client.Get(t.Context(), r.redisKey("k", l)).Float64()
	if err != nil {
		t.Fatal(err)
	}
	now, err := client.Time(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	sinceEpoch := float64(now.Sub(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds())
	if tat*16 != math.Trunc(tat*16) || tat < sinceEpoch || tat > sinceEpoch+333334 {
		t.Errorf("TAT %v µs since 2025, want whole sixteenths within a call's interval after now (%v)", tat, sinceEpoch)
	}
}

// TestRedisLimitChanged: a key counted under one limit and then another
// (an override set at run time) counts apart under each, as the limit is
// in the Redis key. Loosening a limit of a call in 1000 s to one in 2 s
// takes effect at once, and going back to the strict limit finds what was
// spent under it.
func TestRedisLimitChanged(t *testing.T) {
	client, prefix := testRedis(t)
	r := NewRedis(client, prefix)
	strict, loose := Limit{Rate: 0.001, Burst: 1}, Limit{Rate: 0.5, Burst: 1}
	steps := []struct {
		limit Limit
		ok    bool
		retry time.Duration // at most this, and at most 50ms less
	}{
		{strict, true, 0},
		{strict, false, 1000 * time.Second},
		{loose, true, 0},
		{loose, false, 2 * time.Second},
		{strict, false, 1000 * time.Second},
	}
	for i, s := range steps {
		ok, retry, err := r.Allow(t.Context(), "k", s.limit)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if ok != s.ok || retry > s.retry || retry < s.retry-50*time.Millisecond {
			t.Fatalf("step %d: Allow = %v, %v; want %v, %v", i, ok, retry, s.ok, s.retry)
		}
	}
}

// TestRedisKeyExpires checks that a key lives only until its TAT passes,
// under the prefix, the key and the limit.
func TestRedisKeyExpires(t *testing.T) {
	client, prefix := testRedis(t)
	r := NewRedis(client, prefix)
	l := Limit{Rate: 10, Burst: 5} // 100ms a call, 500ms of tolerance
	for range 3 {
		if ok, _, err := r.Allow(t.Context(), "amzn1.ask.skill.x amzn1.ask.account.Y", l); !ok || err != nil {
			t.Fatalf("Allow: %v, %v", ok, err)
		}
	}
	keys, err := client.Keys(t.Context(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := prefix + "amzn1.ask.skill.x amzn1.ask.account.Y|10|5|2025"
	if len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys under the prefix: %q, want [%q]", keys, want)
	}
	ttl, err := client.PTTL(t.Context(), want).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("the key's TTL after 3 calls is %v, want up to 300ms, the TAT", ttl)
	}
}

// TestRedisKey pins the Redis key of a count: a limit written in full, and
// a burst of 0 counted, and keyed, as 1.
func TestRedisKey(t *testing.T) {
	r := NewRedis(nil, "p:")
	tests := []struct {
		key   string
		limit Limit
		want  string
	}{
		{"amzn1.ask.skill.x", Limit{Rate: 0.1, Burst: 1}, "p:amzn1.ask.skill.x|0.1|1|2025"},
		{"amzn1.ask.skill.x", Limit{Rate: 10, Burst: 10}, "p:amzn1.ask.skill.x|10|10|2025"},
		{"amzn1.ask.skill.x", Limit{Rate: 1, Burst: 0}, "p:amzn1.ask.skill.x|1|1|2025"},
		{"amzn1.ask.skill.x amzn1.ask.account.Y", Limit{Rate: MaxRate, Burst: MaxBurst}, "p:amzn1.ask.skill.x amzn1.ask.account.Y|1e+06|1000000|2025"},
		{"amzn1.ask.skill.x", Limit{Rate: 1.0000001, Burst: 1}, "p:amzn1.ask.skill.x|1.0000001|1|2025"},
	}
	for _, tt := range tests {
		if got := r.redisKey(tt.key, tt.limit); got != tt.want {
			t.Errorf("redisKey(%q, %+v) = %q, want %q", tt.key, tt.limit, got, tt.want)
		}
	}
}

// TestRedisSharedByNodes has two nodes, each with its own client, spend
// one skill's budget at once: together they get exactly Burst calls, as
// one node would.
func TestRedisSharedByNodes(t *testing.T) {
	url := os.Getenv(envRedis)
	_, prefix := testRedis(t)
	nodes := []*Redis{NewRedis(dial(t, url), prefix), NewRedis(dial(t, url), prefix)}
	l := Limit{Rate: 0.5, Burst: 10} // one call per 2s: none refills during the test
	const calls = 60
	var allowed, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			ok, retry, err := nodes[i%2].Allow(t.Context(), "amzn1.ask.skill.shared", l)
			switch {
			case err != nil:
				t.Errorf("call %d: %v", i, err)
			case ok:
				allowed.Add(1)
			default:
				refused.Add(1)
				if retry <= 0 || retry > 2*time.Second {
					t.Errorf("call %d: refused with retry after %v, want (0, 2s]", i, retry)
				}
			}
		})
	}
	wg.Wait()
	if allowed.Load() != int32(l.Burst) || refused.Load() != calls-int32(l.Burst) {
		t.Fatalf("%d calls over two nodes: %d allowed, %d refused; want %d allowed", calls, allowed.Load(), refused.Load(), l.Burst)
	}
}

// server is a redis-server of the test's own, which it may kill.
type server struct {
	port int
	cmd  *exec.Cmd
}

// startRedis starts redis-server on port (a free one if 0), without
// persistence. It skips the test if redis-server is not installed and
// envRedis is unset, and fails it if envRedis is set.
func startRedis(t *testing.T, port int) *server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(envRedis) == "" {
			t.Skipf("redis-server is not installed (Debian: apt-get install redis-server), and %s is not set", envRedis)
		}
		t.Fatalf("%s is set, but redis-server, needed to start a server the test can stop, is missing: %v", envRedis, err)
	}
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	s := &server{port: port, cmd: exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", s.addr())
		if err == nil {
			conn.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not start: %v", port, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// failsFast checks that Allow fails, with an error, within limit.
func failsFast(t *testing.T, r *Redis, limit time.Duration) {
	t.Helper()
	for i := range 3 { // a broken pooled connection, then none at all
		start := time.Now()
		ok, _, err := r.Allow(context.Background(), "amzn1.ask.skill.outage", Limit{Rate: 100, Burst: 100})
		took := time.Since(start)
		if err == nil {
			t.Fatalf("call %d: Allow = %v with Redis away, want an error", i, ok)
		}
		if took > limit {
			t.Errorf("call %d: Allow failed after %v, want within %v", i, took, limit)
		}
		t.Logf("call %d: failed after %v: %v", i, took.Round(time.Millisecond), err)
	}
}

// recovers waits for the same limiter to count again.
func recovers(t *testing.T, r *Redis) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, _, err := r.Allow(context.Background(), "amzn1.ask.skill.outage", Limit{Rate: 100, Burst: 100})
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the limiter did not recover: %v, %v", ok, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisOutage kills Redis under a limiter: Allow fails fast, and counts
// again once a new Redis listens on the same port.
func TestRedisOutage(t *testing.T) {
	s := startRedis(t, 0)
	r := NewRedis(dial(t, fmt.Sprintf("redis://%s/0", s.addr())), "outage:")
	if ok, _, err := r.Allow(t.Context(), "amzn1.ask.skill.outage", Limit{Rate: 100, Burst: 100}); !ok || err != nil {
		t.Fatalf("Allow: %v, %v", ok, err)
	}
	s.kill()
	failsFast(t, r, time.Second)
	startRedis(t, s.port)
	recovers(t, r)
}

// TestRedisFrozen stops Redis with SIGSTOP: connections stay open but
// nothing answers, so only the client's timeouts end a call.
func TestRedisFrozen(t *testing.T) {
	s := startRedis(t, 0)
	r := NewRedis(dial(t, fmt.Sprintf("redis://%s/0", s.addr())), "frozen:")
	if ok, _, err := r.Allow(t.Context(), "amzn1.ask.skill.outage", Limit{Rate: 100, Burst: 100}); !ok || err != nil {
		t.Fatalf("Allow: %v, %v", ok, err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	slack := 250 * time.Millisecond
	failsFast(t, r, CallTimeout+slack)

	// Under load, callers also wait for a pooled connection, and each
	// attempt is retried: those added up to 1.6 s before CallTimeout.
	var wg sync.WaitGroup
	var slowest atomic.Int64
	for range 100 {
		wg.Go(func() {
			start := time.Now()
			if _, _, err := r.Allow(context.Background(), "amzn1.ask.skill.outage", Limit{Rate: 100, Burst: 100}); err == nil {
				t.Error("Allow with Redis frozen succeeded")
			}
			took := int64(time.Since(start))
			for old := slowest.Load(); took > old && !slowest.CompareAndSwap(old, took); old = slowest.Load() {
			}
		})
	}
	wg.Wait()
	if took := time.Duration(slowest.Load()); took > CallTimeout+slack {
		t.Errorf("100 calls at once: the slowest failed after %v, want within %v", took, CallTimeout+slack)
	}

	t.Log("a caller's sooner deadline is kept")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := r.Allow(ctx, "amzn1.ask.skill.outage", Limit{Rate: 100, Burst: 100}); err == nil || time.Since(start) > 400*time.Millisecond {
		t.Errorf("Allow with a 100ms deadline: %v after %v, want an error at once", err, time.Since(start))
	}
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	recovers(t, r)
}

func BenchmarkRedisAllow(b *testing.B) {
	url := os.Getenv(envRedis)
	if url == "" {
		b.Skipf("%s is not set", envRedis)
	}
	opt, err := ParseRedisURL(url)
	if err != nil {
		b.Fatal(err)
	}
	client := redis.NewClient(opt)
	defer client.Close()
	r := NewRedis(client, "bench:"+randomHex(4)+":")
	l := Limit{Rate: 1e6, Burst: 1_000_000}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Allow(b.Context(), "amzn1.ask.skill.bench", l); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRedisLimitsCountApart has two nodes count one skill under different
// limits, as when one node's admin API set an override: each counts alone,
// so the stricter limit neither refuses the other node's calls nor is
// loosened by them. A third node with the same limit as the second shares
// its count, as every node does when none has an override.
func TestRedisLimitsCountApart(t *testing.T) {
	url := os.Getenv(envRedis)
	_, prefix := testRedis(t)
	override, dflt := NewRedis(dial(t, url), prefix), NewRedis(dial(t, url), prefix)
	peer := NewRedis(dial(t, url), prefix) // another node on the default
	strict := Limit{Rate: 0.01, Burst: 1}  // one call per 100 s
	loose := Limit{Rate: 0.5, Burst: 5}    // nothing refills during the test
	const skill = "amzn1.ask.skill.override"
	allow := func(what string, r *Redis, l Limit) (bool, time.Duration) {
		t.Helper()
		ok, retry, err := r.Allow(t.Context(), skill, l)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return ok, retry
	}

	if ok, _ := allow("the override's first call", override, strict); !ok {
		t.Fatal("the override's first call was refused")
	}
	for i := range 3 {
		if ok, retry := allow("a default call", dflt, loose); !ok {
			t.Errorf("default call %d, after one call under another node's override: refused for %v", i, retry)
		}
	}
	for i := range 2 {
		if ok, retry := allow("a default call on another node", peer, loose); !ok {
			t.Errorf("call %d on a third node with the default limit: refused for %v", i, retry)
		}
	}
	if ok, retry := allow("a sixth default call", peer, loose); ok || retry <= 0 || retry > 2*time.Second {
		t.Errorf("the sixth call under the default's shared burst of 5: %v, %v; want refused for up to 2s", ok, retry)
	}
	if ok, retry := allow("the override's second call", override, strict); ok || retry < 99*time.Second || retry > 100*time.Second {
		t.Fatalf("the override's second call, after the default's calls: %v, retry %v; want refused for about 100s", ok, retry)
	}
}
