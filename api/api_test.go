package api_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/sqlite"
	"github.com/profileapi/profileapi/token"
)

type fixture struct {
	t         testing.TB
	srv       *servertest.Server
	url       string
	store     *sqlite.DB
	keys      *token.Keyring
	clock     *servertest.Clock
	endpoints profileapi.Endpoints
}

// newFixture runs the public API on a real listener over a real SQLite
// file, with every region on loopback as serve does by default.
func newFixture(t testing.TB, wire api.Wire) *fixture {
	t.Helper()
	clk := servertest.NewClock(time.Now())
	srv := servertest.Start(t, servertest.Options{Wire: wire, Now: clk.Now})
	return &fixture{t: t, srv: srv, url: srv.URL, store: srv.Store, keys: srv.Keys, clock: clk, endpoints: srv.Endpoints}
}

func (f *fixture) skill(id string, declared profileapi.ScopeSet) {
	f.t.Helper()
	f.srv.Skill(f.t, id, declared)
}

func (f *fixture) customer(id string, region profileapi.Region, p profileapi.Profile) {
	f.t.Helper()
	f.srv.Customer(f.t, id, region, p)
}

func (f *fixture) grant(customerID, skillID string, scopes profileapi.ScopeSet) {
	f.t.Helper()
	f.srv.Consent(f.t, customerID, skillID, scopes)
}

func (f *fixture) mint(customerID, skillID string, region profileapi.Region, ttl time.Duration) string {
	f.t.Helper()
	return f.srv.Mint(f.t, customerID, skillID, region, ttl)
}

