package fault_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/fault"
	"github.com/profileapi/profileapi/internal/web"
)

// sleeper records the latencies asked for instead of waiting them out.
type sleeper struct {
	mu    sync.Mutex
	slept []time.Duration
}

func (s *sleeper) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.slept = append(s.slept, d)
	s.mu.Unlock()
	return nil
}

func mustAdd(t *testing.T, inj *fault.Injector, f fault.Fault) fault.Fault {
	t.Helper()
	got, err := inj.Add(f)
	if err != nil {
		t.Fatalf("Add(%+v): %v", f, err)
	}
	return got
}

func TestGuardAnswers(t *testing.T) {
	tests := []struct {
		name       string
		fault      fault.Fault
		status     int
		code       string
		message    string
		retryAfter string
		slept      time.Duration
	}{
		{"429", fault.Fault{Status: 429, RetryAfterSeconds: 7}, 429, "TOO_MANY_REQUESTS", "injected fault f_1", "7", 0},
		{"429 default Retry-After", fault.Fault{Status: 429}, 429, "TOO_MANY_REQUESTS", "injected fault f_1", "1", 0},
		{"503", fault.Fault{Status: 503, RetryAfterSeconds: 30}, 503, "SERVICE_UNAVAILABLE", "injected fault f_1", "30", 0},
		{"500 keeps the generic message", fault.Fault{Status: 500}, 500, "UNKNOWN_ERROR", "an unexpected error occurred", "", 0},
		{"503 after latency", fault.Fault{Status: 503, LatencyMS: 1500}, 503, "SERVICE_UNAVAILABLE", "injected fault f_1", "1", 1500 * time.Millisecond},
		{"latency only", fault.Fault{LatencyMS: 250}, 200, "", "", "", 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sleeper
			inj := &fault.Injector{Sleep: s.Sleep}
			public, _ := newServers(t, inj)
			mustAdd(t, inj, tt.fault)
			r := get(t, public, "Profile.name", skillA, customer1)
			if r.Status != tt.status || r.Error.Code != tt.code || !strings.Contains(r.Error.Message, tt.message) {
				t.Fatalf("%d %s, want %d %s with %q", r.Status, r.Body, tt.status, tt.code, tt.message)
			}
			if got := r.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if tt.status == 200 && r.Body != `{"name":"Ada Lovelace"}` {
				t.Errorf("latency-only fault changed the body: %s", r.Body)
			}
			var want []time.Duration
			if tt.slept > 0 {
				want = []time.Duration{tt.slept}
			}
			if len(s.slept) != len(want) || len(want) == 1 && s.slept[0] != want[0] {
				t.Errorf("slept %v, want %v", s.slept, want)
			}
		})
	}
}

func TestGuardMatching(t *testing.T) {
	inj := &fault.Injector{}
	mustAdd(t, inj, fault.Fault{SkillID: skillA, CustomerID: customer1, Field: "Profile.email", Status: 500}) // f_1
	mustAdd(t, inj, fault.Fault{SkillID: skillA, Field: "Profile.email", Status: 503})                        // f_2
	mustAdd(t, inj, fault.Fault{CustomerID: customer2, Status: 429})                                          // f_3
	mustAdd(t, inj, fault.Fault{Field: "Profile.mobileNumber", Status: 503})                                  // f_4
	guard := inj.Guard()

	tests := []struct {
		skill, customer string
		field           profileapi.Field
		kind            string // "" for no fault
	}{
		{skillA, customer1, profileapi.FieldEmail, profileapi.EINTERNAL},           // f_1, first in creation order
		{skillA, customer2, profileapi.FieldEmail, profileapi.EUNAVAILABLE},        // f_2 before f_3
		{skillB, customer2, profileapi.FieldEmail, profileapi.ERATELIMITED},        // f_3
		{skillB, customer1, profileapi.FieldEmail, ""},                             // none
		{skillA, customer1, profileapi.FieldName, ""},                              // none
		{skillB, customer1, profileapi.FieldMobileNumber, profileapi.EUNAVAILABLE}, // f_4
		{skillB, customer2, profileapi.FieldMobileNumber, profileapi.ERATELIMITED}, // f_3 before f_4
	}
	for _, tt := range tests {
		err := guard(context.Background(), api.Call{Region: profileapi.RegionNA, SkillID: tt.skill, CustomerID: tt.customer, Field: tt.field}, nil)
		if tt.kind == "" {
			if err != nil {
				t.Errorf("%s %s %s: %v, want no fault", tt.skill, tt.customer, tt.field, err)
			}
			continue
		}
		if profileapi.ErrorKind(err) != tt.kind {
			t.Errorf("%s %s %s: %v, want kind %s", tt.skill, tt.customer, tt.field, err, tt.kind)
		}
	}
}

