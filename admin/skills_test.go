package admin_test

import (
	"strings"
	"testing"
)

// TestSkillNameErrorsNameTheField: a skill's name is "name" in its body,
// and a customer's "profile.name" in theirs; each error says which.
func TestSkillNameErrorsNameTheField(t *testing.T) {
	adm := newAdmin(t)
	for _, c := range []struct{ path, body, message string }{
		{"/admin/v1/skills", `{"name":" Pizza","permissions":[]}`, "name must not start or end with white space"},
		{"/admin/v1/skills", `{"name":"Pi\u0007zza","permissions":[]}`, "name must not contain control characters"},
		{"/admin/v1/skills", `{"name":"` + strings.Repeat("a", 257) + `","permissions":[]}`, "name must be valid UTF-8 of at most 256 bytes"},
		{"/admin/v1/customers", `{"region":"NA","profile":{"name":" John"}}`, "profile.name must not start or end with white space"},
		{"/admin/v1/customers", `{"region":"NA","profile":{"givenName":"Jo\u0007hn"}}`, "profile.givenName must not contain control characters"},
	} {
		rec := send(t, adm, "POST", c.path, c.body)
		if rec.Status != 400 || rec.Error.Code != "INVALID_REQUEST" || rec.Error.Message != c.message {
			t.Errorf("POST %s %.60s: %d %s %q, want 400 INVALID_REQUEST %q", c.path, c.body, rec.Status, rec.Error.Code, rec.Error.Message, c.message)
		}
	}
}

// TestConflictNamesTheID: creating a skill or a customer under an id that
// is taken says which.
func TestConflictNamesTheID(t *testing.T) {
	adm := newAdmin(t)
	for _, c := range []struct{ path, body, message string }{
		{"/admin/v1/skills", `{"id":"amzn1.ask.skill.pizza","name":"Pizza","permissions":[]}`, "skill amzn1.ask.skill.pizza already exists"},
		{"/admin/v1/customers", `{"id":"amzn1.ask.account.ANNA","region":"NA"}`, "customer amzn1.ask.account.ANNA already exists"},
	} {
		if rec := send(t, adm, "POST", c.path, c.body); rec.Status != 201 {
			t.Fatalf("POST %s: %d %+v", c.path, rec.Status, rec.Error)
		}
		rec := send(t, adm, "POST", c.path, c.body)
		if rec.Status != 409 || rec.Error.Code != "CONFLICT" || rec.Error.Message != c.message {
			t.Errorf("POST %s again: %d %s %q, want 409 CONFLICT %q", c.path, rec.Status, rec.Error.Code, rec.Error.Message, c.message)
		}
	}
}
