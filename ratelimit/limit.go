// Package ratelimit refuses public-API calls over a skill's rate limit, as
// the live service answers 429 TOO_MANY_REQUESTS, so a skill's back-off can
// be tested.
//
// Limits are counted with GCRA, the generic cell rate algorithm: one
// timestamp per key (the theoretical arrival time, TAT) instead of a token
// bucket's count and refill time, so a check is a compare and a store, and
// the same arithmetic runs unchanged in a shared store such as Redis. The
// Limiter interface is the seam for that; Memory counts in this process.
//
// A Policy decides which limit applies to a call: a default for every
// skill, overrides per skill set at run time over the admin API, and an
// optional limit per customer of a skill. Its Guard plugs into api.Config.
package ratelimit

import (
	"context"
	"math"
	"time"

	"github.com/profileapi/profileapi"
)

// Limit is a sustained rate with a burst: Burst calls may arrive at once,
// then one every 1/Rate seconds. A Rate of 0 means unlimited.
type Limit struct {
	Rate  float64 // calls per second
	Burst int
}

// Bounds of a valid Limit. They keep the GCRA arithmetic, in nanoseconds,
// far from int64 overflow.
const (
	MinRate  = 0.001 // one call in about 17 minutes
	MaxRate  = 1e6
	MaxBurst = 1_000_000
)

// Unlimited reports whether l lets every call through.
func (l Limit) Unlimited() bool { return !(l.Rate > 0) }

// Validate reports, as EINVALID, a limit that is neither unlimited (Rate 0)
// nor a rate in [MinRate, MaxRate] with a Burst in [1, MaxBurst].
func (l Limit) Validate() error {
	switch {
	case math.IsNaN(l.Rate) || l.Rate < 0:
		return profileapi.Errorf(profileapi.EINVALID, "ratePerSecond must be 0 (unlimited) or a positive number")
	case l.Rate == 0:
		if l.Burst < 0 {
			return profileapi.Errorf(profileapi.EINVALID, "burst must not be negative")
		}
		return nil
	case l.Rate < MinRate || l.Rate > MaxRate:
		return profileapi.Errorf(profileapi.EINVALID, "ratePerSecond must be 0 (unlimited) or from %g to %g", MinRate, float64(MaxRate))
	case l.Burst < 1 || l.Burst > MaxBurst:
		return profileapi.Errorf(profileapi.EINVALID, "burst must be from 1 to %d when ratePerSecond is above 0", MaxBurst)
	}
	return nil
}

// maxSpan caps GCRA's intervals (about 36 years) so that a limit that was
// never validated cannot overflow int64 nanoseconds.
const maxSpan = float64(1 << 60)

// gcra returns the emission interval (the time one call costs) and the
// tolerance (how far ahead of now the TAT may run) in nanoseconds.
// The tolerance is exactly Burst whole intervals: from the interval before
// it was cut to whole nanoseconds, it let through hundreds more than Burst
// calls at once at high rates.
func (l Limit) gcra() (interval, tolerance int64) {
	interval = int64(math.Min(float64(time.Second)/l.Rate, maxSpan))
	return interval, int64(math.Min(float64(interval)*float64(max(l.Burst, 1)), maxSpan))
}

// Limiter counts calls per key. Allow reports whether one more call under
// key fits the limit and, if not, how long until it would. An error means
// the count could not be kept (a shared store is down), not a refusal.
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) (ok bool, retryAfter time.Duration, err error)
}
