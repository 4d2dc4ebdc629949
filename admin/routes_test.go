package admin_test

import (
	"testing"
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