type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(method, url string, header http.Header, body io.Reader) response {
	f.t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (f *fixture) get(path, tok string) response {
	h := http.Header{}
	if tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	return f.do(http.MethodGet, f.url+path, h, nil)
}

const (
	skillAll  = "amzn1.ask.skill.all"
	skillSome = "amzn1.ask.skill.some"
	alice     = "amzn1.ask.account.ALICE"
	bob       = "amzn1.ask.account.BOB"
	empty     = "amzn1.ask.account.EMPTY"
	euro      = "amzn1.ask.account.EURO"
)

var aliceProfile = profileapi.Profile{
	Name: "Alice Liddell", GivenName: "Alice", Email: "alice@example.com",
	MobileNumber: &profileapi.PhoneNumber{CountryCode: "+1", PhoneNumber: "(415) 555-0132"},
}

var bobProfile = profileapi.Profile{
	Name: "Bob Jones", GivenName: "Bob", Email: "bob@example.com",
	MobileNumber: &profileapi.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799-82-77-11"},
}

// world: skillAll declares every scope, skillSome only name and email.
// Alice granted skillAll everything and skillSome only name; Bob granted
// skillAll everything; EMPTY has no profile values; EURO lives in EU.
func world(t testing.TB, wire api.Wire) *fixture {
	f := newFixture(t, wire)
	f.skill(skillAll, profileapi.AllScopes)
	f.skill(skillSome, profileapi.NewScopeSet(profileapi.ScopeName, profileapi.ScopeEmail))
	f.customer(alice, profileapi.RegionNA, aliceProfile)
	f.customer(bob, profileapi.RegionNA, bobProfile)
	f.customer(empty, profileapi.RegionNA, profileapi.Profile{})
	f.customer(euro, profileapi.RegionEU, aliceProfile)
	f.grant(alice, skillAll, profileapi.AllScopes)
	f.grant(alice, skillSome, profileapi.NewScopeSet(profileapi.ScopeName))
	f.grant(bob, skillAll, profileapi.AllScopes)
	f.grant(empty, skillAll, profileapi.AllScopes)
	f.grant(euro, skillAll, profileapi.AllScopes)
	return f
}

var discard = slog.New(slog.DiscardHandler)

const settings = "/v2/accounts/~current/settings/"

func TestDocumentedValues(t *testing.T) {
	f := world(t, api.WireDocumented)
	aliceTok := f.mint(alice, skillAll, profileapi.RegionNA, 0)
	bobTok := f.mint(bob, skillAll, profileapi.RegionNA, 0)
	tests := []struct {
		field, tok, want string
	}{
		{"Profile.name", aliceTok, `{"name":"Alice Liddell"}`},
		{"Profile.givenName", aliceTok, `{"name":"Alice"}`},
		{"Profile.email", aliceTok, `{"email":"alice@example.com"}`},
		{"Profile.mobileNumber", aliceTok, `{"countryCode":"+1","phoneNumber":"(415) 555-0132"}`},
		{"Profile.name", bobTok, `{"name":"Bob Jones"}`},
		{"Profile.mobileNumber", bobTok, `{"countryCode":"+91","phoneNumber":"7799-82-77-11"}`},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			r := f.get(settings+tt.field, tt.tok)
			if r.status != http.StatusOK || r.body != tt.want {
				t.Fatalf("got %d %s, want 200 %s", r.status, r.body, tt.want)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestAlexaValues(t *testing.T) {
	f := world(t, api.WireAlexa)
	tok := f.mint(alice, skillAll, profileapi.RegionNA, 0)
	emptyTok := f.mint(empty, skillAll, profileapi.RegionNA, 0)
	tests := []struct {
		field, tok string
		status     int
		want       string
	}{
		{"Profile.name", tok, 200, `"Alice Liddell"`},
		{"Profile.givenName", tok, 200, `"Alice"`},
		{"Profile.email", tok, 200, `"alice@example.com"`},
		{"Profile.mobileNumber", tok, 200, `{"countryCode":"+1","phoneNumber":"(415) 555-0132"}`},
		{"Profile.name", emptyTok, 204, ``},
		{"Profile.givenName", emptyTok, 204, ``},
		{"Profile.email", emptyTok, 204, ``},
		{"Profile.mobileNumber", emptyTok, 204, ``},
	}
	for _, tt := range tests {
		r := f.get(settings+tt.field, tt.tok)
		if r.status != tt.status || r.body != tt.want {
			t.Errorf("%s: got %d %q, want %d %q", tt.field, r.status, r.body, tt.status, tt.want)
		}
	}
}

func TestAbsentValueDocumented(t *testing.T) {
	f := world(t, api.WireDocumented)
	tok := f.mint(empty, skillAll, profileapi.RegionNA, 0)
	for _, field := range []string{"Profile.name", "Profile.givenName", "Profile.email", "Profile.mobileNumber"} {
		r := f.get(settings+field, tok)
		assertError(t, r, 404, "NOT_FOUND")
	}
}

func assertError(t *testing.T, r response, status int, code string) {
	t.Helper()
	var body struct{ Code, Message string }
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("status %d, body %q is not the JSON error body: %v", r.status, r.body, err)
	}
	if r.status != status || body.Code != code || body.Message == "" {
		t.Fatalf("got %d %s, want %d with code %s and a message", r.status, r.body, status, code)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if status == 401 && r.header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
}

// tamper returns the token with its payload replaced by fn's edit of it,
// keeping the original signature.
func tamper(t *testing.T, tok string, fn func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	fn(claims)
	b, _ := json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestUnauthorized(t *testing.T) {
	f := world(t, api.WireDocumented)
	good := f.mint(alice, skillAll, profileapi.RegionNA, 0)
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(good, ".")[0])
	var hdr map[string]any
	_ = json.Unmarshal(header, &hdr)
	hdr["alg"] = "none"
	noneHeader, _ := json.Marshal(hdr)
	algNone := base64.RawURLEncoding.EncodeToString(noneHeader) + "." + strings.Split(good, ".")[1] + "."

	short := f.mint(alice, skillAll, profileapi.RegionNA, time.Minute)
	f.clock.Add(time.Hour)
	future := f.mint(alice, skillAll, profileapi.RegionNA, 2*time.Hour)
	f.clock.Add(-time.Hour + 2*time.Minute) // short has now expired; future is not valid yet
	euroTok := f.mint(euro, skillAll, profileapi.RegionEU, 0)

	// A token from another installation: valid shape, unknown key.
	other := newFixture(t, api.WireDocumented)
	foreign := other.mint(alice, skillAll, profileapi.RegionNA, 0)

	tests := []struct {
		name   string
		header string
		says   string // in the message, if set
	}{
		{"no header", "", "missing"},
		{"basic scheme", "Basic " + good, "not a Bearer token"},
		{"bearer without token", "Bearer ", "empty"},
		{"bearer and spaces", "bearer   ", "empty"},
		{"not a JWT", "Bearer abc", ""},
		{"garbage segments", "Bearer a.b.c", ""},
		{"forged payload", "Bearer " + tamper(t, good, func(c map[string]any) { c["privateClaims"].(map[string]any)["userId"] = bob }), ""},
		{"forged skill", "Bearer " + tamper(t, good, func(c map[string]any) { c["sub"] = skillSome }), ""},
		{"alg none", "Bearer " + algNone, ""},
		{"expired", "Bearer " + short, ""},
		{"issued in the future", "Bearer " + future, ""},
		{"other installation", "Bearer " + foreign, ""},
		{"EU token at the NA endpoint", "Bearer " + euroTok, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Authorization", tt.header)
			}
			r := f.do(http.MethodGet, f.url+settings+"Profile.email", h, nil)
			assertError(t, r, 401, "INVALID_TOKEN")
			if strings.Contains(r.body, "alice") {
				t.Fatalf("an error leaked profile data: %s", r.body)
			}
			if !strings.Contains(r.body, tt.says) {
				t.Errorf("body %s does not say %q", r.body, tt.says)
			}
		})
	}
	t.Run("EU token at the EU endpoint", func(t *testing.T) {
		r := f.get("/eu"+settings+"Profile.email", euroTok)
		if r.status != 200 || r.body != `{"email":"alice@example.com"}` {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("NA token at the EU and FE endpoints", func(t *testing.T) {
		assertError(t, f.get("/eu"+settings+"Profile.email", good), 401, "INVALID_TOKEN")
		assertError(t, f.get("/fe"+settings+"Profile.email", good), 401, "INVALID_TOKEN")
	})
}

func TestDeletedCustomerOrSkill(t *testing.T) {
	f := world(t, api.WireDocumented)
	ctx := context.Background()
	bobTok := f.mint(bob, skillAll, profileapi.RegionNA, 0)
	someTok := f.mint(alice, skillSome, profileapi.RegionNA, 0)
	if r := f.get(settings+"Profile.name", bobTok); r.status != 200 {
		t.Fatalf("before delete: %d %s", r.status, r.body)
	}
	if err := f.store.DeleteCustomer(ctx, bob); err != nil {
		t.Fatal(err)
	}
	assertError(t, f.get(settings+"Profile.name", bobTok), 401, "INVALID_TOKEN")
	if err := f.store.DeleteSkill(ctx, skillSome); err != nil {
		t.Fatal(err)
	}
	assertError(t, f.get(settings+"Profile.name", someTok), 401, "INVALID_TOKEN")
	// Created again, through the admin API as a user would, the customer
	// is another: the old token stays refused, and the consent is not
	// brought back.
	if r := servertest.Do(t, "POST", f.srv.AdminURL+"/admin/v1/customers", f.srv.AdminKey, `{"id":"`+bob+`","region":"NA"}`); r.Status != http.StatusCreated {
		t.Fatalf("create again: %d %s", r.Status, r.Body)
	}
	assertError(t, f.get(settings+"Profile.name", bobTok), 401, "INVALID_TOKEN")
	assertError(t, f.get(settings+"Profile.name", f.mint(bob, skillAll, profileapi.RegionNA, 0)), 403, "ACCESS_DENIED")
}

func TestForbidden(t *testing.T) {
	f := world(t, api.WireDocumented)
	tok := f.mint(alice, skillSome, profileapi.RegionNA, 0)
	tests := []struct {
		field, reason string
	}{
		{"Profile.email", "ACCESS_NOT_REQUESTED"}, // declared, not granted
		{"Profile.givenName", "FORBIDDEN"},        // never declared
		{"Profile.mobileNumber", "FORBIDDEN"},
	}
	for _, tt := range tests {
		r := f.get(settings+tt.field, tok)
		assertError(t, r, 403, "ACCESS_DENIED")
		if !strings.Contains(r.body, "Access denied with reason: "+tt.reason) {
			t.Errorf("%s: body %s lacks reason %s", tt.field, r.body, tt.reason)
		}
	}
	if r := f.get(settings+"Profile.name", tok); r.status != 200 || r.body != `{"name":"Alice Liddell"}` {
		t.Fatalf("granted scope: %d %s", r.status, r.body)
	}
}

func TestRevocationTakesEffectAtOnce(t *testing.T) {
	f := world(t, api.WireAlexa)
	tok := f.mint(alice, skillAll, profileapi.RegionNA, 0)
	if r := f.get(settings+"Profile.email", tok); r.status != 200 {
		t.Fatalf("before: %d %s", r.status, r.body)
	}
	if err := f.store.DeleteConsent(context.Background(), alice, skillAll); err != nil {
		t.Fatal(err)
	}
	r := f.get(settings+"Profile.email", tok)
	assertError(t, r, 403, "ACCESS_DENIED")
	if !strings.Contains(r.body, "ACCESS_NOT_REQUESTED") {
		t.Fatalf("body %s", r.body)
	}
	f.grant(alice, skillAll, profileapi.NewScopeSet(profileapi.ScopeEmail))
	if r := f.get(settings+"Profile.email", tok); r.status != 200 || r.body != `"alice@example.com"` {
		t.Fatalf("after re-grant: %d %s", r.status, r.body)
	}
	// A profile change shows on the next request too.
	if _, err := f.store.UpdateCustomer(context.Background(), alice, func(c *profileapi.Customer) error {
		c.Profile.Email = "new@example.com"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := f.get(settings+"Profile.email", tok); r.body != `"new@example.com"` {
		t.Fatalf("after change: %d %s", r.status, r.body)
	}
}

func TestMalformedRequests(t *testing.T) {
	f := world(t, api.WireDocumented)
	tok := f.mint(alice, skillAll, profileapi.RegionNA, 0)
	auth := http.Header{"Authorization": {"Bearer " + tok}}

	t.Run("unknown setting", func(t *testing.T) {
		assertError(t, f.get(settings+"Profile.address", tok), 404, "INVALID_KEY")
		assertError(t, f.get(settings+"profile.email", tok), 404, "INVALID_KEY")
	})
	t.Run("unknown path", func(t *testing.T) {
		// INVALID_KEY: NOT_FOUND would say the customer has no value.
		assertError(t, f.get("/v2/accounts/~current/other/Profile.email", tok), 404, "INVALID_KEY")
		assertError(t, f.get("/", tok), 404, "INVALID_KEY")
		assertError(t, f.get("/v2/v2/accounts/~current/settings/Profile.email", tok), 404, "INVALID_KEY")
		// Not the mux's HTML redirect to the clean path: every answer is
		// JSON, and the SDKs follow no redirects.
		for _, p := range []string{"//v2/accounts/~current/settings/Profile.email", "/v2/accounts/./~current/settings/Profile.email", "/eu//v2/accounts/~current/settings/Profile.email"} {
			r := f.get(p, tok)
			assertError(t, r, 404, "INVALID_KEY")
			if loc := r.header.Get("Location"); loc != "" {
				t.Errorf("%s: Location %q, want none", p, loc)
			}
		}
	})
	t.Run("body on GET", func(t *testing.T) {
		r := f.do(http.MethodGet, f.url+settings+"Profile.email", auth, strings.NewReader(`{"a":1}`))
		assertError(t, r, 400, "INVALID_REQUEST")
	})
	t.Run("chunked body on GET", func(t *testing.T) {
		// Only an actual body is a 400: an empty chunked one is none. One
		// announced and not sent is answered as one, not waited for.
		for body, want := range map[string]int{"0\r\n\r\n": 200, "7\r\n{\"a\":1}\r\n0\r\n\r\n": 400, "": 400} {
			conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(conn, "GET %sProfile.email HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n%s",
				settings, strings.TrimPrefix(f.url, "http://"), tok, body)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("chunked body %q: %d %s, want %d", body, resp.StatusCode, b, want)
			}
		}
	})
	t.Run("Content-Length body not sent", func(t *testing.T) {
		// The answer comes at once, not after the read timeout that
		// net/http would wait out reading the announced body before it
		// answers: whatever the answer, a method or a path refused too.
		for _, c := range []struct {
			method, path string
			want         int
		}{
			{"GET", settings + "Profile.email", 400},
			{"POST", settings + "Profile.email", 405},
			{"GET", "/nothing", 404},
			{"PUT", settings + "Profile.nothing", 404},
			{"GET", "/v2//accounts/~current/settings/Profile.email", 404},
		} {
			conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 5\r\n\r\n",
				c.method, c.path, strings.TrimPrefix(f.url, "http://"), tok)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Errorf("%s %s: no answer: %v", c.method, c.path, err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != c.want || !resp.Close {
				t.Errorf("%s %s: %d, close %v; want %d and the connection closed", c.method, c.path, resp.StatusCode, resp.Close, c.want)
			}
		}
	})
	t.Run("SDK headers are fine", func(t *testing.T) {
		h := http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}}
		if r := f.do(http.MethodGet, f.url+settings+"Profile.email", h, nil); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("lower-case scheme", func(t *testing.T) {
		h := http.Header{"Authorization": {"bearer " + tok}}
		if r := f.do(http.MethodGet, f.url+settings+"Profile.email", h, nil); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("two Authorization headers", func(t *testing.T) {
		h := http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}
		assertError(t, f.do(http.MethodGet, f.url+settings+"Profile.email", h, nil), 400, "INVALID_REQUEST")
	})
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		t.Run(method, func(t *testing.T) {
			r := f.do(method, f.url+settings+"Profile.email", auth, nil)
			assertError(t, r, 405, "METHOD_NOT_ALLOWED")
			if r.header.Get("Allow") != "GET, HEAD" {
				t.Fatalf("Allow = %q", r.header.Get("Allow"))
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		r := f.do(http.MethodHead, f.url+settings+"Profile.email", auth, nil)
		if r.status != 200 || r.body != "" || r.header.Get("Content-Length") != "29" {
			t.Fatalf("got %d %q Content-Length %s", r.status, r.body, r.header.Get("Content-Length"))
		}
	})
}

// TestNoCrossCustomerData reads every field with every token and checks
// each answer holds only its own customer's values.
func TestNoCrossCustomerData(t *testing.T) {
	f := world(t, api.WireAlexa)
	profiles := map[string]profileapi.Profile{alice: aliceProfile, bob: bobProfile}
	for id := range profiles {
		tok := f.mint(id, skillAll, profileapi.RegionNA, 0)
		for _, field := range []string{"Profile.name", "Profile.givenName", "Profile.email", "Profile.mobileNumber"} {
			r := f.get(settings+field, tok)
			for otherID, other := range profiles {
				if otherID == id {
					continue
				}
				for _, v := range []string{other.Name, other.GivenName, other.Email, other.MobileNumber.PhoneNumber} {
					if strings.Contains(r.body, v) {
						t.Fatalf("%s's token read %s and got %s, which holds %s's data", id, field, r.body, otherID)
					}
				}
			}
			if r.status != 200 {
				t.Fatalf("%s %s: %d %s", id, field, r.status, r.body)
			}
		}
	}
}

func TestKeyRotationKeepsOldTokens(t *testing.T) {
	f := world(t, api.WireAlexa)
	old := f.mint(alice, skillAll, profileapi.RegionNA, 0)
	if _, err := f.keys.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	fresh := f.mint(alice, skillAll, profileapi.RegionNA, 0)
	if strings.Split(old, ".")[0] == strings.Split(fresh, ".")[0] {
		t.Fatal("rotation did not change the signing key id")
	}
	for _, tok := range []string{old, fresh} {
		if r := f.get(settings+"Profile.givenName", tok); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
}
