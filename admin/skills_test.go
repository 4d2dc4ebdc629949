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
