package main

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/fault"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/journal"
	"github.com/profileapi/profileapi/metrics"
	"github.com/profileapi/profileapi/ratelimit"
)

// testingTools are what a skill developer tests error handling with: rate
// limits, injected faults, the request journal and metrics.
type testingTools struct {
	limits  *ratelimit.Policy
	faults  *fault.Injector
	journal *journal.Journal
	metrics *metrics.Metrics
}

func newTestingTools(o *serveOptions, limiter ratelimit.Limiter) (*testingTools, error) {
	for name, l := range map[string]*ratelimit.Limit{"--skill": &o.skillLimit, "--customer": &o.custLimit} {
		if l.Rate > 0 && l.Burst == 0 {
			l.Burst = int(math.Max(1, math.Ceil(l.Rate)))
		}
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("%s-rate/%s-burst: %w", name, name, err)
		}
	}
	if o.journalSize < 1 {
		return nil, fmt.Errorf("--journal-size must be at least 1")
	}
	m := metrics.New()
	t := &testingTools{
		limits:  &ratelimit.Policy{Limiter: limiter, Skill: o.skillLimit, Customer: o.custLimit},
		faults:  &fault.Injector{},
		journal: journal.New(o.journalSize),
		metrics: m,
	}
	t.limits.Limited = func(api.Call) { m.RateLimited() }
	t.faults.Injected = func(_ api.Call, f fault.Fault) { m.FaultInjected(f.Status) }
	return t, nil
}

// guards: the rate limit first, as on the live service every call counts
// against it, then injected faults.
func (t *testingTools) guards() []api.Guard {
	return []api.Guard{t.limits.Guard(), t.faults.Guard()}
}

func (t *testingTools) done(r *http.Request, c api.Call, info *web.Info, d time.Duration) {
	t.metrics.Done(r, c, info, d)
	t.journal.Done(r, c, info, d)
}

func (t *testingTools) routes(mux *web.Mux, auth func(http.Handler) http.Handler) {
	t.limits.Routes(mux, auth)
	t.faults.Routes(mux, auth)
	t.journal.Routes(mux, auth)
	// Metrics hold no ids or personal data; scrapers need no key.
	mux.Handle("GET /metrics", t.metrics.Handler())
}
