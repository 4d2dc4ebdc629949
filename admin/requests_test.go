package admin_test

import (
	"encoding/json"
	"testing"
)

// TestRequestIntentConfirmation: an intent's confirmationStatus, which
// the envelopes carry, may be given as Alexa sends it (a skill's
// confirmation handling is tested this way), and is NONE if left out.
func TestRequestIntentConfirmation(t *testing.T) {
	adm := newAdmin(t)
	seed(t, adm, "/admin/v1/skills", `{"id":"amzn1.ask.skill.req","name":"Req","permissions":[]}`)
	seed(t, adm, "/admin/v1/customers", `{"id":"amzn1.ask.account.REQ","region":"NA","profile":{}}`)
	const who = `"type":"IntentRequest","customerId":"amzn1.ask.account.REQ","skillId":"amzn1.ask.skill.req"`
	for _, c := range []struct {
		intent string
		status int
		want   string
	}{
		{`"OrderIntent"`, 200, "NONE"},
		{`{"name":"OrderIntent"}`, 200, "NONE"},
		{`{"name":"OrderIntent","confirmationStatus":"CONFIRMED"}`, 200, "CONFIRMED"},
		{`{"name":"OrderIntent","confirmationStatus":"DENIED","slots":{}}`, 200, "DENIED"},
		{`{"name":"OrderIntent","confirmationStatus":"MAYBE"}`, 400, ""},
		{`{"name":"OrderIntent","confirmationStatus":7}`, 400, ""},
		// Names are case-sensitive in the object form too.
		{`{"NAME":"OrderIntent"}`, 400, ""},
		{`{"name":"OrderIntent","Slots":{}}`, 400, ""},
	} {
		rec := send(t, adm, "POST", "/admin/v1/requests", `{`+who+`,"intent":`+c.intent+`}`)
		if rec.Status != c.status {
			t.Errorf("intent %s: %d %s, want %d", c.intent, rec.Status, rec.Body, c.status)
			continue
		}
		if c.status != 200 {
			if rec.Error.Code != "INVALID_REQUEST" {
				t.Errorf("intent %s: code %q, want INVALID_REQUEST", c.intent, rec.Error.Code)
			}
			continue
		}
		var env struct {
			Request struct {
				Intent struct {
					Name               string `json:"name"`
					ConfirmationStatus string `json:"confirmationStatus"`
				} `json:"intent"`
			} `json:"request"`
		}
		if err := json.Unmarshal([]byte(rec.Body), &env); err != nil {
			t.Fatalf("intent %s: %v in %s", c.intent, err, rec.Body)
		}
		if env.Request.Intent.Name != "OrderIntent" || env.Request.Intent.ConfirmationStatus != c.want {
			t.Errorf("intent %s: request.intent %+v, want OrderIntent, %s", c.intent, env.Request.Intent, c.want)
		}
	}
}
