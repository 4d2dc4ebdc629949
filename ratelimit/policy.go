package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/web"
)

// Policy decides which limits a public-API call is counted against: its
// skill's limit (Skill, or an override set at run time) and, if Customer is
// set, a limit on each customer's calls to that skill.
//
// Set the exported fields before the first call; overrides may change at
// any time. Policy is safe for concurrent use.
type Policy struct {
	// Limiter counts the calls. Required.
	Limiter Limiter
	// Skill is every skill's limit unless overridden; the zero Limit is
	// unlimited.
	Skill Limit
	// Customer, if not unlimited, also limits each (skill, customer) pair.
	Customer Limit
	// Limited, if set, is called for every call refused, to count it.
	Limited func(c api.Call)
	// Skills, if set, is asked whether a skill exists before the admin
	// API reads or sets its limit: a mistyped id is refused with 404,
	// rather than given a limit no call ever meets. Removing an override
	// needs no skill: one may outlive its skill.
	Skills interface {
		Skill(ctx context.Context, id string) (*profileapi.Skill, error)
	}

	mu        sync.RWMutex
	overrides map[string]Limit
}

// SkillLimit returns the limit of the skill's calls, and whether it is an
// override rather than the default.
func (p *Policy) SkillLimit(skillID string) (Limit, bool) {
	p.mu.RLock()
	l, ok := p.overrides[skillID]
	p.mu.RUnlock()
	if !ok {
		return p.Skill, false
	}
	return l, true
}

// SetSkillLimit overrides the skill's limit; a Rate of 0 lifts it. The
// skill need not exist yet.
func (p *Policy) SetSkillLimit(skillID string, l Limit) error {
	if err := profileapi.ValidateSkillID(skillID); err != nil {
		return err
	}
	if err := l.Validate(); err != nil {
		return err
	}
	if l.Unlimited() {
		l = Limit{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.overrides == nil {
		p.overrides = make(map[string]Limit)
	}
	p.overrides[skillID] = l
	return nil
}

// ResetSkillLimit returns the skill to the default limit.
func (p *Policy) ResetSkillLimit(skillID string) {
	p.mu.Lock()
	delete(p.overrides, skillID)
	p.mu.Unlock()
}

// Guard returns the api.Guard that refuses a call over its limits with
// ERATELIMITED (429 TOO_MANY_REQUESTS) and a RetryAfter. The customer's
// limit is checked first, so a customer over it spends none of the skill's
// budget (a call the skill's limit refuses has spent the customer's,
// though: two counters cannot be checked at once). If the Limiter fails, the call is refused with EUNAVAILABLE
// rather than let through uncounted.
//
// The keys are the skill id, and the skill id and customer id joined by a
// space (ids never contain one).
func (p *Policy) Guard() api.Guard {
	return func(ctx context.Context, c api.Call, _ *web.Info) error {
		if !p.Customer.Unlimited() {
			ok, retry, err := p.Limiter.Allow(ctx, c.SkillID+" "+c.CustomerID, p.Customer)
			if err != nil {
				return profileapi.Unavailable(fmt.Errorf("ratelimit: customer limit: %w", err), time.Second)
			}
			if !ok {
				return p.refuse(c, "this customer's calls to skill "+c.SkillID, p.Customer, retry)
			}
		}
		l, _ := p.SkillLimit(c.SkillID)
		if l.Unlimited() {
			return nil
		}
		ok, retry, err := p.Limiter.Allow(ctx, c.SkillID, l)
		if err != nil {
			return profileapi.Unavailable(fmt.Errorf("ratelimit: skill limit: %w", err), time.Second)
		}
		if !ok {
			return p.refuse(c, "the calls of skill "+c.SkillID, l, retry)
		}
		return nil
	}
}

func (p *Policy) refuse(c api.Call, who string, l Limit, retry time.Duration) error {
	if p.Limited != nil {
		p.Limited(c)
	}
	return &profileapi.Error{
		Kind: profileapi.ERATELIMITED,
		Message: fmt.Sprintf("Permitted rate limit exceeded: %s are limited to %g per second with a burst of %d. Retry the request by using exponential back-off.",
			who, l.Rate, max(l.Burst, 1)),
		RetryAfter: retry,
	}
}
