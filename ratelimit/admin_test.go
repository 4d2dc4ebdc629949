package ratelimit_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/ratelimit"
)

func TestAdminRateLimit(t *testing.T) {
	clk := newClock()
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(clk.Now), Skill: ratelimit.Limit{Rate: 1, Burst: 1}}
	public, adm := newServers(t, p)
	url := adm + "/admin/v1/skills/" + skillA + "/rate-limit"

	wantBody := func(r servertest.Response, want string) {
		t.Helper()
		var got, w any
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
			t.Fatalf("body %q: %v", r.Body, err)
		}
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Fatalf("body = %s, want %s", gb, wb)
		}
	}

	r := servertest.Do(t, "GET", url, adminKey, "")
	if r.Status != 200 {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	wantBody(r, `{"skillId":"amzn1.ask.skill.a","ratePerSecond":1,"burst":1,"source":"default"}`)

	// Lift the limit: the skill is no longer refused.
	r = servertest.Do(t, "PUT", url, adminKey, `{"ratePerSecond": 0}`)
	if r.Status != 200 {
		t.Fatalf("PUT unlimited: %d %s", r.Status, r.Body)
	}
	wantBody(r, `{"skillId":"amzn1.ask.skill.a","ratePerSecond":0,"burst":0,"source":"override"}`)
	for i := range 5 {
		if r := getName(t, public, skillA, customer1); r.Status != 200 {
			t.Fatalf("unlimited call %d: %d %s", i, r.Status, r.Body)
		}
	}

	r = servertest.Do(t, "PUT", url, adminKey, `{"ratePerSecond": 5, "burst": 2}`)
	if r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	wantBody(r, `{"skillId":"amzn1.ask.skill.a","ratePerSecond":5,"burst":2,"source":"override"}`)
	wantBody(servertest.Do(t, "GET", url, adminKey, ""), `{"skillId":"amzn1.ask.skill.a","ratePerSecond":5,"burst":2,"source":"override"}`)
	for i := range 2 {
		if r := getName(t, public, skillA, customer1); r.Status != 200 {
			t.Fatalf("call %d within the new burst: %d %s", i, r.Status, r.Body)
		}
	}
	if r := getName(t, public, skillA, customer1); r.Status != 429 {
		t.Fatalf("over the new limit: %d %s", r.Status, r.Body)
	}

	if r := servertest.Do(t, "DELETE", url, adminKey, ""); r.Status != 204 || r.Body != "" {
		t.Fatalf("DELETE: %d %q", r.Status, r.Body)
	}
	wantBody(servertest.Do(t, "GET", url, adminKey, ""), `{"skillId":"amzn1.ask.skill.a","ratePerSecond":1,"burst":1,"source":"default"}`)
}

func TestAdminRateLimitShowsCustomerLimit(t *testing.T) {
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(nil), Customer: ratelimit.Limit{Rate: 2, Burst: 3}}
	_, adm := newServers(t, p)
	r := servertest.Do(t, "GET", adm+"/admin/v1/skills/"+skillB+"/rate-limit", adminKey, "")
	want := `{"skillId":"amzn1.ask.skill.b","ratePerSecond":0,"burst":0,"source":"default","customer":{"ratePerSecond":2,"burst":3}}`
	if r.Status != 200 || strings.TrimSpace(r.Body) != want {
		t.Fatalf("GET: %d %s, want 200 %s", r.Status, r.Body, want)
	}
}

func TestAdminRateLimitErrors(t *testing.T) {
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(nil)}
	_, adm := newServers(t, p)
	url := adm + "/admin/v1/skills/" + skillA + "/rate-limit"
	tests := []struct {
		name, method, url, key, body string
		status                       int
		code, message                string
	}{
		{"no admin key", "GET", url, "", "", 401, "UNAUTHORIZED", ""},
		{"wrong admin key", "PUT", url, "nope", `{"ratePerSecond":1,"burst":1}`, 401, "UNAUTHORIZED", ""},
		{"bad skill id", "GET", adm + "/admin/v1/skills/skill-a/rate-limit", adminKey, "", 400, "INVALID_REQUEST", "skill id"},
		{"bad skill id on PUT", "PUT", adm + "/admin/v1/skills/skill-a/rate-limit", adminKey, `{"ratePerSecond":1,"burst":1}`, 400, "INVALID_REQUEST", "skill id"},
		{"bad skill id on DELETE", "DELETE", adm + "/admin/v1/skills/skill-a/rate-limit", adminKey, "", 400, "INVALID_REQUEST", "skill id"},
		{"empty body", "PUT", url, adminKey, "", 400, "INVALID_REQUEST", "empty"},
		{"not JSON", "PUT", url, adminKey, `rate=5`, 400, "INVALID_REQUEST", "not valid JSON"},
		{"unknown field", "PUT", url, adminKey, `{"ratePerSecond":1,"burst":1,"perMinute":60}`, 400, "INVALID_REQUEST", "unknown field"},
		{"missing rate", "PUT", url, adminKey, `{"burst":1}`, 400, "INVALID_REQUEST", "ratePerSecond is required"},
		{"negative rate", "PUT", url, adminKey, `{"ratePerSecond":-1,"burst":1}`, 400, "INVALID_REQUEST", "ratePerSecond"},
		{"rate as string", "PUT", url, adminKey, `{"ratePerSecond":"5","burst":1}`, 400, "INVALID_REQUEST", "ratePerSecond"},
		{"no burst", "PUT", url, adminKey, `{"ratePerSecond":5}`, 400, "INVALID_REQUEST", "burst"},
		{"zero burst", "PUT", url, adminKey, `{"ratePerSecond":5,"burst":0}`, 400, "INVALID_REQUEST", "burst"},
		{"huge burst", "PUT", url, adminKey, `{"ratePerSecond":5,"burst":2000000}`, 400, "INVALID_REQUEST", "burst"},
		{"two values", "PUT", url, adminKey, `{"ratePerSecond":5,"burst":1}{}`, 400, "INVALID_REQUEST", "single JSON value"},
		{"too large", "PUT", url, adminKey, `{"ratePerSecond":5,"burst":1,"x":"` + strings.Repeat("a", 5000) + `"}`, 413, "REQUEST_TOO_LARGE", ""},
		{"wrong method", "POST", url, adminKey, `{}`, 405, "METHOD_NOT_ALLOWED", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := servertest.Do(t, tt.method, tt.url, tt.key, tt.body)
			if r.Status != tt.status || r.Error.Code != tt.code || !strings.Contains(r.Error.Message, tt.message) {
				t.Fatalf("%d %s, want %d %s with %q in the message", r.Status, r.Body, tt.status, tt.code, tt.message)
			}
		})
	}
	if l, override := p.SkillLimit(skillA); override {
		t.Fatalf("a refused PUT changed the limit to %+v", l)
	}
}

