package ratelimit_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/profileapi/profileapi/ratelimit"
)

func TestAdminRateLimit(t *testing.T) {
	clk := newClock()
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(clk.Now), Skill: ratelimit.Limit{Rate: 1, Burst: 1}}
	public, adm := newServers(t, p)
	url := adm + "/admin/v1/skills/" + skillA + "/rate-limit"

	wantBody := func(r response, want string) {
		t.Helper()
		var got, w any
		if err := json.Unmarshal([]byte(r.raw), &got); err != nil {
			t.Fatalf("body %q: %v", r.raw, err)
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

	r := do(t, "GET", url, adminKey, "")
	if r.status != 200 {
		t.Fatalf("GET: %d %s", r.status, r.raw)
	}
	wantBody(r, `{"skillId":"amzn1.ask.skill.a","ratePerSecond":1,"burst":1,"source":"default"}`)

	// Lift the limit: the skill is no longer refused.
	r = do(t, "PUT", url, adminKey, `{"ratePerSecond": 0}`)
	if r.status != 200 {
		t.Fatalf("PUT unlimited: %d %s", r.status, r.raw)
	}
	wantBody(r, `{"skillId":"amzn1.ask.skill.a","ratePerSecond":0,"burst":0,"source":"override"}`)
	for i := range 5 {
		if r := getName(t, public, skillA, customer1); r.status != 200 {
			t.Fatalf("unlimited call %d: %d %s", i, r.status, r.raw)
		}
	}

	r = do(t, "PUT", url, adminKey, `{"ratePerSecond": 5, "burst": 2}`)
	if r.status != 200 {
		t.Fatalf("PUT: %d %s", r.status, r.raw)
	}
	wantBody(r, `{"skillId":"amzn1.ask.skill.a","ratePerSecond":5,"burst":2,"source":"override"}`)
	wantBody(do(t, "GET", url, adminKey, ""), `{"skillId":"amzn1.ask.skill.a","ratePerSecond":5,"burst":2,"source":"override"}`)
	for i := range 2 {
		if r := getName(t, public, skillA, customer1); r.status != 200 {
			t.Fatalf("call %d within the new burst: %d %s", i, r.status, r.raw)
		}
	}
	if r := getName(t, public, skillA, customer1); r.status != 429 {
		t.Fatalf("over the new limit: %d %s", r.status, r.raw)
	}

	if r := do(t, "DELETE", url, adminKey, ""); r.status != 204 || r.raw != "" {
		t.Fatalf("DELETE: %d %q", r.status, r.raw)
	}
	wantBody(do(t, "GET", url, adminKey, ""), `{"skillId":"amzn1.ask.skill.a","ratePerSecond":1,"burst":1,"source":"default"}`)
}

func TestAdminRateLimitShowsCustomerLimit(t *testing.T) {
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(nil), Customer: ratelimit.Limit{Rate: 2, Burst: 3}}
	_, adm := newServers(t, p)
	r := do(t, "GET", adm+"/admin/v1/skills/"+skillB+"/rate-limit", adminKey, "")
	want := `{"skillId":"amzn1.ask.skill.b","ratePerSecond":0,"burst":0,"source":"default","customer":{"ratePerSecond":2,"burst":3}}`
	if r.status != 200 || strings.TrimSpace(r.raw) != want {
		t.Fatalf("GET: %d %s, want 200 %s", r.status, r.raw, want)
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
			r := do(t, tt.method, tt.url, tt.key, tt.body)
			if r.status != tt.status || r.body.Code != tt.code || !strings.Contains(r.body.Message, tt.message) {
				t.Fatalf("%d %s, want %d %s with %q in the message", r.status, r.raw, tt.status, tt.code, tt.message)
			}
		})
	}
	if l, override := p.SkillLimit(skillA); override {
		t.Fatalf("a refused PUT changed the limit to %+v", l)
	}
}
