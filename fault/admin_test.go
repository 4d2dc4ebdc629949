package fault_test

import (
	"encoding/json"
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
	r = servertest.Do(t, "POST", adm+"/admin/v1/faults", adminKey, `{"latencyMs":120,"fraction":0.25,"seed":-5}`)
	if r.Status != 201 {
		t.Fatalf("second POST: %d %s", r.Status, r.Body)
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
	if !list.Faults[0].CreatedAt.Equal(clk.Now()) {
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
