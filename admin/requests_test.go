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

// TestRequestSlotsAndLocale: a slot may be given by its value alone and is
// written as Alexa sends one, {"name", "value", "confirmationStatus"};
// a slot or locale no Alexa request could hold is refused. The envelope
// starts a session and, as for a skill without a dialog model, carries no
// dialogState.
func TestRequestSlotsAndLocale(t *testing.T) {
	adm := newAdmin(t)
	seed(t, adm, "/admin/v1/skills", `{"id":"amzn1.ask.skill.req","name":"Req","permissions":[]}`)
	seed(t, adm, "/admin/v1/customers", `{"id":"amzn1.ask.account.REQ","region":"NA","profile":{}}`)
	const who = `"type":"IntentRequest","customerId":"amzn1.ask.account.REQ","skillId":"amzn1.ask.skill.req"`
	rec := send(t, adm, "POST", "/admin/v1/requests", `{`+who+`,"locale":"es-MX","intent":{"name":"OrderIntent","slots":{
		"size":"large",
		"drink":{"value":"tea","confirmationStatus":"CONFIRMED","resolutions":{"resolutionsPerAuthority":[]}},
		"extra":{"name":"extra"}}}}`)
	if rec.Status != 200 {
		t.Fatalf("%d %s", rec.Status, rec.Body)
	}
	var env struct {
		Session struct{ New bool }
		Request map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(rec.Body), &env); err != nil {
		t.Fatal(err)
	}
	var intent struct{ Slots map[string]map[string]any }
	_ = json.Unmarshal(env.Request["intent"], &intent)
	want := map[string]map[string]any{
		"size":  {"name": "size", "value": "large", "confirmationStatus": "NONE"},
		"drink": {"name": "drink", "value": "tea", "confirmationStatus": "CONFIRMED", "resolutions": map[string]any{"resolutionsPerAuthority": []any{}}},
		"extra": {"name": "extra", "confirmationStatus": "NONE"},
	}
	if got, _ := json.Marshal(intent.Slots); string(got) != string(mustJSON(t, want)) {
		t.Errorf("slots %s, want %s", got, mustJSON(t, want))
	}
	if _, ok := env.Request["dialogState"]; ok || !env.Session.New || string(env.Request["locale"]) != `"es-MX"` {
		t.Errorf("session.new %v, request %s", env.Session.New, rec.Body)
	}
	for _, bad := range []string{
		`"intent":{"name":"OrderIntent","slots":{"size":null}}`,
		`"intent":{"name":"OrderIntent","slots":{"size":7}}`,
		`"intent":{"name":"OrderIntent","slots":{"size":{"name":"color"}}}`,
		`"intent":{"name":"OrderIntent","slots":{"size":{"value":7}}}`,
		`"intent":{"name":"OrderIntent","slots":{"size":{"confirmationStatus":"MAYBE"}}}`,
		`"intent":"OrderIntent","locale":"klingon"`,
		`"intent":"OrderIntent","locale":"en_US"`,
	} {
		if rec := send(t, adm, "POST", "/admin/v1/requests", `{`+who+`,`+bad+`}`); rec.Status != 400 || rec.Error.Code != "INVALID_REQUEST" {
			t.Errorf("%s: %d %s, want 400", bad, rec.Status, rec.Body)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