// TestCountExact checks that a fault with a Count hits exactly that many
// calls however many arrive at once, then removes itself.
func TestCountExact(t *testing.T) {
	var injected atomic.Int64
	inj := &fault.Injector{Injected: func(api.Call, fault.Fault) { injected.Add(1) }}
	public, _ := newServers(t, inj)
	mustAdd(t, inj, fault.Fault{Status: 503, Count: 3})

	var unavailable, ok atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				switch r := get(t, public, "Profile.email", skillA, customer1); r.Status {
				case 503:
					unavailable.Add(1)
				case 200:
					ok.Add(1)
				default:
					t.Errorf("unexpected answer %d %s", r.Status, r.Body)
				}
			}
		})
	}
	wg.Wait()
	if unavailable.Load() != 3 || ok.Load() != 37 {
		t.Fatalf("%d calls got the fault and %d did not, want 3 and 37", unavailable.Load(), ok.Load())
	}
	if n := injected.Load(); n != 3 {
		t.Errorf("Injected called %d times, want 3", n)
	}
	if faults := inj.List(); len(faults) != 0 {
		t.Fatalf("a spent fault is still listed: %+v", faults)
	}
}

func TestCountRemaining(t *testing.T) {
	inj := &fault.Injector{}
	f := mustAdd(t, inj, fault.Fault{SkillID: skillA, Status: 429, Count: 2})
	if f.Remaining != 2 {
		t.Fatalf("Remaining = %d after Add, want 2", f.Remaining)
	}
	guard := inj.Guard()
	call := api.Call{SkillID: skillA, CustomerID: customer1, Field: profileapi.FieldName}
	if err := guard(context.Background(), api.Call{SkillID: skillB}, nil); err != nil {
		t.Fatalf("a call that does not match: %v", err)
	}
	if err := guard(context.Background(), call, nil); err == nil {
		t.Fatal("first call: no fault")
	}
	if got := inj.List(); len(got) != 1 || got[0].Remaining != 1 {
		t.Fatalf("after one hit: %+v, want Remaining 1", got)
	}
	if err := guard(context.Background(), call, nil); err == nil {
		t.Fatal("second call: no fault")
	}
	if err := guard(context.Background(), call, nil); err != nil {
		t.Fatalf("third call: %v, want none (spent)", err)
	}
}

// hits runs n matching calls through a fresh injector holding faults and
// returns, for each, the id of the fault injected or "".
func hits(t *testing.T, n int, faults ...fault.Fault) []string {
	t.Helper()
	var got []string
	inj := &fault.Injector{Injected: func(_ api.Call, f fault.Fault) { got = append(got, f.ID) }}
	for _, f := range faults {
		mustAdd(t, inj, f)
	}
	guard := inj.Guard()
	out := make([]string, n)
	for i := range out {
		got = got[:0]
		guard(context.Background(), api.Call{SkillID: skillA, CustomerID: customer1, Field: profileapi.FieldName}, nil)
		if len(got) == 1 {
			out[i] = got[0]
		}
	}
	return out
}

