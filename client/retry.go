package client

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryable reports whether another attempt may succeed: 429, 5xx
// unavailability and network failures, never another 4xx. Every operation
// is a GET, so repeating one is safe even if the first reached the server.
func retryable(err error) bool {
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrUnavailable)
}

// delay is the wait before retry k (counting from 0) after err: the
// response's Retry-After if it has one, else full-jitter exponential
// back-off. ok is false when Retry-After asks for longer than the client
// waits at most, which ends the retries.
func (c *Client) delay(k int, err error) (wait time.Duration, ok bool) {
	if apiErr, is := errors.AsType[*APIError](err); is && apiErr.RetryAfter > 0 {
		return apiErr.RetryAfter, apiErr.RetryAfter <= c.backoffMax
	}
	return c.backoff(k), true
}

// backoff draws from [0, min(backoffMax, backoffBase·2^k)].
func (c *Client) backoff(k int) time.Duration {
	ceiling := c.backoffBase
	for i := 0; i < k && ceiling < c.backoffMax; i++ {
		if ceiling > c.backoffMax/2 { // doubling would pass it, or overflow
			ceiling = c.backoffMax
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, c.backoffMax)
	if ceiling <= 0 {
		return 0
	}
	n := int64(ceiling)
	if n < math.MaxInt64 {
		n++ // make the ceiling itself reachable
	}
	return time.Duration(min(max(c.randN(n), 0), int64(ceiling)))
}

// parseRetryAfter reads a Retry-After header (RFC 9110, section 10.2.3):
// delay-seconds or an HTTP-date. It returns 0 when the header is absent,
// malformed or in the past.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if strings.Trim(h, "0123456789") == "" {
		secs, err := strconv.ParseInt(h, 10, 64)
		if err != nil || secs > int64(math.MaxInt64/time.Second) {
			return time.Duration(math.MaxInt64) // absurdly long: still "too long"
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// sleepContext waits for d or until ctx is done, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
