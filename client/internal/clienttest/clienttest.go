// Package clienttest holds what the client's own tests and the tests
// against the real server share: the table of operations, the contract
// both must keep, and a fake server. Like the client, it imports only the
// standard library, so that a module importing the client needs nothing
// more to run its tests.
package clienttest

import (
	"context"
	"errors"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	"github.com/profileapi/profileapi/client"
)

// Op is one method of the Client, with what it reads and needs.
type Op struct {
	Method  string
	Setting string
	Scope   client.Scope
	Read    func(context.Context, *client.Client) (any, error)
	John    any // the value John's profile gives
}

// Ops are the Client's operations: Name, GivenName, Email, MobileNumber,
// in that order.
var Ops = []Op{
	{"Name", "Profile.name", client.ScopeName,
		func(ctx context.Context, c *client.Client) (any, error) { return c.Name(ctx) }, "John Smith"},
	{"GivenName", "Profile.givenName", client.ScopeGivenName,
		func(ctx context.Context, c *client.Client) (any, error) { return c.GivenName(ctx) }, "John"},
	{"Email", "Profile.email", client.ScopeEmail,
		func(ctx context.Context, c *client.Client) (any, error) { return c.Email(ctx) }, "jsmith@example.com"},
	{"MobileNumber", "Profile.mobileNumber", client.ScopeMobileNumber,
		func(ctx context.Context, c *client.Client) (any, error) { return c.MobileNumber(ctx) },
		client.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799-82-77-11"}},
}

// AllScopes are the scopes of every operation.
var AllScopes = []client.Scope{client.ScopeName, client.ScopeGivenName, client.ScopeEmail, client.ScopeMobileNumber}

// sentinels are every Err variable, for checking that an error matches
// exactly the ones it should.
var sentinels = []struct {
	name string
	err  error
}{
	{"ErrAccessDenied", client.ErrAccessDenied},
	{"ErrPermissionNotGranted", client.ErrPermissionNotGranted},
	{"ErrPermissionNotDeclared", client.ErrPermissionNotDeclared},
	{"ErrNoValue", client.ErrNoValue},
	{"ErrUnauthorized", client.ErrUnauthorized},
	{"ErrThrottled", client.ErrThrottled},
	{"ErrUnavailable", client.ErrUnavailable},
}

// CheckSentinels fails unless err matches exactly the sentinels in want.
func CheckSentinels(t *testing.T, err error, want ...error) {
	t.Helper()
	for _, s := range sentinels {
		if got := errors.Is(err, s.err); got != slices.Contains(want, s.err) {
			t.Errorf("errors.Is(%v, %s) = %v, want %v", err, s.name, got, !got)
		}
	}
}

// Scenario is the state one contract case needs: a skill declaring some
// scopes, a customer with a profile who granted the skill some of them, and
// a token for the pair, valid or not.
type Scenario struct {
	Wire     string // "documented" or "alexa"
	Profile  Profile
	Declared []client.Scope
	Granted  []client.Scope
	BadToken bool
}

// NewClientFunc sets a scenario up on some server and returns a Client for
// its customer and skill. FakeClient does it with FakeServer; the tests in
// client/internal/realserver create the skill, the customer, the consent
// and the token through the admin API of a real server started in the
// scenario's wire mode.
type NewClientFunc func(t *testing.T, s Scenario) *client.Client

// FakeClient is a NewClientFunc serving each scenario from a FakeServer of
// its own.
func FakeClient(t *testing.T, s Scenario) *client.Client {
	f := &FakeServer{Wire: s.Wire, Token: "token-of-john", Profile: s.Profile, Declared: s.Declared, Granted: s.Granted}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	token := f.Token
	if s.BadToken {
		token = "forged"
	}
	return client.New(srv.URL, token, client.WithMaxAttempts(1))
}

// RunContract checks every operation, in both wire modes, against the
// consent and profile states the contract distinguishes.
func RunContract(t *testing.T, newClient NewClientFunc) {
	for _, wire := range []string{"documented", "alexa"} {
		for _, o := range Ops {
			others := slices.DeleteFunc(slices.Clone(AllScopes), func(s client.Scope) bool { return s == o.Scope })
			cases := []struct {
				name     string
				scenario Scenario
				want     any     // the value, if no error
				errs     []error // the sentinels the error matches
				code     string  // the error's Code
			}{
				{"value", Scenario{Profile: John, Declared: AllScopes, Granted: AllScopes}, o.John, nil, ""},
				{"only this scope", Scenario{Profile: John, Declared: []client.Scope{o.Scope}, Granted: []client.Scope{o.Scope}}, o.John, nil, ""},
				{"no value", Scenario{Declared: AllScopes, Granted: AllScopes}, nil,
					[]error{client.ErrNoValue}, map[string]string{"documented": "NOT_FOUND", "alexa": ""}[wire]},
				{"not granted", Scenario{Profile: John, Declared: AllScopes, Granted: others}, nil,
					[]error{client.ErrAccessDenied, client.ErrPermissionNotGranted}, "ACCESS_DENIED"},
				{"nothing granted", Scenario{Profile: John, Declared: AllScopes}, nil,
					[]error{client.ErrAccessDenied, client.ErrPermissionNotGranted}, "ACCESS_DENIED"},
				{"not declared", Scenario{Profile: John, Declared: others, Granted: others}, nil,
					[]error{client.ErrAccessDenied, client.ErrPermissionNotDeclared}, "ACCESS_DENIED"},
				{"bad token", Scenario{Profile: John, Declared: AllScopes, Granted: AllScopes, BadToken: true}, nil,
					[]error{client.ErrUnauthorized}, "INVALID_TOKEN"},
			}
			for _, tc := range cases {
				t.Run(wire+"/"+o.Method+"/"+tc.name, func(t *testing.T) {
					tc.scenario.Wire = wire
					c := newClient(t, tc.scenario)
					got, err := o.Read(t.Context(), c)
					CheckSentinels(t, err, tc.errs...)
					if tc.errs == nil {
						if err != nil {
							t.Fatalf("%s: %v", o.Method, err)
						}
						if !reflect.DeepEqual(got, tc.want) {
							t.Errorf("%s = %#v, want %#v", o.Method, got, tc.want)
						}
						return
					}
					apiErr, ok := errors.AsType[*client.APIError](err)
					if !ok {
						t.Fatalf("%s: error %v is not an *APIError", o.Method, err)
					}
					if apiErr.Scope != o.Scope || apiErr.Code != tc.code {
						t.Errorf("APIError Scope, Code = %q, %q, want %q, %q", apiErr.Scope, apiErr.Code, o.Scope, tc.code)
					}
					if !reflect.ValueOf(got).IsZero() {
						t.Errorf("%s returned %#v with the error, want the zero value", o.Method, got)
					}
				})
			}
		}
	}
}
