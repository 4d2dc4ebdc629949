// tools_test.go drives the testing tools serve adds to the admin listener
// (injected faults, the request journal, per-skill rate limits and the
// Prometheus metrics) through real calls, validating every request and
// response against the document, with the public API calls they change.

package apitest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/ratelimit"
)

// customerLimit is the tools stack's limit on a skill's calls for one
// customer (serve's --customer-rate): high enough that the script never
// meets it, so that GET rate-limit shows it.
var customerLimit = ratelimit.Limit{Rate: 500, Burst: 500}

// injectedFault is what the tests read of a fault.
type injectedFault struct {
	ID                string
	SkillID           string
	CustomerID        string
	Operation         string
	Status            int
	RetryAfterSeconds int
	LatencyMS         int `json:"latencyMs"`
	Count             int
	Fraction          float64
	Seed              *int64
	CreatedAt         time.Time
	Remaining         int
}

// journalEntry is what the tests read of a journal entry.
type journalEntry struct {
	RequestID  string
	Region     string
	SkillID    string
	CustomerID string
	Operation  string
	Status     int
	Code       string
	Fault      string
}

// rateLimit is what the tests read of a skill's rate limit.
type rateLimit struct {
	SkillID       string
	RatePerSecond float64
	Burst         int
	Source        string
	Customer      *struct {
		RatePerSecond float64
		Burst         int
	}
}