func TestFractionSeeded(t *testing.T) {
	seed := int64(42)
	f := fault.Fault{Status: 503, Fraction: 0.3, Seed: &seed}
	first, second := hits(t, 1000, f), hits(t, 1000, f)
	n := 0
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("call %d: %q then %q with the same seed", i, first[i], second[i])
		}
		if first[i] != "" {
			n++
		}
	}
	if n < 200 || n > 400 {
		t.Fatalf("fraction 0.3 hit %d of 1000 calls", n)
	}
	other := int64(43)
	if third := hits(t, 1000, fault.Fault{Status: 503, Fraction: 0.3, Seed: &other}); equal(first, third) {
		t.Fatal("another seed drew the same calls")
	}
}

// TestFractionFallsThrough checks that a call a fraction spares may still
// get a later fault.
func TestFractionFallsThrough(t *testing.T) {
	seed := int64(7)
	got := hits(t, 200, fault.Fault{Status: 500, Fraction: 0.5, Seed: &seed}, fault.Fault{Status: 429})
	var f1, f2 int
	for _, id := range got {
		switch id {
		case "f_1":
			f1++
		case "f_2":
			f2++
		default:
			t.Fatalf("a call got no fault: %q", id)
		}
	}
	if f1 == 0 || f2 == 0 {
		t.Fatalf("f_1 hit %d and f_2 hit %d calls, want both some", f1, f2)
	}
}

