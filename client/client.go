package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// The regional endpoints of the live Customer Profile API. A skill should use
// the endpoint its request names (context.System.apiEndpoint, which FromRequest
// reads) rather than pick one of these; they are for tools and tests.
const (
	EndpointNA = "https://api.amazonalexa.com"    // North America
	EndpointEU = "https://api.eu.amazonalexa.com" // Europe
	EndpointFE = "https://api.fe.amazonalexa.com" // Far East
)

// The defaults of the retry policy; see WithMaxAttempts and WithBackoff.
const (
	DefaultMaxAttempts = 3
	DefaultBackoffBase = 100 * time.Millisecond
	DefaultBackoffMax  = 5 * time.Second
)

// maxBodySize caps what the client reads of a response: the largest real
// answer is a few hundred bytes.
const maxBodySize = 64 << 10

// defaultHTTPClient shares http.DefaultTransport's connection pool; its
// timeout bounds every attempt, whatever the caller's context allows.
var defaultHTTPClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: refuseRedirect}

// refuseRedirect keeps a redirect from being followed: the API answers
// none, and net/http would send the Bearer token on to the same host name
// even over plain http. The 3xx is then an *APIError.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Client reads one customer's profile with one apiAccessToken. Create it
// with New or FromRequest; it is safe for concurrent use. A token lives for
// a few minutes, so a skill makes a Client per request rather than keeping one.
type Client struct {
	endpoint    *url.URL
	endpointErr error
	token       string

	httpClient  *http.Client
	userAgent   string
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	sleep       func(context.Context, time.Duration) error
	randN       func(int64) int64
	now         func() time.Time
}

// Option changes a Client's defaults; pass options to New or FromRequest.
type Option func(*Client)

// New returns a Client that calls the API at endpoint (such as EndpointNA,
// the apiEndpoint of a skill request, or a self-hosted server's address,
// which may carry a path prefix) with token as the Bearer credential.
//
// New does not fail: an endpoint that is not an absolute http or https URL
// makes every call return an error saying so.
func New(endpoint, token string, opts ...Option) *Client {
	c := &Client{
		token:       token,
		httpClient:  defaultHTTPClient,
		userAgent:   defaultUserAgent(),
		maxAttempts: DefaultMaxAttempts,
		backoffBase: DefaultBackoffBase,
		backoffMax:  DefaultBackoffMax,
		sleep:       sleepContext,
		randN:       rand.Int64N,
		now:         time.Now,
	}
	c.endpoint, c.endpointErr = parseEndpoint(endpoint)
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// WithHTTPClient makes the Client send its requests through hc, for its
// transport, proxy, cookie or TLS settings; nil restores the default, which
// has a 10-second timeout per attempt and shares http.DefaultTransport.
// Whatever hc's CheckRedirect, the Client follows no redirect: the API
// answers none, and following one could hand the token to another server.
// The Client keeps a copy of hc, made when New applies the option: it
// shares hc's Transport and Jar, but later changes to hc's fields (its
// Timeout, say) do not reach it.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc == nil || hc == defaultHTTPClient {
			c.httpClient = defaultHTTPClient
			return
		}
		own := *hc // hc's transport and jar, shared; not its redirect policy
		own.CheckRedirect = refuseRedirect
		c.httpClient = &own
	}
}

// WithUserAgent sets the User-Agent header; the empty string restores the
// default, "profileapi-go-client/<module version> (+https://github.com/profileapi/profileapi)".
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		c.userAgent = ua
		if ua == "" {
			c.userAgent = defaultUserAgent()
		}
	}
}

// WithMaxAttempts bounds how many requests one call makes, the first one
// included; 1 turns retrying off. Values below 1 count as 1. The default is
// DefaultMaxAttempts.
func WithMaxAttempts(n int) Option {
	return func(c *Client) { c.maxAttempts = max(n, 1) }
}

// WithBackoff sets the retry schedule: before retry k (counting from 0) the
// client waits a random duration between 0 and min(maxWait, base·2^k) ("full
// jitter"). maxWait is also the longest Retry-After the client honours: a
// longer one ends the retries at once. Negative values count as 0, and a
// maxWait below base is raised to base. The defaults are DefaultBackoffBase
// and DefaultBackoffMax.
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *Client) {
		// Into the Client only: an Option may be applied by many
		// goroutines at once (one Client per skill request).
		b := max(base, 0)
		c.backoffBase, c.backoffMax = b, max(maxWait, b)
	}
}

