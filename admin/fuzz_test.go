package admin_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
	"github.com/profileapi/profileapi/sqlite"
	"github.com/profileapi/profileapi/token"
)

const testKey = "fuzz-admin-key-0123456789"

func newAdmin(t testing.TB) http.Handler {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "admin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := token.NewKeyring(ctx, store, token.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return admin.NewServer(admin.Config{Store: store, Tokens: keys, Endpoints: profileapi.LoopbackEndpoints("http", "127.0.0.1:8080"), Key: testKey, Logger: slog.New(slog.DiscardHandler)})
}

func send(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzAdminBodies sends arbitrary JSON to every admin write. Whatever the
// body, the answer is 2xx or a 4xx JSON error, never a 5xx, and a refused
// change leaves the stored customer exactly as it was.
func FuzzAdminBodies(f *testing.F) {
	h := newAdmin(f)
	if rec := send(h, "POST", "/admin/v1/skills", `{"id":"amzn1.ask.skill.f","name":"F","permissions":["alexa::profile:email:read"]}`); rec.Code != 201 {
		f.Fatalf("seed skill: %d %s", rec.Code, rec.Body)
	}
	if rec := send(h, "POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.F","region":"NA","profile":{"name":"F F","email":"f@example.com"}}`); rec.Code != 201 {
		f.Fatalf("seed customer: %d %s", rec.Code, rec.Body)
	}
	for _, seed := range []string{
		`{"profile":{"email":null}}`, `{"profile":{"mobileNumber":{"countryCode":"+91","phoneNumber":"7799827710"}}}`,
		`{"region":"EU"}`, `{"region":null}`, `{"id":"x"}`, `{"profile":{"nmae":"x"}}`, `[]`, `null`, `{"profile":1}`,
		`{"scopes":["alexa::profile:email:read"]}`, `{"scopes":["x"]}`, `{"customerId":"amzn1.ask.account.F","skillId":"amzn1.ask.skill.f","ttlSeconds":-1}`,
		`{"type":"IntentRequest","customerId":"amzn1.ask.account.F","skillId":"amzn1.ask.skill.f","intent":{"name":"A","slots":{}}}`,
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
		before := send(h, "GET", "/admin/v1/customers/amzn1.ask.account.F", "").Body.String()
		rec := send(h, r.method, r.path, body)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct{ Code, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("%d without the JSON error body: %q", rec.Code, rec.Body)
			}
			if after := send(h, "GET", "/admin/v1/customers/amzn1.ask.account.F", "").Body.String(); after != before {
				t.Fatalf("a refused %s changed the customer:\n%s\n%s", r.method, before, after)
			}
		}
		if r.method == "PATCH" && rec.Code == 200 {
			// Whatever was accepted is valid and reads back the same.
			var c profileapi.Customer
			if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil || c.Validate() != nil {
				t.Fatalf("accepted an invalid customer: %s (%v)", rec.Body, c.Validate())
			}
		}
	})
}
