package main

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/profileapi/profileapi"
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

// newTestingTools expects o validated: validate fills in the default bursts.
// The store tells the admin API's fault and limit calls which skills and
// customers exist.
func newTestingTools(o *serveOptions, limiter ratelimit.Limiter, store profileapi.Store) *testingTools {
	m := metrics.New()
	t := &testingTools{
		limits:  &ratelimit.Policy{Limiter: limiter, Skill: o.skillLimit, Customer: o.custLimit, Skills: store},
		faults:  &fault.Injector{Directory: store},
		journal: journal.New(o.journalSize),
		metrics: m,
	}
	t.limits.Limited = func(api.Call) { m.RateLimited() }
	t.faults.Injected = func(_ api.Call, f fault.Fault) { m.FaultInjected(f.Status) }
	return t
}

// validateLimit checks --{who}-rate and --{who}-burst, with the default
// burst of one second's worth filled in unless the burst was given, in
// the flags' terms.
func validateLimit(who string, l *ratelimit.Limit, burstGiven bool) error {
	rate, burst := "--"+who+"-rate", "--"+who+"-burst"
	switch {
	case l.Rate == 0:
		if l.Burst != 0 {
			// The burst applies only above a rate: alone it would do nothing.
			return fmt.Errorf("%s %d needs %s: set %s too, or drop %s", burst, l.Burst, rate, rate, burst)
		}
		return nil
	case !(l.Rate >= ratelimit.MinRate && l.Rate <= ratelimit.MaxRate): // NaN too
		return fmt.Errorf("%s %g: want 0 (unlimited) or from %g to %g requests per second", rate, l.Rate, ratelimit.MinRate, float64(ratelimit.MaxRate))
	case l.Burst == 0 && !burstGiven:
		l.Burst = int(math.Max(1, math.Ceil(l.Rate)))
	case l.Burst < 1 || l.Burst > ratelimit.MaxBurst:
		return fmt.Errorf("%s %d: want from 1 to %d calls above %s (default: one second's worth)", burst, l.Burst, ratelimit.MaxBurst, rate)
	}
	return l.Validate()
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