// WithSleep replaces how the client waits between attempts. sleep must
// return early with a non-nil error, normally ctx.Err(), when ctx is done;
// any error it returns ends the retries. Tests use it to record the back-off
// schedule without waiting; nil restores the default timer.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		c.sleep = sleep
		if sleep == nil {
			c.sleep = sleepContext
		}
	}
}

// WithRand replaces the source of the back-off jitter: randN(n) must return
// a uniformly random value in [0, n), as math/rand/v2.Int64N does, and be
// safe for concurrent use if the Client is shared. Tests use it to make the
// schedule deterministic; nil restores math/rand/v2.Int64N.
func WithRand(randN func(n int64) int64) Option {
	return func(c *Client) {
		c.randN = randN
		if randN == nil {
			c.randN = rand.Int64N
		}
	}
}

// WithClock replaces the clock the client reads to turn a Retry-After date
// into a wait and to tell whether a wait would outlast the context's
// deadline; nil restores time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		c.now = now
		if now == nil {
			c.now = time.Now
		}
	}
}

// parseEndpoint accepts an absolute http or https URL. Its path, with or
// without a trailing slash, becomes the prefix of every request path.
func parseEndpoint(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("client: no endpoint: want an absolute URL such as " + EndpointNA)
	}
	// The errors do not repeat the endpoint: one given in the token's
	// place, or with a password in it, would end up in the skill's logs.
	const want = "want an absolute http or https URL such as " + EndpointNA
	u, err := url.Parse(s)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL url.Error repeats
		}
		return nil, fmt.Errorf("client: the endpoint is no URL (%w): %s", err, want)
	}
	switch {
	case u.Scheme == "":
		return nil, errors.New("client: the endpoint has no scheme: " + want)
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, errors.New("client: the endpoint's scheme is not http or https: " + want)
	case u.Hostname() == "":
		return nil, errors.New("client: the endpoint has no host name: " + want)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// get reads one setting, retrying what the contract says to retry, and
// returns the body of its 200 response.
func (c *Client) get(ctx context.Context, op operation) ([]byte, error) {
	if c.endpoint == nil {
		if c.endpointErr != nil {
			return nil, c.endpointErr
		}
		return nil, errors.New("client: the zero Client has no endpoint: use New or FromRequest")
	}
	target := c.endpoint.JoinPath("v2", "accounts", "~current", "settings", op.setting).String()
	// net/http refuses such a header only when sending, with an error no
	// retry can cure: say so at once, not as an unavailable service.
	if !validHeaderValue(c.token) {
		return nil, fmt.Errorf("client: %s: the token has a control character, which no header can carry", op.setting)
	}
	if t := strings.TrimLeft(c.token, " \t"); len(t) > 6 && strings.EqualFold(t[:6], "Bearer") && (t[6] == ' ' || t[6] == '\t') {
		// Sent as "Bearer Bearer …", which the server refuses as a bad
		// token: say what is wrong instead.
		return nil, fmt.Errorf("client: %s: give the token without its \"Bearer \" prefix: the client adds it", op.setting)
	}
	if !validHeaderValue(c.userAgent) {
		return nil, fmt.Errorf("client: %s: the User-Agent %q has a control character, which no header can carry", op.setting, c.userAgent)
	}

	var last error // the failure of the previous attempt, if any
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return nil, stopped(ctx, op, last)
		}
		body, err := c.attempt(ctx, target, op)
		if err == nil {
			return body, nil
		}
		if _, answered := errors.AsType[*APIError](err); !answered && ctx.Err() != nil {
			return nil, stopped(ctx, op, last) // the context cut the attempt short
		}
		if !retryable(err) || attempt >= c.maxAttempts {
			return nil, err
		}
		wait, ok := c.delay(attempt-1, err)
		if !ok {
			return nil, err
		}
		// Waiting past the deadline only to fail with the context's error
		// would leave the caller less time and less information.
		if deadline, has := ctx.Deadline(); has && c.now().Add(wait).After(deadline) {
			return nil, err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("client: %s: %w (after: %w)", op.setting, serr, err)
		}
		last = err
	}
}

// stopped is the error of a call whose context ended, keeping the previous
// attempt's failure so that the caller still learns, say, that the service
// was unavailable.
func stopped(ctx context.Context, op operation, last error) error {
	if last == nil {
		return fmt.Errorf("client: %s: %w", op.setting, ctx.Err())
	}
	return fmt.Errorf("client: %s: %w (after: %w)", op.setting, ctx.Err(), last)
}