func toolsScript(s *session, sp *spec) {
	t := s.t
	all := []string{scopeName, scopeGiven, scopeEmail, scopeMobile}
	const (
		skill = "amzn1.ask.skill.tools"
		other = "amzn1.ask.skill.tools-other"
		john  = "amzn1.ask.account.TOOLSJOHN"
		jane  = "amzn1.ask.account.TOOLSJANE"
	)
	s.newSkill(skill, all...)
	s.newSkill(other, all...)
	for _, c := range []string{john, jane} {
		s.newCustomer(c, "NA", map[string]any{"name": "Tool User", "givenName": "Tool", "email": "tools@example.com"})
		s.grant(c, skill, all...)
		s.grant(c, other, all...)
	}
	johnTok, _ := s.token(john, skill)
	janeTok, _ := s.token(jane, skill)
	otherTok, _ := s.token(john, other)

	// A body on a bodiless request is refused, not ignored.
	for _, m := range []string{"GET", "HEAD", "DELETE"} {
		s.adminBad(m, "/admin/v1/faults", `{}`, 400)
	}
	s.adminBad("DELETE", "/admin/v1/faults/f_1", `{}`, 400)
	s.adminBad("DELETE", "/admin/v1/journal", `{}`, 400)

	// Faults.
	var list struct{ Faults []injectedFault }
	s.admin("GET", "/admin/v1/faults", "", 200).decode(t, &list)
	if len(list.Faults) != 0 {
		t.Fatalf("faults at start: %+v", list.Faults)
	}
	var f503 injectedFault
	s.admin("POST", "/admin/v1/faults", jsonOf(map[string]any{"skillId": skill, "operation": "Profile.email", "status": 503, "count": 1, "retryAfterSeconds": 2}), 201).decode(t, &f503)
	if f503.ID == "" || f503.SkillID != skill || f503.Operation != "Profile.email" || f503.Remaining != 1 || f503.CreatedAt.IsZero() || f503.Seed != nil {
		t.Fatalf("created fault %+v", f503)
	}
	s.get("", "Profile.name", johnTok, 200)   // another operation
	s.get("", "Profile.email", otherTok, 200) // another skill
	r := s.get("", "Profile.email", johnTok, 503)
	s.wantError(r, "SERVICE_UNAVAILABLE", "injected fault "+f503.ID)
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("injected 503: Retry-After %q, want 2", got)
	}
	s.get("", "Profile.email", johnTok, 200) // its one call is spent
	s.wantError(s.admin("DELETE", "/admin/v1/faults/"+f503.ID, "", 404), "NOT_FOUND", f503.ID)

	var f429 injectedFault
	s.admin("POST", "/admin/v1/faults", jsonOf(map[string]any{"customerId": jane, "status": 429, "fraction": 1, "seed": 42}), 201).decode(t, &f429)
	if f429.Seed == nil || *f429.Seed != 42 || f429.Count != 0 || f429.Remaining != 0 {
		t.Fatalf("created fault %+v", f429)
	}
	for range 2 { // until deleted
		r := s.get("", "Profile.givenName", janeTok, 429)
		s.wantError(r, "TOO_MANY_REQUESTS", "injected fault "+f429.ID)
		if got := r.header.Get("Retry-After"); got != "1" {
			t.Errorf("injected 429 without retryAfterSeconds: Retry-After %q, want 1", got)
		}
		s.do(exchange{on: onPublic, method: "HEAD", path: settingsPath + "Profile.name", header: http.Header{"Authorization": {"Bearer " + janeTok}}, status: 429})
	}
	s.get("", "Profile.givenName", johnTok, 200)
	var fLatency, f500, fAny injectedFault
	s.admin("POST", "/admin/v1/faults", `{"latencyMs":1,"count":1,"customerId":"`+john+`"}`, 201).decode(t, &fLatency)
	s.admin("POST", "/admin/v1/faults", `{"status":500,"count":1,"skillId":"`+other+`"}`, 201).decode(t, &f500)
	// An empty matcher is refused, as a script's unset variable: taken for
	// any, it would fail every job's calls. Absent ones match any, and are
	// left out of the answer.
	for _, m := range []string{"skillId", "customerId", "operation"} {
		s.wantError(s.adminBad("POST", "/admin/v1/faults", `{"`+m+`":"","status":503}`, 400), "INVALID_REQUEST", m+" is empty")
		s.wantError(s.adminBad("POST", "/admin/v1/faults", `{"`+m+`":null,"status":503}`, 400), "INVALID_REQUEST", m+" is null")
	}
	s.admin("POST", "/admin/v1/faults", `{"status":503,"fraction":0.5,"seed":7}`, 201).decode(t, &fAny)
	if fAny.SkillID != "" || fAny.Operation != "" || fAny.Status != 503 {
		t.Fatalf("created fault %+v", fAny)
	}
	s.admin("GET", "/admin/v1/faults", "", 200).decode(t, &list)
	if len(list.Faults) != 4 || list.Faults[0].ID != f429.ID || list.Faults[1].ID != fLatency.ID || list.Faults[2].ID != f500.ID || list.Faults[3].ID != fAny.ID {
		t.Fatalf("faults %+v, want %s, %s, %s, %s in creation order", list.Faults, f429.ID, fLatency.ID, f500.ID, fAny.ID)
	}
	s.admin("DELETE", "/admin/v1/faults/"+fAny.ID, "", 204)
	s.admin("DELETE", "/admin/v1/faults/"+fAny.ID, "", 404)
	s.admin("DELETE", "/admin/v1/faults/f_999999", "", 404)
	s.admin("DELETE", "/admin/v1/faults/no-such-id", "", 404)
	s.get("", "Profile.name", johnTok, 200) // the latency only delays it
	s.wantError(s.get("", "Profile.name", otherTok, 500), "UNKNOWN_ERROR", "an unexpected error occurred")
	s.admin("DELETE", "/admin/v1/faults/"+f429.ID, "", 204)
	s.get("", "Profile.givenName", janeTok, 200)

	// A fault naming a skill or customer that does not exist would never
	// fire: a test of a skill's error handling would pass untested.
	s.wantError(s.admin("POST", "/admin/v1/faults", `{"status":503,"skillId":"amzn1.ask.skill.nobody"}`, 404), "NOT_FOUND", "skill amzn1.ask.skill.nobody does not exist")
	s.wantError(s.admin("POST", "/admin/v1/faults", `{"status":503,"skillId":"`+skill+`","customerId":"amzn1.ask.account.NOBODY"}`, 404), "NOT_FOUND", "customer amzn1.ask.account.NOBODY does not exist")

	// What the server rejects, the document rejects.
	for body, message := range map[string]string{
		`{"status":404}`:                                 "status must be 429, 500 or 503",
		`{}`:                                             "a fault needs a status",
		`{"status":0,"latencyMs":0}`:                     "a fault needs a status",
		`{"status":500,"retryAfterSeconds":3}`:           "retryAfterSeconds applies only to status 429 or 503",
		`{"latencyMs":5,"retryAfterSeconds":3}`:          "retryAfterSeconds applies only to status 429 or 503",
		`{"status":503,"retryAfterSeconds":86401}`:       "retryAfterSeconds must be from 0 to 86400",
		`{"latencyMs":25001}`:                            "latencyMs must be from 0 to 25000",
		`{"status":503,"fraction":1.5}`:                  "fraction must be from 0 to 1",
		`{"status":503,"seed":7}`:                        "seed applies only with a fraction",
		`{"status":503,"fraction":0,"seed":7}`:           "seed applies only with a fraction",
		`{"status":503,"count":-1}`:                      "count must not be negative",
		`{"status":503,"count":2.5}`:                     "count",
		`{"status":503,"operation":"Profile.address"}`:   "operation \"Profile.address\" is not one of",
		`{"status":503,"skillId":"skill-1"}`:             "skill id",
		`{"status":503,"customerId":"` + skill + `"}`:    "customer id",
		`{"status":503,"id":"f_9"}`:                      "unknown field \"id\"",
		`{"status":503,"remaining":1}`:                   "unknown field \"remaining\"",
		`{"status":503,"createdAt":"2025-01-01T00:00Z"}`: "unknown field \"createdAt\"",
		`[]`:         "",
		`{"status":`: "",
	} {
		s.wantError(s.adminBad("POST", "/admin/v1/faults", body, 400), "INVALID_REQUEST", message)
	}
	// A fault's body is capped at 4 KiB, not the admin API's 64 KiB.
	r = s.adminBad("POST", "/admin/v1/faults", jsonOf(map[string]any{"status": 503, "skillId": "amzn1.ask.skill." + strings.Repeat("a", 5<<10)}), 413)
	s.wantError(r, "REQUEST_TOO_LARGE", "4096 bytes")
	s.adminBad("GET", "/admin/v1/faults/"+f500.ID, "", 405)
	s.adminBad("PATCH", "/admin/v1/faults", `{"status":503}`, 405)
	// At most 1000 faults: what only the server can tell.
	s.admin("GET", "/admin/v1/faults", "", 200).decode(t, &list)
	for range 1000 - len(list.Faults) {
		req, err := http.NewRequestWithContext(t.Context(), "POST", s.st.adminURL+"/admin/v1/faults", strings.NewReader(`{"status":503,"skillId":"`+skill+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminKey)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("filling the faults: %d", resp.StatusCode)
		}
	}
	s.wantError(s.admin("POST", "/admin/v1/faults", `{"status":503}`, 400), "INVALID_REQUEST", "there are already 1000 faults")
	// A filter on the clear-all is refused, not taken for "clear it all".
	s.wantError(s.admin("DELETE", "/admin/v1/faults?skillId="+other, "", 400), "INVALID_REQUEST", "takes no filter")
	s.admin("DELETE", "/admin/v1/faults", "", 204)
	s.admin("DELETE", "/admin/v1/faults", "", 204) // none left: still done
	s.admin("GET", "/admin/v1/faults", "", 200).decode(t, &list)
	if len(list.Faults) != 0 {
		t.Fatalf("faults after clearing: %d", len(list.Faults))
	}

	// The journal: every public call, refused ones too, newest first.
	s.wantError(s.admin("DELETE", "/admin/v1/journal?skillId="+other, "", 400), "INVALID_REQUEST", "takes no filter")
	s.admin("DELETE", "/admin/v1/journal", "", 204)
	var journal struct{ Entries []journalEntry }
	s.admin("GET", "/admin/v1/journal", "", 200).decode(t, &journal)
	if len(journal.Entries) != 0 {
		t.Fatalf("journal after clearing: %+v", journal.Entries)
	}
	s.do(exchange{on: onPublic, method: "GET", path: settingsPath + "Profile.name", header: http.Header{"Authorization": {"Bearer " + johnTok}, "X-Request-Id": {"journal-test.1"}}, status: 200})
	s.do(exchange{on: onPublic, method: "GET", path: settingsPath + "Profile.email", status: 401, invalid: true})
	s.do(exchange{on: onPublic, method: "GET", path: settingsPath + "Profile.address", header: http.Header{"Authorization": {"Bearer " + johnTok}}, status: 404, invalid: true})
	s.get("/eu", "Profile.email", janeTok, 401) // the NA token at the EU endpoint
	var fJournal injectedFault
	s.admin("POST", "/admin/v1/faults", `{"status":503,"count":1}`, 201).decode(t, &fJournal)
	s.get("", "Profile.email", janeTok, 503)
	s.do(exchange{on: onPublic, method: "HEAD", path: settingsPath + "Profile.email", header: http.Header{"Authorization": {"Bearer " + otherTok}}, status: 200})

	s.admin("GET", "/admin/v1/journal", "", 200).decode(t, &journal)
	want := []journalEntry{
		{Region: "NA", SkillID: other, CustomerID: john, Operation: "Profile.email", Status: 200},
		{Region: "NA", SkillID: skill, CustomerID: jane, Operation: "Profile.email", Status: 503, Code: "SERVICE_UNAVAILABLE", Fault: fJournal.ID},
		{Operation: "Profile.email", Status: 401, Code: "INVALID_TOKEN"},
		{Operation: "Profile.address", Status: 404, Code: "INVALID_KEY"},
		{Operation: "Profile.email", Status: 401, Code: "INVALID_TOKEN"},
		{RequestID: "journal-test.1", Region: "NA", SkillID: skill, CustomerID: john, Operation: "Profile.name", Status: 200},
	}
	if len(journal.Entries) != len(want) {
		t.Fatalf("journal %+v, want %d entries", journal.Entries, len(want))
	}
	for i, e := range journal.Entries {
		if w := want[i]; w.RequestID == "" {
			w.RequestID = e.RequestID
			want[i] = w
		}
		if e != want[i] {
			t.Errorf("journal entry %d: %+v, want %+v", i, e, want[i])
		}
	}
	s.admin("GET", "/admin/v1/journal?skillId="+skill, "", 200).decode(t, &journal)
	if len(journal.Entries) != 2 || journal.Entries[0].Status != 503 {
		t.Errorf("journal of %s: %+v", skill, journal.Entries)
	}
	s.admin("GET", "/admin/v1/journal?skillId="+skill+"&customerId="+john+"&limit=1", "", 200).decode(t, &journal)
	if len(journal.Entries) != 1 || journal.Entries[0].RequestID != "journal-test.1" {
		t.Errorf("journal of %s for %s: %+v", skill, john, journal.Entries)
	}
	s.admin("GET", "/admin/v1/journal?limit=3", "", 200).decode(t, &journal)
	if len(journal.Entries) != 3 {
		t.Errorf("journal?limit=3: %d entries", len(journal.Entries))
	}
	s.admin("GET", "/admin/v1/journal?limit=1000000", "", 200).decode(t, &journal) // more than it keeps: all
	if len(journal.Entries) != len(want) {
		t.Errorf("journal?limit=1000000: %d entries, want %d", len(journal.Entries), len(want))
	}
	s.admin("GET", "/admin/v1/journal?customerId=nobody", "", 200).decode(t, &journal)
	if len(journal.Entries) != 0 {
		t.Errorf("journal of nobody: %+v", journal.Entries)
	}
	for _, q := range []string{"limit=0", "limit=-1", "limit=abc", "limit=1.5"} {
		s.wantError(s.adminBad("GET", "/admin/v1/journal?"+q, "", 400), "INVALID_REQUEST", "limit must be a whole number")
	}
	s.adminBad("PUT", "/admin/v1/journal", "", 405)

	// Rate limits.
	limitPath := "/admin/v1/skills/" + skill + "/rate-limit"
	var limit rateLimit
	s.admin("GET", limitPath, "", 200).decode(t, &limit)
	if limit.SkillID != skill || limit.Source != "default" || limit.RatePerSecond != 0 || limit.Burst != 0 || limit.Customer == nil ||
		limit.Customer.RatePerSecond != customerLimit.Rate || limit.Customer.Burst != customerLimit.Burst {
		t.Fatalf("default limit %+v", limit)
	}
	// A mistyped skill id is not given a limit no call would meet; an
	// override outliving its skill can still be removed.
	s.wantError(s.admin("GET", "/admin/v1/skills/amzn1.ask.skill.nobody/rate-limit", "", 404), "NOT_FOUND", "skill amzn1.ask.skill.nobody does not exist")
	s.wantError(s.admin("PUT", "/admin/v1/skills/amzn1.ask.skill.nobody/rate-limit", `{"ratePerSecond":1,"burst":1}`, 404), "NOT_FOUND", "skill amzn1.ask.skill.nobody does not exist")
	s.wantError(s.adminBad("PUT", "/admin/v1/skills/amzn1.ask.skill.nobody/rate-limit", `{}`, 400), "INVALID_REQUEST", "ratePerSecond is required") // malformed first
	s.wantError(s.adminBad("PUT", "/admin/v1/skills/amzn1.ask.skill.nobody/rate-limit", `{"ratePerSecond":-1}`, 400), "INVALID_REQUEST", "")
	s.admin("DELETE", "/admin/v1/skills/amzn1.ask.skill.nobody/rate-limit", "", 204)
	limit = rateLimit{}
	s.admin("PUT", limitPath, `{"ratePerSecond":0.001,"burst":1}`, 200).decode(t, &limit)
	if limit.Source != "override" || limit.RatePerSecond != 0.001 || limit.Burst != 1 {
		t.Fatalf("overridden limit %+v", limit)
	}
	s.get("", "Profile.name", johnTok, 200)
	r = s.get("", "Profile.name", janeTok, 429)
	s.wantError(r, "TOO_MANY_REQUESTS", "the calls of skill "+skill+" are limited to 0.001 per second with a burst of 1")
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 900 {
		t.Errorf("Retry-After %q after a call at 0.001 per second", r.header.Get("Retry-After"))
	}
	s.get("", "Profile.name", otherTok, 200) // another skill's calls
	limit = rateLimit{}
	s.admin("PUT", limitPath, `{"ratePerSecond":0,"burst":7}`, 200).decode(t, &limit)
	if limit.Source != "override" || limit.RatePerSecond != 0 || limit.Burst != 0 {
		t.Fatalf("unlimited override %+v", limit)
	}
	s.get("", "Profile.name", janeTok, 200)
	s.admin("PUT", limitPath, `{"ratePerSecond":1000000,"burst":1000000}`, 200)
	s.admin("DELETE", limitPath, "", 204)
	s.admin("DELETE", limitPath, "", 204) // no override left: still done
	limit = rateLimit{}
	s.admin("GET", limitPath, "", 200).decode(t, &limit)
	if limit.Source != "default" {
		t.Fatalf("reset limit %+v", limit)
	}
	for body, message := range map[string]string{
		`{"burst":5}`:                            "ratePerSecond is required",
		`{"ratePerSecond":null,"burst":5}`:       "ratePerSecond is required",
		`{"ratePerSecond":5}`:                    "burst must be from 1 to 1000000",
		`{"ratePerSecond":5,"burst":0}`:          "burst must be from 1 to 1000000",
		`{"ratePerSecond":5,"burst":1000001}`:    "burst must be from 1 to 1000000",
		`{"ratePerSecond":-1,"burst":1}`:         "ratePerSecond must be 0 (unlimited) or a positive number",
		`{"ratePerSecond":0.0001,"burst":1}`:     "ratePerSecond must be 0 (unlimited) or from 0.001 to 1e+06",
		`{"ratePerSecond":1000001,"burst":1}`:    "ratePerSecond must be 0 (unlimited) or from 0.001 to 1e+06",
		`{"ratePerSecond":0,"burst":-1}`:         "burst must not be negative",
		`{"ratePerSecond":"5","burst":1}`:        "ratePerSecond",
		`{"ratePerSecond":5,"burst":2,"x":1}`:    "unknown field",
		`{"ratePerSecond":5,"burst":2.5}`:        "burst",
		`{"ratePerSecond":5,"source":"default"}`: "unknown field",
	} {
		s.wantError(s.adminBad("PUT", limitPath, body, 400), "INVALID_REQUEST", message)
	}
	s.wantError(s.adminBad("PUT", limitPath, jsonOf(map[string]any{"ratePerSecond": 1, "burst": 1, "note": strings.Repeat("x", 5<<10)}), 413), "REQUEST_TOO_LARGE", "4096 bytes")
	for _, m := range []string{"GET", "DELETE"} {
		s.wantError(s.adminBad(m, "/admin/v1/skills/not-a-skill/rate-limit", "", 400), "INVALID_REQUEST", "skill id")
	}
	s.adminBad("PUT", "/admin/v1/skills/amzn1.ask.account.X/rate-limit", `{"ratePerSecond":1,"burst":1}`, 400)
	s.adminBad("POST", limitPath, `{"ratePerSecond":1,"burst":1}`, 405)
	// Without --customer-rate, there is no customer limit to show.
	plain := &session{t: t, st: newStack(t, api.WireDocumented, ratelimit.Limit{}), spec: sp}
	plain.admin("POST", "/admin/v1/skills", jsonOf(map[string]any{"id": skill, "name": "Tools", "permissions": []string{"alexa::profile:name:read"}}), 201)
	limit = rateLimit{}
	plain.admin("GET", limitPath, "", 200).decode(t, &limit)
	if limit.Customer != nil {
		t.Errorf("a customer limit without one set: %+v", limit)
	}

	// Metrics: the public calls above, without a key.
	r = s.do(exchange{on: onAdmin, method: "GET", path: "/metrics", noKey: true, status: 200})
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("GET /metrics: Content-Type %q", ct)
	}
	for series, want := range map[string]float64{
		`profileapi_rate_limited_total`:                      1,
		`profileapi_faults_injected_total{status="latency"}`: 1,
		`profileapi_faults_injected_total{status="429"}`:     4,
		`profileapi_faults_injected_total{status="500"}`:     1,
		`profileapi_faults_injected_total{status="503"}`:     2,
		// The limiter's one, and the injected fault's two HEADs.
		`profileapi_requests_total{operation="Profile.name",region="NA",status="429"}`: 3,
	} {
		if got := metricValue(r.body, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	r = s.do(exchange{on: onAdmin, method: "GET", path: "/metrics", noKey: true, status: 200,
		header: http.Header{"Accept": {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"}}})
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.google.protobuf") || len(r.body) == 0 {
		t.Errorf("GET /metrics in protobuf: Content-Type %q, %d bytes", ct, len(r.body))
	}
	s.do(exchange{on: onAdmin, method: "GET", path: "/metrics", status: 200}) // a key does no harm
	s.wantError(s.adminBad("DELETE", "/metrics", "", 405), "METHOD_NOT_ALLOWED", "")
}

// metricValue reads one series of the Prometheus text format; -1 if absent.
func metricValue(body []byte, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	var v float64
	if _, err := fmt.Sscan(string(m[1]), &v); err != nil {
		return -1
	}
	return v
}
