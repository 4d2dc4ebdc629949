package fault_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi/fault"
	"github.com/profileapi/profileapi/internal/servertest"
)

func TestAdminFaults(t *testing.T) {
	clk := newClock()
	var s sleeper
	inj := &fault.Injector{Now: clk.Now, Sleep: s.Sleep}
	public, adm := newServers(t, inj)

	r := servertest.Do(t, "POST", adm+"/admin/v1/faults", adminKey, `{"skillId":"`+skillA+`","operation":"Profile.email","status":503,"retryAfterSeconds":9,"count":2}`)
	if r.Status != 201 {
		t.Fatalf("POST: %d %s", r.Status, r.Body)
	}
	want := `{"id":"f_1","skillId":"amzn1.ask.skill.a","operation":"Profile.email","status":503,"retryAfterSeconds":9,"latencyMs":0,"count":2,"fraction":0,"createdAt":"2025-01-01T00:00:00Z","remaining":2}`
	if got := strings.TrimSpace(r.Body); got != want {
		t.Fatalf("POST body\n got %s\nwant %s", got, want)
	}
	// Times are to the millisecond, as every time of the admin API.
	clk.Add(1500*time.Microsecond + 7)
	r = servertest.Do(t, "POST", adm+"/admin/v1/faults", adminKey, `{"latencyMs":120,"fraction":0.25,"seed":-5}`)
	if r.Status != 201 || !strings.Contains(r.Body, `"createdAt":"2025-01-01T00:00:00.001Z"`) {
		t.Fatalf("second POST: %d %s, want createdAt to the millisecond", r.Status, r.Body)
	}

	// The first fault hits the skill's email calls.
	if r := get(t, public, "Profile.email", skillA, customer1); r.Status != 503 || r.Header.Get("Retry-After") != "9" || !strings.Contains(r.Error.Message, "injected fault f_1") {
		t.Fatalf("email call: %d %s Retry-After %q", r.Status, r.Body, r.Header.Get("Retry-After"))
	}

	var list struct{ Faults []fault.Fault }
	r = servertest.Do(t, "GET", adm+"/admin/v1/faults", adminKey, "")
	if err := json.Unmarshal([]byte(r.Body), &list); r.Status != 200 || err != nil {
		t.Fatalf("GET: %d %s %v", r.Status, r.Body, err)
	}
	if len(list.Faults) != 2 || list.Faults[0].ID != "f_1" || list.Faults[0].Remaining != 1 ||
		list.Faults[1].ID != "f_2" || list.Faults[1].Seed == nil || *list.Faults[1].Seed != -5 || list.Faults[1].LatencyMS != 120 {
		t.Fatalf("GET faults = %+v", list.Faults)
	}
	if !list.Faults[0].CreatedAt.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("createdAt = %v, want the injector's clock", list.Faults[0].CreatedAt)
	}

	if r := servertest.Do(t, "DELETE", adm+"/admin/v1/faults/f_1", adminKey, ""); r.Status != 204 || r.Body != "" {
		t.Fatalf("DELETE f_1: %d %q", r.Status, r.Body)
	}
	if r := servertest.Do(t, "DELETE", adm+"/admin/v1/faults/f_1", adminKey, ""); r.Status != 404 || r.Error.Code != "NOT_FOUND" {
		t.Fatalf("DELETE f_1 again: %d %s", r.Status, r.Body)
	}
	if r := get(t, public, "Profile.email", skillA, customer1); r.Status != 200 {
		t.Fatalf("email call after delete: %d %s", r.Status, r.Body)
	}

	if r := servertest.Do(t, "DELETE", adm+"/admin/v1/faults", adminKey, ""); r.Status != 204 {
		t.Fatalf("DELETE all: %d %s", r.Status, r.Body)
	}
	r = servertest.Do(t, "GET", adm+"/admin/v1/faults", adminKey, "")
	if got := strings.TrimSpace(r.Body); r.Status != 200 || got != `{"faults":[]}` {
		t.Fatalf("GET after clearing: %d %s", r.Status, got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.slept {
		if d != 120*time.Millisecond {
			t.Fatalf("slept %v, want 120ms", d)
		}
	}
}

func TestAdminFaultErrors(t *testing.T) {
	inj := &fault.Injector{}
	_, adm := newServers(t, inj)
	url := adm + "/admin/v1/faults"
	tests := []struct {
		name, method, url, key, body string
		status                       int
		code, message                string
	}{
		{"no admin key", "GET", url, "", "", 401, "UNAUTHORIZED", ""},
		{"no admin key to add", "POST", url, "", `{"status":500}`, 401, "UNAUTHORIZED", ""},
		{"no admin key to clear", "DELETE", url, "", "", 401, "UNAUTHORIZED", ""},
		{"no admin key to delete", "DELETE", url + "/f_1", "", "", 401, "UNAUTHORIZED", ""},
		{"unknown fault", "DELETE", url + "/f_99", adminKey, "", 404, "NOT_FOUND", "f_99"},
		{"empty body", "POST", url, adminKey, "", 400, "INVALID_REQUEST", "empty"},
		{"unknown field", "POST", url, adminKey, `{"status":500,"probability":0.5}`, 400, "INVALID_REQUEST", "unknown field"},
		{"id is the server's", "POST", url, adminKey, `{"id":"mine","status":500}`, 400, "INVALID_REQUEST", "unknown field"},
		{"remaining is the server's", "POST", url, adminKey, `{"status":500,"remaining":3}`, 400, "INVALID_REQUEST", "unknown field"},
		{"nothing to do", "POST", url, adminKey, `{}`, 400, "INVALID_REQUEST", "needs a status"},
		{"bad status", "POST", url, adminKey, `{"status":418}`, 400, "INVALID_REQUEST", "status"},
		{"status as string", "POST", url, adminKey, `{"status":"503"}`, 400, "INVALID_REQUEST", "status"},
		{"bad operation", "POST", url, adminKey, `{"status":500,"operation":"Profile.address"}`, 400, "INVALID_REQUEST", "operation"},
		{"latency too long", "POST", url, adminKey, `{"latencyMs":60001}`, 400, "INVALID_REQUEST", "latencyMs"},
		{"negative count", "POST", url, adminKey, `{"status":500,"count":-1}`, 400, "INVALID_REQUEST", "count"},
		{"fraction above 1", "POST", url, adminKey, `{"status":500,"fraction":2}`, 400, "INVALID_REQUEST", "fraction"},
		{"bad skill id", "POST", url, adminKey, `{"status":500,"skillId":"a"}`, 400, "INVALID_REQUEST", "skill id"},
		{"too large", "POST", url, adminKey, `{"status":500,"skillId":"` + strings.Repeat("a", 5000) + `"}`, 413, "REQUEST_TOO_LARGE", ""},
		{"wrong method", "PUT", url, adminKey, `{}`, 405, "METHOD_NOT_ALLOWED", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := servertest.Do(t, tt.method, tt.url, tt.key, tt.body)
			if r.Status != tt.status || r.Error.Code != tt.code || !strings.Contains(r.Error.Message, tt.message) {
				t.Fatalf("%d %s, want %d %s with %q in the message", r.Status, r.Body, tt.status, tt.code, tt.message)
			}
		})
	}
	if n := len(inj.List()); n != 0 {
		t.Fatalf("%d faults added by refused requests", n)
	}
}