func TestFractionWithCount(t *testing.T) {
	seed := int64(1)
	got := hits(t, 100, fault.Fault{Status: 503, Fraction: 0.5, Count: 4, Seed: &seed})
	n := 0
	for _, id := range got {
		if id != "" {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("count 4 with fraction 0.5 hit %d calls, want 4", n)
	}
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// TestLatencyCancelled checks that the real sleep gives up when the
// request ends, rather than holding it for the whole latency.
func TestLatencyCancelled(t *testing.T) {
	inj := &fault.Injector{}
	mustAdd(t, inj, fault.Fault{LatencyMS: fault.MaxLatencyMS})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := inj.Guard()(ctx, api.Call{SkillID: skillA}, nil)
	if profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled during latency: %v, want EUNAVAILABLE caused by context.Canceled", err)
	}
}

func TestAddValidates(t *testing.T) {
	seed := int64(3)
	tests := []struct {
		name  string
		fault fault.Fault
		ok    bool
	}{
		{"429", fault.Fault{Status: 429}, true},
		{"500", fault.Fault{Status: 500}, true},
		{"503 with everything", fault.Fault{SkillID: skillA, CustomerID: customer1, Field: "Profile.mobileNumber", Status: 503, RetryAfterSeconds: 5, LatencyMS: 100, Count: 2, Fraction: 0.5, Seed: &seed}, true},
		{"latency only", fault.Fault{LatencyMS: fault.MaxLatencyMS}, true},
		{"fraction 1", fault.Fault{Status: 500, Fraction: 1}, true},
		{"nothing to do", fault.Fault{}, false},
		{"status 404", fault.Fault{Status: 404}, false},
		{"status 502", fault.Fault{Status: 502}, false},
		{"latency too long", fault.Fault{LatencyMS: fault.MaxLatencyMS + 1}, false},
		{"negative latency", fault.Fault{Status: 500, LatencyMS: -1}, false},
		{"negative count", fault.Fault{Status: 500, Count: -1}, false},
		{"negative fraction", fault.Fault{Status: 500, Fraction: -0.1}, false},
		{"fraction above 1", fault.Fault{Status: 500, Fraction: 1.5}, false},
		{"retry-after on a 500", fault.Fault{Status: 500, RetryAfterSeconds: 3}, false},
		{"negative retry-after", fault.Fault{Status: 429, RetryAfterSeconds: -3}, false},
		{"unknown operation", fault.Fault{Status: 500, Field: "Profile.address"}, false},
		{"bad skill id", fault.Fault{Status: 500, SkillID: "skill"}, false},
		{"bad customer id", fault.Fault{Status: 500, CustomerID: "amzn1.ask.skill.x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inj := &fault.Injector{}
			f, err := inj.Add(tt.fault)
			if tt.ok && err != nil {
				t.Fatalf("Add: %v", err)
			}
			if !tt.ok && profileapi.ErrorKind(err) != profileapi.EINVALID {
				t.Fatalf("Add = %+v, %v; want EINVALID", f, err)
			}
			if want := 0; !tt.ok && len(inj.List()) != want {
				t.Fatal("a refused fault was added")
			}
		})
	}
}

func TestMaxFaults(t *testing.T) {
	inj := &fault.Injector{}
	for range fault.MaxFaults {
		mustAdd(t, inj, fault.Fault{Status: 500, SkillID: skillB})
	}
	if _, err := inj.Add(fault.Fault{Status: 500}); profileapi.ErrorKind(err) != profileapi.EINVALID {
		t.Fatalf("fault %d: %v, want EINVALID", fault.MaxFaults+1, err)
	}
}

func TestDeleteAndClear(t *testing.T) {
	inj := &fault.Injector{}
	a := mustAdd(t, inj, fault.Fault{Status: 500})
	b := mustAdd(t, inj, fault.Fault{Status: 503})
	if a.ID == b.ID {
		t.Fatalf("two faults share id %s", a.ID)
	}
	if err := inj.Delete(a.ID); err != nil {
		t.Fatal(err)
	}
	if err := inj.Delete(a.ID); !profileapi.IsNotFound(err) {
		t.Fatalf("deleting twice: %v, want ENOTFOUND", err)
	}
	if got := inj.List(); len(got) != 1 || got[0].ID != b.ID {
		t.Fatalf("List after Delete = %+v", got)
	}
	inj.Clear()
	if got := inj.List(); len(got) != 0 {
		t.Fatalf("List after Clear = %+v", got)
	}
	if err := inj.Guard()(context.Background(), api.Call{SkillID: skillA}, nil); err != nil {
		t.Fatalf("a call after Clear: %v", err)
	}
	if c := mustAdd(t, inj, fault.Fault{Status: 500}); c.ID == a.ID || c.ID == b.ID {
		t.Fatalf("an id was reused after Clear: %s", c.ID)
	}
}

// TestGuardNamesTheFault: the fault a call met is an attribute of the
// call's log line, latency-only faults included.
func TestGuardNamesTheFault(t *testing.T) {
	var s sleeper
	inj := &fault.Injector{Sleep: s.Sleep}
	f := mustAdd(t, inj, fault.Fault{SkillID: skillA, LatencyMS: 10})
	var info web.Info
	if err := inj.Guard()(context.Background(), api.Call{SkillID: skillA}, &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Attrs) != 1 || info.Attrs[0].Key != "fault" || info.Attrs[0].Value.String() != f.ID {
		t.Fatalf("attrs %v, want fault=%s", info.Attrs, f.ID)
	}
	info = web.Info{}
	if err := inj.Guard()(context.Background(), api.Call{SkillID: skillB}, &info); err != nil || len(info.Attrs) != 0 {
		t.Fatalf("a call no fault matched: %v, attrs %v", err, info.Attrs)
	}
}

func BenchmarkGuardNoFaults(b *testing.B) {
	guard := (&fault.Injector{}).Guard()
	call := api.Call{SkillID: skillA, CustomerID: customer1, Field: profileapi.FieldName}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			guard(ctx, call, nil)
		}
	})
}

func BenchmarkGuardNoMatch(b *testing.B) {
	inj := &fault.Injector{}
	for range 10 {
		inj.Add(fault.Fault{SkillID: skillB, Status: 503})
	}
	guard := inj.Guard()
	call := api.Call{SkillID: skillA, CustomerID: customer1, Field: profileapi.FieldName}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			guard(ctx, call, nil)
		}
	})
}
