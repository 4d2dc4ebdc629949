package ratelimit

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ Limiter = (*Redis)(nil)

// Redis is a Limiter that keeps each key's TAT in Redis, so that every node
// using the same Redis counts a key's calls together. The check runs as one
// Lua script, atomic on the server, and reads the server's clock (TIME), so
// the nodes' clocks need not agree. A key expires when its TAT passes: an
// absent key and a passed TAT mean the same, so Redis holds only the keys
// of recent calls.
//
// The Redis key holds the limit as well as the key (see redisKey): nodes
// with the same limit share one count, while a node with another limit,
// such as an override set through its admin API, counts alone. One GCRA
// state read under two limits would let the stricter refuse the other
// node's calls and the looser wipe out what the stricter has counted. A
// node whose limit changes starts a new count under the new limit, so
// loosening takes effect at once; tightening to a new limit lets through
// at most one more burst of it.
//
// Allow fails, rather than guesses, when Redis does not answer; Policy then
// refuses the call with 503. Give the client short timeouts (see
// NewRedis) so that an outage costs each call milliseconds, not seconds.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns a Limiter that counts in Redis through client, under
// keys that start with prefix (such as "profileapi:ratelimit:"), so that
// several services can share one Redis. The client's ReadTimeout,
// WriteTimeout and DialTimeout bound each attempt; around 500ms suits a
// Redis on the same network. Whatever the client's retries, Allow gives
// up after CallTimeout, if the client honours a context's deadline
// (ContextTimeoutEnabled, which ParseRedisURL's options set).
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// CallTimeout bounds one Allow, its retry and its wait for a pooled
// connection included: under load, with Redis away, those would otherwise
// add up to more than a second and a half.
const CallTimeout = 900 * time.Millisecond

// Fail-fast defaults of ParseRedisURL: Redis on the same network answers
// in a millisecond, so half a second without an answer means it is away.
const (
	redisTimeout = 500 * time.Millisecond
	redisRetries = 1
)

// ParseRedisURL parses a redis:// or rediss:// URL as redis.ParseURL does,
// then sets, where the URL does not, timeouts short enough that an outage
// fails a call within about a second instead of five: dial, read, write and
// pool timeouts of 500ms, one retry, one dial attempt, and a context
// deadline honoured.
func ParseRedisURL(url string) (*redis.Options, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	for _, d := range []*time.Duration{&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout} {
		if *d == 0 {
			*d = redisTimeout
		}
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = redisRetries
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1
	}
	opt.ContextTimeoutEnabled = true
	return opt, nil
}

// gcraScript is Memory.Allow in Lua, in microseconds since 2025 (the
// server's clock, TIME). A Lua number is a double: it holds every multiple
// of a sixteenth of a microsecond exactly until 2042, so intervals are
// kept in sixteenths (see Allow) and every sum below is exact. In whole
// microseconds, a rate of 700,000 a second was a million. Every caller of a key passes the same
// interval and tolerance, as the limit is in the key; a TAT further ahead
// than the tolerance is still brought back and kept, in case the server's
// clock stepped back. It returns {1, 0} if the call is allowed,
// else {0, whole microseconds until it would be}.
//
// KEYS[1] the key; ARGV[1] the emission interval; ARGV[2] the tolerance.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1735689600) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then
	tat = now
elseif tat > now + tolerance then
	tat = now + tolerance
	redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX', math.ceil(tolerance / 1000))
end
local nxt = tat + interval
local allow_at = nxt - tolerance
if now < allow_at then
	return {0, math.ceil(allow_at - now)}
end
redis.call('SET', KEYS[1], string.format('%.17g', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, 0}
`)

// maxSpanMicros is maxSpan in microseconds.
const maxSpanMicros = maxSpan / 1000

// Allow counts one call under key against l. An error means Redis could not
// be asked; the call is then neither allowed nor refused.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (bool, time.Duration, error) {
	if l.Unlimited() {
		return true, 0, nil
	}
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > CallTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, CallTimeout)
		defer cancel()
	}
	interval, tolerance := redisGCRA(l)
	res, err := gcraScript.Run(ctx, r.client, []string{r.redisKey(key, l)},
		strconv.FormatFloat(interval, 'g', -1, 64), strconv.FormatFloat(tolerance, 'g', -1, 64)).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("ratelimit: redis: the script returned %v", res)
	}
	if res[0] == 0 {
		return false, time.Duration(res[1]) * time.Microsecond, nil
	}
	return true, 0, nil
}

// redisGCRA returns the script's emission interval and tolerance, in
// microseconds: the interval in whole sixteenths of one, the tolerance
// exactly Burst of them, as in Memory. So Burst calls pass at once, neither
// more nor fewer, and the rate is within half a sixteenth a call of the
// limit's.
func redisGCRA(l Limit) (interval, tolerance float64) {
	interval = math.Max(1, math.Round(math.Min(1e6/l.Rate, maxSpanMicros)*16)) / 16
	return interval, math.Min(interval*float64(max(l.Burst, 1)), maxSpanMicros)
}

// redisKey is where key's count under l is kept: the prefix, the key, the
// limit as "|rate|burst" and the script's clock, such as
// "profileapi:ratelimit:amzn1.ask.skill.x|0.1|1|2025". The rate is written
// in full ('g', shortest exact) and the burst as counted (0 counts as 1), so
// two nodes share a count exactly when they count alike. "|2025" names the
// clock the TAT is kept in: nodes of versions that kept it since 1970 count
// apart, rather than read each other's TAT 55 years off.
func (r *Redis) redisKey(key string, l Limit) string {
	var buf [128]byte // most keys fit: built on the stack, one allocation
	b := append(buf[:0], r.prefix...)
	b = append(b, key...)
	b = append(b, '|')
	b = strconv.AppendFloat(b, l.Rate, 'g', -1, 64)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(max(l.Burst, 1)), 10)
	b = append(b, "|2025"...)
	return string(b)
}

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis: %w", err)
	}
	return nil
}
