package admin_test

import (
	"strings"
	"testing"
)

// TestTokenTTLIsWholeSeconds: a ttlSeconds that is not a whole number of
// seconds is refused as such, not as "not a number"; a whole number
// written with a fraction or an exponent is one.
func TestTokenTTLIsWholeSeconds(t *testing.T) {
	adm := newAdmin(t)
	seed(t, adm, "/admin/v1/skills", `{"id":"amzn1.ask.skill.ttl","name":"TTL","permissions":[]}`)
	seed(t, adm, "/admin/v1/customers", `{"id":"amzn1.ask.account.TTL","region":"NA","profile":{}}`)
	const who = `"customerId":"amzn1.ask.account.TTL","skillId":"amzn1.ask.skill.ttl"`
	const whole = "ttlSeconds must be a whole number of seconds from 1 to 86400"
	for _, c := range []struct {
		ttl     string
		status  int
		message string
	}{
		{"1.5", 400, whole},
		{"-1.5", 400, whole},
		{`"600"`, 400, whole},
		{"true", 400, whole},
		{"0", 400, "ttlSeconds must be between 1 and 86400"},
		{"1e300", 400, "ttlSeconds must be a whole number of seconds from 1 to 86400"},
		{"600.0", 201, ""},
		{"6e2", 201, ""},
		{"null", 201, ""},
	} {
		rec := send(t, adm, "POST", "/admin/v1/tokens", `{`+who+`,"ttlSeconds":`+c.ttl+`}`)
		if rec.Status != c.status || c.status == 400 && (rec.Error.Code != "INVALID_REQUEST" || rec.Error.Message != c.message) {
			t.Errorf("ttlSeconds %s: %d %s, want %d %q", c.ttl, rec.Status, rec.Body, c.status, c.message)
		}
	}
	rec := send(t, adm, "POST", "/admin/v1/tokens/batch", `{`+who+`,"ttlSeconds":1.5}`)
	if rec.Status != 400 || !strings.HasPrefix(rec.Error.Message, "line 1: "+whole) {
		t.Errorf("tokens/batch, ttlSeconds 1.5: %d %s", rec.Status, rec.Body)
	}
}
