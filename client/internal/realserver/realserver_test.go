// Package realserver_test runs the client against the whole profileapi
// server in process. These tests live here, not in client/, so that a
// module importing the client needs none of the server's dependencies:
// go mod tidy keeps what the tests of every imported package need, and a
// test in client/ importing the server would pull it all into each
// skill's go.sum.
package realserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/client"
	"github.com/profileapi/profileapi/client/internal/clienttest"
	"github.com/profileapi/profileapi/fault"
	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/ratelimit"
)

const realAdminKey = "client-test-admin-key-0123456789"

// realServer is the whole profileapi server in process: the public API on
// a real listener, the admin API beside it, a real SQLite file, and the
// server's own rate limits and fault injection.
type realServer struct {
	public, admin string
	faults        *fault.Injector
	limits        *ratelimit.Policy
	seq           atomic.Int64
}

func startReal(t testing.TB, wire api.Wire) *realServer {
	t.Helper()
	rs := &realServer{
		faults: &fault.Injector{},
		limits: &ratelimit.Policy{Limiter: ratelimit.NewMemory(nil)},
	}
	s := servertest.Start(t, servertest.Options{
		Wire: wire, AdminKey: realAdminKey,
		Guards: []api.Guard{rs.limits.Guard(), rs.faults.Guard()},
	})
	rs.public, rs.admin = s.URL, s.AdminURL
	return rs
}

func (rs *realServer) call(t testing.TB, method, path string, body any) []byte {
	t.Helper()
	b, _ := json.Marshal(body)
	r := servertest.Do(t, method, rs.admin+path, realAdminKey, string(b))
	if r.Status >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	return []byte(r.Body)
}

// envelope sets the scenario up through the admin API and returns the
// LaunchRequest the skill would receive.
func (rs *realServer) envelope(t testing.TB, s clienttest.Scenario) []byte {
	n := rs.seq.Add(1)
	skill := fmt.Sprintf("amzn1.ask.skill.client%d", n)
	cust := fmt.Sprintf("amzn1.ask.account.CLIENT%d", n)
	scopes := func(ss []client.Scope) []string {
		out := []string{}
		for _, s := range ss {
			out = append(out, string(s))
		}
		return out
	}
	rs.call(t, "POST", "/admin/v1/skills", map[string]any{"id": skill, "name": "client test", "permissions": scopes(s.Declared)})
	p := map[string]any{}
	for k, v := range map[string]string{"name": s.Profile.Name, "givenName": s.Profile.GivenName, "email": s.Profile.Email} {
		if v != "" {
			p[k] = v
		}
	}
	if s.Profile.MobileNumber != nil {
		p["mobileNumber"] = s.Profile.MobileNumber
	}
	rs.call(t, "POST", "/admin/v1/customers", map[string]any{"id": cust, "region": "NA", "profile": p})
	rs.call(t, "PUT", "/admin/v1/customers/"+cust+"/consents/"+skill, map[string]any{"scopes": scopes(s.Granted)})
	return rs.call(t, "POST", "/admin/v1/requests", map[string]any{"type": "LaunchRequest", "customerId": cust, "skillId": skill})
}

