package fault

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/web"
)

// Injector holds the faults and injects them into matching calls. Set the
// exported fields before the first call. It is safe for concurrent use.
type Injector struct {
	// Now stamps each fault's CreatedAt; nil means time.Now.
	Now func() time.Time
	// Sleep waits out an injected latency, returning early with an error
	// when ctx is done; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Injected, if set, is called for every fault injected, to count it.
	Injected func(c api.Call, f Fault)
	// Directory, if set, is asked whether the skill and the customer that
	// a fault added through the admin API names exist: a mistyped id is
	// refused with 404, rather than made a fault that never fires, and a
	// test of a skill's error handling that passes without testing it.
	Directory interface {
		Skill(ctx context.Context, id string) (*profileapi.Skill, error)
		Customer(ctx context.Context, id string) (*profileapi.Customer, error)
	}

	mu     sync.Mutex
	faults []*entry // in creation order
	lastID int
	// n mirrors len(faults), so calls skip the lock when there are none.
	n atomic.Int64
}

// entry is a fault with what matching needs parsed once.
type entry struct {
	Fault
	field profileapi.Field
	rng   *rand.Rand // nil unless seeded
}

// Add validates f and starts injecting it. Only the fields a caller may
// choose are read; ID, CreatedAt and Remaining are set here.
func (i *Injector) Add(f Fault) (Fault, error) {
	if err := f.Validate(); err != nil {
		return Fault{}, err
	}
	e := &entry{Fault: f}
	e.field, _ = profileapi.ParseField(f.Field)
	if f.Seed != nil {
		seed := *f.Seed
		e.Seed = &seed
		e.rng = rand.New(rand.NewPCG(uint64(seed), 0))
	}
	e.CreatedAt = i.now().UTC().Truncate(time.Millisecond) // as every time of the admin API
	e.Remaining = f.Count
	i.mu.Lock()
	defer i.mu.Unlock()
	if len(i.faults) >= MaxFaults {
		return Fault{}, profileapi.Errorf(profileapi.EINVALID, "there are already %d faults, the most there may be; delete some first", MaxFaults)
	}
	i.lastID++
	e.ID = "f_" + strconv.Itoa(i.lastID)
	i.faults = append(i.faults, e)
	i.n.Store(int64(len(i.faults)))
	return e.snapshot(), nil
}

// List returns the faults in creation order.
func (i *Injector) List() []Fault {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := make([]Fault, len(i.faults))
	for k, e := range i.faults {
		out[k] = e.snapshot()
	}
	return out
}

// Delete removes the fault; ENOTFOUND if there is none with that id (a
// fault with a Count removes itself once spent).
func (i *Injector) Delete(id string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	for k, e := range i.faults {
		if e.ID == id {
			i.remove(k)
			return nil
		}
	}
	return profileapi.Errorf(profileapi.ENOTFOUND, "there is no fault %q; it may have been used up or cleared", id)
}

// Clear removes every fault.
func (i *Injector) Clear() {
	i.mu.Lock()
	i.faults = nil
	i.n.Store(0)
	i.mu.Unlock()
}

// remove drops the k-th fault. The caller holds i.mu.
func (i *Injector) remove(k int) {
	i.faults = slices.Delete(i.faults, k, k+1)
	i.n.Store(int64(len(i.faults)))
}

// Guard returns the api.Guard that injects faults. For each call it takes
// the first fault, in creation order, that matches the call and fires (a
// fault with a Fraction may not); a fault with a Count is spent there, so
// N calls get it however many arrive at once. It then waits out the
// fault's latency and answers with its status:
//
//	429 → ERATELIMITED (TOO_MANY_REQUESTS) with Retry-After
//	503 → EUNAVAILABLE (SERVICE_UNAVAILABLE) with Retry-After
//	500 → EINTERNAL (UNKNOWN_ERROR)
//	0   → nothing: the call goes on, only later
//
// The message names the fault ("injected fault f_3") so the developer can
// tell it from a real failure; a 500's message is replaced by the generic
// one on the wire, but the id is in the log line.
func (i *Injector) Guard() api.Guard {
	return func(ctx context.Context, c api.Call, info *web.Info) error {
		if i.n.Load() == 0 {
			return nil
		}
		f, ok := i.pick(c)
		if !ok {
			return nil
		}
		if i.Injected != nil {
			i.Injected(c, f)
		}
		info.AddAttrs(slog.String("fault", f.ID))
		if f.LatencyMS > 0 {
			if err := i.sleep(ctx, time.Duration(f.LatencyMS)*time.Millisecond); err != nil {
				return &profileapi.Error{Kind: profileapi.EUNAVAILABLE,
					Message: fmt.Sprintf("injected fault %s: the request ended during the injected latency", f.ID), Err: err}
			}
		}
		retry := time.Duration(f.RetryAfterSeconds) * time.Second
		switch f.Status {
		case 429:
			return &profileapi.Error{Kind: profileapi.ERATELIMITED, RetryAfter: retry,
				Message: fmt.Sprintf("injected fault %s: Permitted rate limit exceeded. Retry the request by using exponential back-off.", f.ID)}
		case 503:
			return &profileapi.Error{Kind: profileapi.EUNAVAILABLE, RetryAfter: retry,
				Message: fmt.Sprintf("injected fault %s: the service is temporarily unavailable, retry later", f.ID)}
		case 500:
			return &profileapi.Error{Kind: profileapi.EINTERNAL, Message: "injected fault " + f.ID}
		}
		return nil
	}
}

// pick finds the fault to inject into c, spending one of its Count.
func (i *Injector) pick(c api.Call) (Fault, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for k, e := range i.faults {
		if !e.matches(c) || !e.fires() {
			continue
		}
		if e.Count > 0 {
			e.Remaining--
			if e.Remaining == 0 {
				i.remove(k)
			}
		}
		return e.snapshot(), true
	}
	return Fault{}, false
}

func (e *entry) matches(c api.Call) bool {
	return (e.SkillID == "" || e.SkillID == c.SkillID) &&
		(e.CustomerID == "" || e.CustomerID == c.CustomerID) &&
		(e.field == 0 || e.field == c.Field)
}

// fires draws whether a fault with a Fraction hits this call. The caller
// holds the Injector's lock, which also guards a seeded e.rng.
func (e *entry) fires() bool {
	if e.Fraction == 0 || e.Fraction >= 1 {
		return true
	}
	if e.rng != nil {
		return e.rng.Float64() < e.Fraction
	}
	return rand.Float64() < e.Fraction
}

// snapshot copies the fault out from under the lock, seed included.
func (e *entry) snapshot() Fault {
	f := e.Fault
	if f.Seed != nil {
		seed := *f.Seed
		f.Seed = &seed
	}
	return f
}

func (i *Injector) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

func (i *Injector) sleep(ctx context.Context, d time.Duration) error {
	if i.Sleep != nil {
		return i.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