// TestAdminFaultWholeNumbers: every integer of a fault takes a whole number
// however JSON writes it (503.0, 1e0), as the document's "integer" says, and
// refuses a fraction, a string, a boolean or a value beyond int64 naming
// the field.
func TestAdminFaultWholeNumbers(t *testing.T) {
	inj := &fault.Injector{}
	_, adm := newServers(t, inj)
	url := adm + "/admin/v1/faults"
	for _, tt := range []struct {
		body string
		want func(f fault.Fault) bool
	}{
		{`{"status":503.0,"count":1}`, func(f fault.Fault) bool { return f.Status == 503 && f.Count == 1 }},
		{`{"status":5.03e2,"count":1e0}`, func(f fault.Fault) bool { return f.Status == 503 && f.Count == 1 && f.Remaining == 1 }},
		{`{"status":429,"retryAfterSeconds":9.0}`, func(f fault.Fault) bool { return f.RetryAfterSeconds == 9 }},
		{`{"status":429,"retryAfterSeconds":8.64E4}`, func(f fault.Fault) bool { return f.RetryAfterSeconds == 86400 }},
		{`{"latencyMs":1e3}`, func(f fault.Fault) bool { return f.Status == 0 && f.LatencyMS == 1000 }},
		{`{"latencyMs":250.000}`, func(f fault.Fault) bool { return f.LatencyMS == 250 }},
		{`{"status":500,"fraction":0.5,"seed":7.0}`, func(f fault.Fault) bool { return f.Seed != nil && *f.Seed == 7 }},
		{`{"status":500,"fraction":0.5,"seed":-7e0}`, func(f fault.Fault) bool { return f.Seed != nil && *f.Seed == -7 }},
		// Exact, though a float64 would round it.
		{`{"status":500,"fraction":0.5,"seed":1234567890123456789}`, func(f fault.Fault) bool { return f.Seed != nil && *f.Seed == 1234567890123456789 }},
		{`{"status":500,"fraction":0.5,"seed":9223372036854775807}`, func(f fault.Fault) bool { return f.Seed != nil && *f.Seed == math.MaxInt64 }},
		{`{"status":500,"seed":null,"count":null}`, func(f fault.Fault) bool { return f.Seed == nil && f.Count == 0 }},
	} {
		r := servertest.Do(t, "POST", url, adminKey, tt.body)
		var f fault.Fault
		if err := json.Unmarshal([]byte(r.Body), &f); r.Status != 201 || err != nil || !tt.want(f) {
			t.Errorf("POST %s: %d %s", tt.body, r.Status, r.Body)
		}
	}
	added := len(inj.List())

	const whole = "must be a whole number, not a JSON "
	for body, message := range map[string]string{
		`{"status":503.5}`:                           "status " + whole + "number 503.5",
		`{"status":"503"}`:                           "status " + whole + "string",
		`{"status":true}`:                            "status " + whole + "bool",
		`{"status":1e19}`:                            "status must be a whole number, not a JSON number 1e19",
		`{"status":503.0e-1}`:                        "status " + whole + "number 503.0e-1",
		`{"status":418.0}`:                           "status must be 429, 500 or 503, or 0 for latency only; not 418",
		`{"status":503,"count":1.5}`:                 "count " + whole + "number 1.5",
		`{"status":503,"count":"1"}`:                 "count " + whole + "string",
		`{"status":503,"count":-1e0}`:                "count must not be negative",
		`{"status":503,"count":1e300}`:               "count must be a whole number, not a JSON number 1e300",
		`{"latencyMs":1e3.5}`:                        "not valid JSON",
		`{"latencyMs":0.5e3}`:                        "", // 500: allowed, checked below
		`{"latencyMs":2.5e4}`:                        "", // 25000: allowed, checked below
		`{"latencyMs":2.50001e4}`:                    "latencyMs " + whole + "number 2.50001e4",
		`{"latencyMs":2.6e4}`:                        "latencyMs must be from 0 to 25000",
		`{"latencyMs":false}`:                        "latencyMs " + whole + "bool",
		`{"latencyMs":-1e30}`:                        "latencyMs must be a whole number, not a JSON number -1e30",
		`{"status":503,"retryAfterSeconds":1.25}`:    "retryAfterSeconds " + whole + "number 1.25",
		`{"status":503,"retryAfterSeconds":[1]}`:     "retryAfterSeconds " + whole + "array",
		`{"status":503,"retryAfterSeconds":86401.0}`: "retryAfterSeconds must be from 0 to 86400",
		`{"status":500,"seed":7.5}`:                  "seed " + whole + "number 7.5",
		`{"status":500,"seed":"7"}`:                  "seed " + whole + "string",
		`{"status":500,"seed":{}}`:                   "seed " + whole + "object",
		`{"status":500,"seed":9223372036854775808}`:  "seed must be a whole number, not a JSON number 9223372036854775808",
		`{"status":500,"fraction":1e-400}`:           "fraction must be 0 or a number a float64 tells from 0, not 1e-400",
	} {
		r := servertest.Do(t, "POST", url, adminKey, body)
		if message == "" {
			if r.Status != 201 {
				t.Errorf("POST %s: %d %s, want 201", body, r.Status, r.Body)
			}
			added++
			continue
		}
		if r.Status != 400 || r.Error.Code != "INVALID_REQUEST" || !strings.Contains(r.Error.Message, message) {
			t.Errorf("POST %s: %d %s, want 400 INVALID_REQUEST with %q", body, r.Status, r.Body, message)
		}
	}
	if n := len(inj.List()); n != added {
		t.Fatalf("%d faults, want %d: a refused request added one", n, added)
	}
}
