package admin_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/servertest"
)

const testKey = "fuzz-admin-key-0123456789"

// newAdmin runs the real admin API and returns its URL.
func newAdmin(t testing.TB) string {
	t.Helper()
	return servertest.Start(t, servertest.Options{AdminKey: testKey}).AdminURL
}

// send calls the admin API with the admin key.
func send(t testing.TB, admin, method, path, body string) servertest.Response {
	t.Helper()
	return servertest.Do(t, method, admin+path, testKey, body)
}

// FuzzAdminBodies sends arbitrary JSON to every admin write. Whatever the
// body, the answer is 2xx or a 4xx JSON error, never a 5xx, and a refused
// change leaves the stored customer exactly as it was.
func FuzzAdminBodies(f *testing.F) {
	adm := newAdmin(f)
	if rec := send(f, adm, "POST", "/admin/v1/skills", `{"id":"amzn1.ask.skill.f","name":"F","permissions":["alexa::profile:email:read"]}`); rec.Status != 201 {
		f.Fatalf("seed skill: %d %s", rec.Status, rec.Body)
	}
	if rec := send(f, adm, "POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.F","region":"NA","profile":{"name":"F F","email":"f@example.com"}}`); rec.Status != 201 {
		f.Fatalf("seed customer: %d %s", rec.Status, rec.Body)
	}
	for _, seed := range []string{
		`{"profile":{"email":null}}`, `{"profile":{"mobileNumber":{"countryCode":"+91","phoneNumber":"7799827710"}}}`,
		`{"region":"EU"}`, `{"region":null}`, `{"id":"x"}`, `{"profile":{"nmae":"x"}}`, `[]`, `null`, `{"profile":1}`,
		`{"scopes":["alexa::profile:email:read"]}`, `{"scopes":["x"]}`, `{"customerId":"amzn1.ask.account.F","skillId":"amzn1.ask.skill.f","ttlSeconds":-1}`,
		`{"type":"IntentRequest","customerId":"amzn1.ask.account.F","skillId":"amzn1.ask.skill.f","intent":{"name":"A","slots":{}}}`,
		`{"Profile":{"Email":null}}`, `{"profile":{"\u0045mail":null}}`, `{"NAME":"x","permissions":[]}`,
		`{"name":"x","permissions":null}`, `{"a":1}{"b":2}`, "\xff", `{"profile":{"name":"` + strings.Repeat("a", 70000) + `"}}`,
	} {
		f.Add(uint8(0), seed)
	}
	routes := []struct{ method, path string }{
		{"PATCH", "/admin/v1/customers/amzn1.ask.account.F"},
		{"POST", "/admin/v1/customers"},
		{"POST", "/admin/v1/skills"},
		{"PUT", "/admin/v1/customers/amzn1.ask.account.F/consents/amzn1.ask.skill.f"},
		{"POST", "/admin/v1/tokens"},
		{"POST", "/admin/v1/requests"},
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		r := routes[int(route)%len(routes)]
		before := send(t, adm, "GET", "/admin/v1/customers/amzn1.ask.account.F", "").Body
		rec := send(t, adm, r.method, r.path, body)
		if rec.Status >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, rec.Status, rec.Body)
		}
		if rec.Status >= 400 {
			var e struct{ Code, Message string }
			if err := json.Unmarshal([]byte(rec.Body), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("%d without the JSON error body: %q", rec.Status, rec.Body)
			}
			if after := send(t, adm, "GET", "/admin/v1/customers/amzn1.ask.account.F", "").Body; after != before {
				t.Fatalf("a refused %s changed the customer:\n%s\n%s", r.method, before, after)
			}
		}
		if r.method == "PATCH" && rec.Status == 200 {
			// Whatever was accepted is valid and reads back the same.
			var c profileapi.Customer
			if err := json.Unmarshal([]byte(rec.Body), &c); err != nil || c.Validate() != nil {
				t.Fatalf("accepted an invalid customer: %s (%v)", rec.Body, c.Validate())
			}
		}
	})
}
