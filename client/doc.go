// Package client is the Go client of the Alexa Customer Profile API: what a
// skill written in Go uses to read the contact information of the customer
// speaking to it, from Amazon's service or from a self-hosted profileapi
// server. It imports only the standard library.
//
// # A client per request
//
// Every request Alexa sends a skill carries, in context.System, the API
// endpoint of the customer's region and a short-lived apiAccessToken for
// this customer and this skill. FromRequest reads both from the request
// envelope:
//
//	c, err := client.FromRequest(body) // body: the JSON Alexa POSTed
//	if err != nil {
//		// not an Alexa request envelope
//	}
//	name, err := c.GivenName(ctx)
//
// New takes the endpoint and token directly, for a skill that decodes the
// envelope itself (System is the context.System part, ready to embed in a
// skill's own types) or for tools and tests. The token expires a few minutes
// after the request, so make a Client per request; it is cheap.
//
// Bound each call with a context: Alexa waits about eight seconds for a
// skill's answer, so a deadline of a few seconds leaves time to reply. The
// context also bounds the retries described below.
//
// # Operations
//
// Each method is one GET of {endpoint}/v2/accounts/~current/settings/… with
// the headers "Authorization: Bearer {token}" and "Accept: application/json",
// and each needs the customer to have granted the skill one scope:
//
//	Method         Setting               Scope (constant)
//	Name           Profile.name          alexa::profile:name:read (ScopeName)
//	GivenName      Profile.givenName     alexa::profile:given_name:read (ScopeGivenName)
//	Email          Profile.email         alexa::profile:email:read (ScopeEmail)
//	MobileNumber   Profile.mobileNumber  alexa::profile:mobile_number:read (ScopeMobileNumber)
//
// The profile is the account's active default profile, which may not be the
// person speaking. A mobile number comes as a PhoneNumber whose PhoneNumber
// may or may not repeat the CountryCode; by itself it is dialable.
//
// # Errors and what a skill should do about them
//
// A response other than 200 is an *APIError (get it with errors.As) with the
// status, the code and message of the error body, the Scope the operation
// needs and the Retry-After. Match the cases a skill handles with errors.Is:
//
//   - ErrPermissionNotGranted (403, reason ACCESS_NOT_REQUESTED): the customer
//     has not granted the scope, or revoked it. Answer with a card of type
//     AskForPermissionsConsent listing the scope (APIError.Scope, or the
//     Scope constant of the method), and tell the customer to grant it in
//     the Alexa app:
//     {"type":"AskForPermissionsConsent","permissions":["alexa::profile:given_name:read"]}
//   - ErrPermissionNotDeclared (403, reason FORBIDDEN): the skill's manifest
//     does not declare the scope, so no customer can grant it. A consent
//     card cannot help; log it as a configuration bug and apologise.
//   - ErrAccessDenied matches both of the above and any other 403; checking
//     it after the two specific ones covers a reason this package does not
//     know yet.
//   - ErrNoValue (204 in alexa wire mode, 404 NOT_FOUND in documented mode):
//     the customer has not filled in the field. Carry on without it, or ask
//     for it by voice.
//   - ErrUnauthorized (401): the token is missing, malformed, expired, or for
//     another region's endpoint. A bug or a stale token, not the customer's
//     doing: log it and apologise.
//   - ErrThrottled (429) and ErrUnavailable (500, 502, 503, 504, or a network
//     failure), once the retries are spent: tell the customer to try again
//     later.
//
// Any other status (400 INVALID_REQUEST, 404 INVALID_KEY, 405, and a
// redirect, which the client never follows: it would resend the token) is
// an *APIError matching none of these: a bug to log. So are a server
// certificate the client does not trust, an endpoint whose host name does
// not exist or that answers https with plain http, and a token or
// User-Agent no header can carry, which fail at once, without a retry.
// Errors are safe to log: they never hold the token (an error body that
// repeats it shows "[token]"), and an APIError keeps of the server's code,
// message and request id only a bounded, sanitized part. A Client printed
// with fmt or logged with log/slog shows no token either; a System, the
// request's own data, does.
// If the context ends first,
// the error wraps ctx.Err() and, if an earlier attempt failed, that failure
// too, so errors.Is(err, ErrUnavailable) still tells why the call was slow.
// An attempt that outlasts the HTTP client's own timeout (10 s by default,
// see WithHTTPClient) is a network failure, ErrUnavailable; net/http's error
// for it also matches context.DeadlineExceeded, so ask ctx.Err() whether
// your own deadline passed.
//
// # Retries
//
// As the API asks, a call retries 429, 500 and 503 (and 502 and 504, which
// proxies answer) with exponential back-off and full jitter: before retry k
// it waits a random duration in [0, min(DefaultBackoffMax, DefaultBackoffBase·2^k)],
// that is up to 100ms, 200ms, 400ms, … capped at 5s. A Retry-After header,
// in seconds or as an HTTP-date, replaces the random wait; one longer than
// the cap ends the retries at once, with the error's RetryAfter saying how
// long the server asked for. A call makes DefaultMaxAttempts (3) attempts at
// most, never waits past its context's deadline (it returns the last error
// instead), and never retries any other 4xx. Network failures are retried
// too: every operation is a GET, so repeating one is safe. WithMaxAttempts
// and WithBackoff change the policy; WithSleep, WithRand and WithClock let
// tests check the schedule without waiting.
//
// # Wire modes
//
// A profileapi server answers in one of two wire modes, and the client reads
// both without being told which:
//
//   - documented: the bodies the API reference shows, {"name":"John Smith"},
//     {"name":"John"} for the given name, {"email":"jsmith@example.com"}, and
//     404 {"code":"NOT_FOUND","message":"…"} for a field with no value.
//   - alexa: what Amazon's service and the official SDKs use, a bare JSON
//     string ("John Smith") for the name, given name and email, and
//     204 No Content for a field with no value.
//
// Both send the mobile number as {"countryCode":"+91","phoneNumber":"7799-82-77-11"}.
//
// # A self-hosted server
//
// A profileapi server's control plane builds request envelopes whose
// apiEndpoint is the server's public address, so a skill under test needs
// no change: FromRequest picks the address up. To call a server directly,
// give its address to New; a path prefix, with or without a trailing slash,
// is kept:
//
//	c := client.New("https://profiles.example.com/alexa", token)
//	// GET https://profiles.example.com/alexa/v2/accounts/~current/settings/Profile.email
//
// EndpointNA, EndpointEU and EndpointFE are Amazon's regional endpoints.
// WithHTTPClient sets the transport (a private CA, a proxy), and
// WithUserAgent the User-Agent.
package client