// TestAdminRateLimitWholeBurst: burst takes a whole number however JSON
// writes it (3.0, 3e0), as the document's "integer" says, and refuses a
// fraction, a string, a boolean or a value beyond int64 naming the field.
func TestAdminRateLimitWholeBurst(t *testing.T) {
	clk := newClock()
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(clk.Now)}
	public, adm := newServers(t, p)
	url := adm + "/admin/v1/skills/" + skillA + "/rate-limit"
	for _, body := range []string{
		`{"ratePerSecond":0.001,"burst":3.0}`,
		`{"ratePerSecond":0.001,"burst":3e0}`,
		`{"ratePerSecond":0.001,"burst":0.3E1}`,
		`{"ratePerSecond":0.001,"burst":300e-2}`,
	} {
		r := servertest.Do(t, "PUT", url, adminKey, body)
		if want := `{"skillId":"amzn1.ask.skill.a","ratePerSecond":0.001,"burst":3,"source":"override"}`; r.Status != 200 || strings.TrimSpace(r.Body) != want {
			t.Errorf("PUT %s: %d %s, want 200 %s", body, r.Status, r.Body, want)
		}
	}
	// The burst counts as 3.
	for i := range 3 {
		if r := getName(t, public, skillA, customer1); r.Status != 200 {
			t.Fatalf("call %d within a burst of 3.0: %d %s", i, r.Status, r.Body)
		}
	}
	if r := getName(t, public, skillA, customer1); r.Status != 429 || !strings.Contains(r.Error.Message, "a burst of 3.") {
		t.Fatalf("the fourth call: %d %s, want 429", r.Status, r.Body)
	}
	if r := servertest.Do(t, "PUT", url, adminKey, `{"ratePerSecond":5,"burst":1e6}`); r.Status != 200 || !strings.Contains(r.Body, `"burst":1000000`) {
		t.Errorf("PUT burst 1e6: %d %s", r.Status, r.Body)
	}

	const whole = "burst must be a whole number, not a JSON "
	for body, message := range map[string]string{
		`{"ratePerSecond":5,"burst":1.5}`:        whole + "number 1.5",
		`{"ratePerSecond":5,"burst":"3"}`:        whole + "string",
		`{"ratePerSecond":5,"burst":true}`:       whole + "bool",
		`{"ratePerSecond":5,"burst":[3]}`:        whole + "array",
		`{"ratePerSecond":5,"burst":2.5e-1}`:     whole + "number 2.5e-1",
		`{"ratePerSecond":5,"burst":1.000001e6}`: "burst must be from 1 to 1000000 when ratePerSecond is above 0",
		`{"ratePerSecond":5,"burst":0.0}`:        "burst must be from 1 to 1000000 when ratePerSecond is above 0",
		`{"ratePerSecond":5,"burst":1e19}`:       "burst must be a whole number, not a JSON number 1e19",
		`{"ratePerSecond":5,"burst":-1e300}`:     "burst must be a whole number, not a JSON number -1e300",
		// Not 0, which would mean unlimited.
		`{"ratePerSecond":1e-400,"burst":1}`: "ratePerSecond must be 0 or a number a float64 tells from 0, not 1e-400",
		`{"ratePerSecond":1e400,"burst":1}`:  "ratePerSecond must be a number a float64 holds, not 1e400",
		`{"ratePerSecond":"5","burst":1}`:    "ratePerSecond must be a number, not a JSON string",
	} {
		r := servertest.Do(t, "PUT", url, adminKey, body)
		if r.Status != 400 || r.Error.Code != "INVALID_REQUEST" || r.Error.Message != message {
			t.Errorf("PUT %s: %d %s, want 400 INVALID_REQUEST %q", body, r.Status, r.Body, message)
		}
	}
	if l, _ := p.SkillLimit(skillA); l != (ratelimit.Limit{Rate: 5, Burst: 1_000_000}) {
		t.Fatalf("a refused PUT changed the limit to %+v", l)
	}
}
