package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/ratelimit"
)

func TestGuardSkillLimit(t *testing.T) {
	clk := newClock()
	var limited atomic.Int64
	p := &ratelimit.Policy{
		Limiter: ratelimit.NewMemory(clk.Now),
		Skill:   ratelimit.Limit{Rate: 0.5, Burst: 2},
		Limited: func(api.Call) { limited.Add(1) },
	}
	public, _ := newServers(t, p)

	for i := range 2 {
		if r := getName(t, public, skillA, customer1); r.Status != 200 {
			t.Fatalf("call %d within the burst: %d %s", i, r.Status, r.Body)
		}
	}
	// A third call, from another customer of the same skill, is over the
	// skill's limit; another skill is not.
	r := getName(t, public, skillA, customer2)
	if r.Status != 429 || r.Error.Code != "TOO_MANY_REQUESTS" {
		t.Fatalf("over the limit: %d %s, want 429 TOO_MANY_REQUESTS", r.Status, r.Body)
	}
	if got := r.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (one call every 2s)", got)
	}
	if r := getName(t, public, skillB, customer1); r.Status != 200 {
		t.Fatalf("another skill: %d %s", r.Status, r.Body)
	}
	if n := limited.Load(); n != 1 {
		t.Errorf("Limited called %d times, want 1", n)
	}

	clk.Add(2 * time.Second)
	if r := getName(t, public, skillA, customer1); r.Status != 200 {
		t.Fatalf("after waiting out Retry-After: %d %s", r.Status, r.Body)
	}
}

func TestGuardCustomerLimit(t *testing.T) {
	clk := newClock()
	p := &ratelimit.Policy{
		Limiter:  ratelimit.NewMemory(clk.Now),
		Skill:    ratelimit.Limit{Rate: 1, Burst: 3},
		Customer: ratelimit.Limit{Rate: 1, Burst: 1},
	}
	public, _ := newServers(t, p)

	if r := getName(t, public, skillA, customer1); r.Status != 200 {
		t.Fatalf("first call: %d %s", r.Status, r.Body)
	}
	if r := getName(t, public, skillA, customer1); r.Status != 429 || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("second call of one customer: %d %s, Retry-After %q", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	// The customer's refused call spent none of the skill's burst of 3.
	if r := getName(t, public, skillA, customer2); r.Status != 200 {
		t.Fatalf("another customer: %d %s", r.Status, r.Body)
	}
	if r := getName(t, public, skillB, customer1); r.Status != 200 {
		t.Fatalf("the customer on another skill: %d %s", r.Status, r.Body)
	}
	if r := getName(t, public, skillA, customer3); r.Status != 200 {
		t.Fatalf("third customer, third call of the skill: %d %s", r.Status, r.Body)
	}
	if r := getName(t, public, skillA, customer4); r.Status != 429 {
		t.Fatalf("fourth call of the skill: %d %s, want 429", r.Status, r.Body)
	}
}

func TestGuardUnlimitedByDefault(t *testing.T) {
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(newClock().Now)}
	guard := p.Guard()
	for i := range 100 {
		if err := guard(context.Background(), api.Call{SkillID: skillA, CustomerID: customer1}, nil); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

func TestGuardRefusal(t *testing.T) {
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(newClock().Now), Skill: ratelimit.Limit{Rate: 4, Burst: 1}}
	guard := p.Guard()
	call := api.Call{Region: profileapi.RegionNA, SkillID: skillA, CustomerID: customer1, Field: profileapi.FieldEmail}
	if err := guard(context.Background(), call, nil); err != nil {
		t.Fatal(err)
	}
	err := guard(context.Background(), call, nil)
	var e *profileapi.Error
	if !errors.As(err, &e) || e.Kind != profileapi.ERATELIMITED || e.RetryAfter != 250*time.Millisecond {
		t.Fatalf("over the limit: %#v, want ERATELIMITED with RetryAfter 250ms", err)
	}
}

// failing is a Limiter whose store is down.
type failing struct{}

func (failing) Allow(context.Context, string, ratelimit.Limit) (bool, time.Duration, error) {
	return false, 0, errors.New("connection refused")
}

func TestGuardLimiterDown(t *testing.T) {
	p := &ratelimit.Policy{Limiter: failing{}, Skill: ratelimit.Limit{Rate: 1, Burst: 1}}
	public, _ := newServers(t, p)
	r := getName(t, public, skillA, customer1)
	if r.Status != 503 || r.Error.Code != "SERVICE_UNAVAILABLE" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("limiter down: %d %s, want 503 SERVICE_UNAVAILABLE with Retry-After", r.Status, r.Body)
	}
}

func TestPolicyOverrides(t *testing.T) {
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(newClock().Now), Skill: ratelimit.Limit{Rate: 1, Burst: 1}}
	if l, override := p.SkillLimit(skillA); override || l != p.Skill {
		t.Fatalf("SkillLimit before any override = %+v, %v", l, override)
	}
	if err := p.SetSkillLimit(skillA, ratelimit.Limit{Rate: 5, Burst: 10}); err != nil {
		t.Fatal(err)
	}
	if l, override := p.SkillLimit(skillA); !override || l != (ratelimit.Limit{Rate: 5, Burst: 10}) {
		t.Fatalf("SkillLimit after override = %+v, %v", l, override)
	}
	if l, override := p.SkillLimit(skillB); override || l != p.Skill {
		t.Fatalf("another skill's limit changed: %+v, %v", l, override)
	}
	if err := p.SetSkillLimit(skillA, ratelimit.Limit{Rate: 5}); profileapi.ErrorKind(err) != profileapi.EINVALID {
		t.Fatalf("burst 0 with a rate: %v, want EINVALID", err)
	}
	if err := p.SetSkillLimit("not-a-skill", ratelimit.Limit{}); profileapi.ErrorKind(err) != profileapi.EINVALID {
		t.Fatalf("bad skill id: %v, want EINVALID", err)
	}
	p.ResetSkillLimit(skillA)
	if l, override := p.SkillLimit(skillA); override || l != p.Skill {
		t.Fatalf("SkillLimit after reset = %+v, %v", l, override)
	}
}

// TestGuardAllocs keeps the allowed path of a skill limit free of
// allocations: it runs on every public call.
func TestGuardAllocs(t *testing.T) {
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(nil), Skill: ratelimit.Limit{Rate: ratelimit.MaxRate, Burst: ratelimit.MaxBurst}}
	guard := p.Guard()
	call := api.Call{Region: profileapi.RegionNA, SkillID: skillA, CustomerID: customer1, Field: profileapi.FieldName}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { guard(ctx, call, nil) }); n != 0 {
		t.Fatalf("an allowed call allocates %v times, want 0", n)
	}
}

// BenchmarkGuard spreads calls over many skills, each far under its limit,
// so it measures the allowed path.
func BenchmarkGuard(b *testing.B) {
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(time.Now), Skill: ratelimit.Limit{Rate: ratelimit.MaxRate, Burst: ratelimit.MaxBurst}}
	guard := p.Guard()
	calls := make([]api.Call, 1024)
	for i := range calls {
		calls[i] = api.Call{Region: profileapi.RegionNA, SkillID: fmt.Sprintf("amzn1.ask.skill.%d", i), CustomerID: customer1, Field: profileapi.FieldName}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			guard(ctx, calls[i%len(calls)], nil)
			i++
		}
	})
}
