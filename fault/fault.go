// Package fault injects failures into the public API on demand, so a
// skill's developer can watch it meet a 429, a 500, a 503 or a slow answer
// without waiting for the live service to have a bad day.
//
// A Fault names which calls it hits (a skill, a customer, an operation, or
// any), what it does (a status, a delay, or both), and for how long (the
// next N matching calls, a fraction of them, or every one until cleared).
// An Injector holds the faults; its Guard plugs into api.Config and its
// Routes into the admin API.
package fault

import (
	"math"
	"time"

	"github.com/profileapi/profileapi"
)

// Fault is one injected failure.
type Fault struct {
	ID string `json:"id"`
	// SkillID and CustomerID, if set, limit the fault to that skill's or
	// customer's calls; empty matches any.
	SkillID    string `json:"skillId,omitempty"`
	CustomerID string `json:"customerId,omitempty"`
	// Field, if set, limits the fault to one operation, named as in the
	// path: "Profile.email". Empty matches any.
	Field string `json:"operation,omitempty"`
	// Status is the answer: 429, 500 or 503; 0 only delays the call,
	// which is then answered normally.
	Status int `json:"status"`
	// RetryAfterSeconds is the Retry-After of a 429 or 503; 0 lets the
	// server say 1.
	RetryAfterSeconds int `json:"retryAfterSeconds"`
	// LatencyMS delays the answer by that many milliseconds.
	LatencyMS int `json:"latencyMs"`
	// Count, if above 0, injects the fault into that many calls, then
	// removes it; 0 keeps it until deleted.
	Count int `json:"count"`
	// Fraction, if in (0, 1), injects the fault into each matching call
	// with that probability; 0 and 1 mean every matching call.
	Fraction float64 `json:"fraction"`
	// Seed, if set, makes the fraction's draws repeat from run to run.
	Seed      *int64    `json:"seed,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// Remaining is how many more calls a fault with a Count will hit.
	Remaining int `json:"remaining"`
}

// Bounds of a valid Fault.
const (
	// MaxLatencyMS stays under serve's 30 s write timeout, so a delayed
	// call is answered, not cut; Alexa itself waits about 8 s for a skill.
	MaxLatencyMS         = 25_000
	MaxRetryAfterSeconds = 86_400
	// MaxFaults caps how many faults an Injector holds at once.
	MaxFaults = 1000
)

// Validate reports the first problem of a new fault as EINVALID.
func (f Fault) Validate() error {
	switch f.Status {
	case 0, 429, 500, 503:
	default:
		return profileapi.Errorf(profileapi.EINVALID, "status must be 429, 500 or 503, or 0 for latency only; not %d", f.Status)
	}
	if f.LatencyMS < 0 || f.LatencyMS > MaxLatencyMS {
		return profileapi.Errorf(profileapi.EINVALID, "latencyMs must be from 0 to %d", MaxLatencyMS)
	}
	if f.Status == 0 && f.LatencyMS == 0 {
		return profileapi.Errorf(profileapi.EINVALID, "a fault needs a status (429, 500 or 503), a latencyMs, or both")
	}
	if f.RetryAfterSeconds < 0 || f.RetryAfterSeconds > MaxRetryAfterSeconds {
		return profileapi.Errorf(profileapi.EINVALID, "retryAfterSeconds must be from 0 to %d", MaxRetryAfterSeconds)
	}
	if f.RetryAfterSeconds > 0 && f.Status != 429 && f.Status != 503 {
		return profileapi.Errorf(profileapi.EINVALID, "retryAfterSeconds applies only to status 429 or 503")
	}
	if f.Count < 0 {
		return profileapi.Errorf(profileapi.EINVALID, "count must not be negative (0 means until deleted)")
	}
	if math.IsNaN(f.Fraction) || f.Fraction < 0 || f.Fraction > 1 {
		return profileapi.Errorf(profileapi.EINVALID, "fraction must be from 0 to 1 (0 means every matching call)")
	}
	if f.Seed != nil && f.Fraction == 0 {
		// Ignored, it would suggest a sequence that is not there.
		return profileapi.Errorf(profileapi.EINVALID, "seed applies only with a fraction: every matching call gets the fault without one")
	}
	if f.SkillID != "" {
		if err := profileapi.ValidateSkillID(f.SkillID); err != nil {
			return err
		}
	}
	if f.CustomerID != "" {
		if err := profileapi.ValidateCustomerID(f.CustomerID); err != nil {
			return err
		}
	}
	if _, ok := profileapi.ParseField(f.Field); f.Field != "" && !ok {
		return profileapi.Errorf(profileapi.EINVALID, "operation %q is not one of Profile.name, Profile.givenName, Profile.email, Profile.mobileNumber", f.Field)
	}
	return nil
}