// attempt makes one request. It returns the body of a 200 response, an
// *APIError for any other status, or a network failure wrapping
// ErrUnavailable.
func (c *Client) attempt(ctx context.Context, target string, op operation) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", op.setting, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		// No retry cures these, and they are no outage: a setting to fix.
		if untrusted(err) {
			return nil, fmt.Errorf("client: %s: the server's certificate is not trusted (trust its CA: see SSL_CERT_FILE): %w", op.setting, err)
		}
		if misconfigured(err) {
			return nil, fmt.Errorf("client: %s: check the endpoint: %w", op.setting, err)
		}
		return nil, fmt.Errorf("client: %s: %w: %w", op.setting, ErrUnavailable, err)
	}
	defer drainAndClose(resp.Body)

	body, err := readBody(resp.Body)
	switch {
	case errors.Is(err, errBodyTooLarge):
		if resp.StatusCode == http.StatusOK {
			return nil, fmt.Errorf("client: %s: %w", op.setting, err)
		}
		// An error body too large to read still leaves the status.
		return nil, newAPIError(resp, nil, op.scope, c.now(), c.token)
	case err != nil:
		// The connection broke mid-body, whatever the status: worth
		// another try, and a cut error body's code and reason are lost.
		// The status code, not the server's own status line: its reason
		// phrase is the server's text, which errors do not carry.
		return nil, fmt.Errorf("client: %s: read %d %s response: %w: %w", op.setting, resp.StatusCode, http.StatusText(resp.StatusCode), ErrUnavailable, err)
	case resp.StatusCode == http.StatusOK:
		return body, nil
	}
	return nil, newAPIError(resp, body, op.scope, c.now(), c.token)
}

// untrusted reports whether err is a failure to verify the server's
// certificate: a configuration to fix, not a network failure.
func untrusted(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	_, unknown := errors.AsType[x509.UnknownAuthorityError](err)
	_, host := errors.AsType[x509.HostnameError](err)
	_, invalid := errors.AsType[x509.CertificateInvalidError](err)
	return unknown || host || invalid
}

// misconfigured reports whether err says the endpoint is wrong: a host name
// that does not exist, or an https endpoint on a port that speaks plain
// http (net/http says so only in its error's text).
func misconfigured(err error) bool {
	if dns, ok := errors.AsType[*net.DNSError](err); ok && dns.IsNotFound {
		return true
	}
	return strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// validHeaderValue reports whether net/http would send s as a header
// value: no control bytes but horizontal tab (RFC 9110, section 5.5).
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// errBodyTooLarge reports a response over maxBodySize.
var errBodyTooLarge = fmt.Errorf("response body over %d KiB", maxBodySize>>10)

func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBodySize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBodySize {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// drainAndClose reads what is left of a body, up to a bound, so that the
// connection goes back to the pool instead of being torn down.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxBodySize))
	_ = body.Close()
}

// modulePath names this module in build information and the User-Agent.
const modulePath = "github.com/profileapi/profileapi"

var defaultUserAgent = sync.OnceValue(func() string {
	return "profileapi-go-client/" + moduleVersion() + " (+https://" + modulePath + ")"
})

// moduleVersion is the version of this module linked into the binary, so
// the User-Agent cannot fall behind a release.
func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	version := ""
	if info.Main.Path == modulePath {
		version = info.Main.Version
	}
	for _, dep := range info.Deps {
		if dep.Path == modulePath {
			version = dep.Version
			if dep.Replace != nil && dep.Replace.Version != "" {
				version = dep.Replace.Version
			}
		}
	}
	if version == "" || version == "(devel)" {
		return "devel"
	}
	return version
}

// String describes the client by its endpoint, never its token. The
// methods are on the value, so that a Client held by value prints no token
// either.
func (c Client) String() string {
	if c.endpoint == nil {
		return "client.Client{endpoint: invalid}"
	}
	return "client.Client{endpoint: " + c.endpoint.Redacted() + "}"
}

// Format prints String for every verb, so that printing a Client, or a
// struct holding one, with %v, %+v or %#v shows no token.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue logs the client by its endpoint, never its token.
func (c Client) LogValue() slog.Value {
	if c.endpoint == nil {
		return slog.StringValue("invalid endpoint")
	}
	return slog.GroupValue(slog.String("endpoint", c.endpoint.Redacted()))
}