// TestContractRealServer runs the whole contract table against the real
// server in both wire modes, the client built from the envelope the
// skill would receive.
func TestContractRealServer(t *testing.T) {
	servers := map[string]*realServer{
		"documented": startReal(t, api.WireDocumented),
		"alexa":      startReal(t, api.WireAlexa),
	}
	clienttest.RunContract(t, func(t *testing.T, s clienttest.Scenario) *client.Client {
		env := servers[s.Wire].envelope(t, s)
		if s.BadToken {
			sys, err := client.ParseSystem(env)
			if err != nil {
				t.Fatal(err)
			}
			forged := sys.APIAccessToken[:len(sys.APIAccessToken)-4] + "AAAA"
			env = bytes.ReplaceAll(env, []byte(sys.APIAccessToken), []byte(forged))
		}
		c, err := client.FromRequest(env, client.WithMaxAttempts(1))
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

// A wrong endpoint (a path prefix too many, or the admin API's address)
// must not read as a customer without a value in either mode: the
// server's 404 for a path that names no setting is INVALID_KEY, which the
// client reports as an *APIError.
func TestWrongPrefixIsNoAnswer(t *testing.T) {
	for _, wire := range []api.Wire{api.WireDocumented, api.WireAlexa} {
		t.Run(string(wire), func(t *testing.T) {
			rs := startReal(t, wire)
			env := rs.envelope(t, clienttest.Scenario{Profile: clienttest.John, Declared: clienttest.AllScopes, Granted: clienttest.AllScopes})
			sys, err := client.ParseSystem(env)
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.New(rs.public+"/v2", sys.APIAccessToken, client.WithMaxAttempts(1)).GivenName(t.Context())
			clienttest.CheckSentinels(t, err)
			if e, ok := errors.AsType[*client.APIError](err); !ok || e.StatusCode != 404 || e.Code != "INVALID_KEY" {
				t.Errorf("err = %v, want a 404 INVALID_KEY *APIError", err)
			}
			_, err = client.New(rs.admin, sys.APIAccessToken, client.WithMaxAttempts(1)).Email(t.Context())
			clienttest.CheckSentinels(t, err)
			if e, ok := errors.AsType[*client.APIError](err); !ok || e.StatusCode != 404 || e.Code != "INVALID_KEY" || !strings.Contains(e.Message, "admin API") {
				t.Errorf("at the admin address: err = %v, want a 404 INVALID_KEY *APIError that says it is the admin API", err)
			}
		})
	}
}

// TestRetriesAgainstRealServer: throttling and outages produced by the
// server itself (its rate limiter and fault injection), with the back-off
// schedule recorded, not timed.
func TestRetriesAgainstRealServer(t *testing.T) {
	for _, wire := range []api.Wire{api.WireDocumented, api.WireAlexa} {
		t.Run(string(wire), func(t *testing.T) {
			rs := startReal(t, wire)
			env := rs.envelope(t, clienttest.Scenario{Profile: clienttest.John, Declared: clienttest.AllScopes, Granted: clienttest.AllScopes})
			var waits []time.Duration
			opts := []client.Option{
				client.WithMaxAttempts(4),
				client.WithSleep(func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }),
				client.WithRand(func(n int64) int64 { return n }), // the top of each jitter window
			}
			c, err := client.FromRequest(env, opts...)
			if err != nil {
				t.Fatal(err)
			}

			// Two 503s with Retry-After: 1, then the value.
			if _, err := rs.faults.Add(fault.Fault{Status: 503, RetryAfterSeconds: 1, Count: 2}); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Email(t.Context()); err != nil || got != "jsmith@example.com" {
				t.Fatalf("through two 503s: %q %v", got, err)
			}
			if fmt.Sprint(waits) != "[1s 1s]" {
				t.Fatalf("waits %v, want the server's Retry-After twice", waits)
			}

			// 500s carry no Retry-After: exponential back-off, then give up.
			waits = nil
			if _, err := rs.faults.Add(fault.Fault{Status: 500, Count: 4}); err != nil {
				t.Fatal(err)
			}
			_, err = c.Name(t.Context())
			if !strings.Contains(fmt.Sprint(err), "500") {
				t.Fatalf("after four 500s: %v", err)
			}
			if len(waits) != 3 || !(waits[0] < waits[1] && waits[1] < waits[2]) {
				t.Fatalf("back-off %v, want three growing waits", waits)
			}

			// The server's own rate limit: a burst of one, then 429 with Retry-After.
			if err := rs.limits.SetSkillLimit(sysSkill(t, env), ratelimit.Limit{Rate: 0.01, Burst: 1}); err != nil {
				t.Fatal(err)
			}
			single, _ := client.FromRequest(env, client.WithMaxAttempts(1))
			if _, err := single.GivenName(t.Context()); err != nil {
				t.Fatalf("first call within the burst: %v", err)
			}
			_, err = single.GivenName(t.Context())
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.RetryAfter <= 0 {
				t.Fatalf("over the limit: %v", err)
			}
			// Retry-After (100 s here) beyond what the client waits: it stops at once.
			waits = nil
			if _, err := c.GivenName(t.Context()); err == nil || len(waits) != 0 {
				t.Fatalf("a long Retry-After: %v, waits %v", err, waits)
			}
		})
	}
}

func sysSkill(t *testing.T, env []byte) string {
	sys, err := client.ParseSystem(env)
	if err != nil {
		t.Fatal(err)
	}
	return sys.Application.ApplicationID
}
