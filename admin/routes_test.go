package admin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/profileapi/profileapi/admin"
)

// seed creates a skill or customer through the admin API.
func seed(t testing.TB, admin, path, body string) {
	t.Helper()
	if rec := send(t, admin, "POST", path, body); rec.Status != 201 {
		t.Fatalf("POST %s %s: %d %s", path, body, rec.Status, rec.Body)
	}
}

// TestNotFoundSaysWhat: every route that looks up a customer or a skill
// says which of them does not exist, not just "not found".
func TestNotFoundSaysWhat(t *testing.T) {
	adm := newAdmin(t)
	seed(t, adm, "/admin/v1/skills", `{"id":"amzn1.ask.skill.here","name":"Here","permissions":["alexa::profile:email:read"]}`)
	seed(t, adm, "/admin/v1/customers", `{"id":"amzn1.ask.account.HERE","region":"NA","profile":{}}`)
	const (
		customer      = "amzn1.ask.account.HERE"
		skill         = "amzn1.ask.skill.here"
		noCustomer    = "amzn1.ask.account.GONE"
		noSkill       = "amzn1.ask.skill.gone"
		customerGone  = "customer amzn1.ask.account.GONE does not exist"
		skillGone     = "skill amzn1.ask.skill.gone does not exist"
		consentsOf    = "/admin/v1/customers/"
		consentsBody  = `{"scopes":["alexa::profile:email:read"]}`
		evaluateQuery = "/admin/v1/evaluate?customerId="
	)
	for _, c := range []struct{ method, path, body, message string }{
		{"POST", "/admin/v1/tokens", `{"customerId":"` + noCustomer + `","skillId":"` + skill + `"}`, customerGone},
		{"POST", "/admin/v1/tokens", `{"customerId":"` + customer + `","skillId":"` + noSkill + `"}`, skillGone},
		{"POST", "/admin/v1/tokens", `{"customerId":"` + noCustomer + `","skillId":"` + noSkill + `"}`, customerGone},
		{"POST", "/admin/v1/requests", `{"type":"LaunchRequest","customerId":"` + noCustomer + `","skillId":"` + skill + `"}`, customerGone},
		{"POST", "/admin/v1/requests", `{"type":"LaunchRequest","customerId":"` + customer + `","skillId":"` + noSkill + `"}`, skillGone},
		{"PUT", consentsOf + noCustomer + "/consents/" + skill, consentsBody, customerGone},
		{"PUT", consentsOf + customer + "/consents/" + noSkill, consentsBody, skillGone},
		{"GET", consentsOf + noCustomer + "/consents/" + skill, "", customerGone},
		{"GET", consentsOf + customer + "/consents/" + noSkill, "", skillGone},
		{"GET", consentsOf + customer + "/consents/" + skill, "", "customer amzn1.ask.account.HERE has not granted skill amzn1.ask.skill.here anything"},
		{"DELETE", consentsOf + noCustomer + "/consents/" + skill, "", customerGone},
		{"DELETE", consentsOf + customer + "/consents/" + noSkill, "", skillGone},
		{"GET", evaluateQuery + noCustomer + "&skillId=" + skill, "", customerGone},
		{"GET", evaluateQuery + customer + "&skillId=" + noSkill, "", skillGone},
		{"GET", "/admin/v1/customers/" + noCustomer, "", customerGone},
		{"PATCH", "/admin/v1/customers/" + noCustomer, `{"profile":{"name":"X"}}`, customerGone},
		{"DELETE", "/admin/v1/customers/" + noCustomer, "", customerGone},
		{"GET", "/admin/v1/skills/" + noSkill, "", skillGone},
		{"DELETE", "/admin/v1/skills/" + noSkill, "", skillGone},
	} {
		rec := send(t, adm, c.method, c.path, c.body)
		if rec.Status != 404 || rec.Error.Code != "NOT_FOUND" || rec.Error.Message != c.message {
			t.Errorf("%s %s %s: %d %s %q, want 404 NOT_FOUND %q", c.method, c.path, c.body, rec.Status, rec.Error.Code, rec.Error.Message, c.message)
		}
	}
}

// TestBodilessRequests: a body on a GET or DELETE, or a second
// Authorization header, is a 400, as the OpenAPI document says, and the
// DELETE deletes nothing.
func TestBodilessRequests(t *testing.T) {
	adm := newAdmin(t)
	seed(t, adm, "/admin/v1/skills", `{"id":"amzn1.ask.skill.here","name":"Here","permissions":["alexa::profile:email:read"]}`)
	for _, c := range []struct{ method, path string }{
		{"GET", "/admin/v1/skills"},
		{"DELETE", "/admin/v1/skills/amzn1.ask.skill.here"},
		{"GET", "/admin/v1/customers/amzn1.ask.account.X"},
		{"DELETE", "/admin/v1/customers/amzn1.ask.account.X/consents/amzn1.ask.skill.here"},
	} {
		if r := send(t, adm, c.method, c.path, `{"filter":"x"}`); r.Status != 400 || !strings.Contains(r.Body, `"code":"INVALID_REQUEST"`) || !strings.Contains(r.Body, "must not have a body") {
			t.Errorf("%s %s with a body: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if r := send(t, adm, "GET", "/admin/v1/skills/amzn1.ask.skill.here", ""); r.Status != 200 {
		t.Fatalf("the skill after a DELETE with a body: %d %s", r.Status, r.Body)
	}

	req, _ := http.NewRequest("GET", adm+"/admin/v1/skills", nil)
	req.Header.Add("Authorization", "Bearer "+testKey)
	req.Header.Add("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "more than one Authorization header") {
		t.Errorf("two Authorization headers: %d %s", resp.StatusCode, b)
	}
}

// TestEmptyKeyOpensNothing: a server configured without a key refuses every
// admin call, a bare "Bearer" (whose key is empty) too.
func TestEmptyKeyOpensNothing(t *testing.T) {
	h := admin.NewServer(admin.Config{})
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer  "} {
		r := httptest.NewRequest("GET", "/admin/v1/skills", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 401 {
			t.Errorf("Authorization %q with no key configured: %d %s, want 401", auth, rec.Code, rec.Body)
		}
	}
}
