package journal_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/journal"
)

func listJournal(t *testing.T, adm, query string) []journal.Entry {
	t.Helper()
	r := servertest.Do(t, "GET", adm+"/admin/v1/journal"+query, adminKey, "")
	var body struct{ Entries []journal.Entry }
	if err := json.Unmarshal([]byte(r.Body), &body); r.Status != 200 || err != nil || body.Entries == nil {
		t.Fatalf("GET journal%s: %d %s %v", query, r.Status, r.Body, err)
	}
	return body.Entries
}

func TestJournalOfPublicCalls(t *testing.T) {
	clk := newClock()
	j := journal.New(50)
	j.Now = clk.Now
	public, adm := newServers(t, j)

	type call struct {
		path, token string
		status      int
		code        string
		region      string
		skill       string
		customer    string
		operation   string
	}
	settings := "/v2/accounts/~current/settings/"
	tokenA1, tokenB2 := public.Token(t, customer1, skillA), public.Token(t, customer2, skillB)
	calls := []call{
		{settings + "Profile.name", tokenA1, 200, "", "NA", skillA, customer1, "Profile.name"},
		{settings + "Profile.email", tokenB2, 403, "ACCESS_DENIED", "NA", skillB, customer2, "Profile.email"},
		{settings + "Profile.email", "", 401, "INVALID_TOKEN", "", "", "", "Profile.email"},
		{settings + "Profile.address", tokenA1, 404, "INVALID_KEY", "", "", "", "Profile.address"},
		{"/v1/somewhere/else", tokenA1, 404, "INVALID_KEY", "", "", "", "else"},
		{settings + strings.Repeat("x", 100), "", 404, "INVALID_KEY", "", "", "", strings.Repeat("x", 64)},
		{settings + "ada@example.com", tokenA1, 404, "INVALID_KEY", "", "", "", ""},
		{settings + strings.Repeat("ada.", 16) + "@example.com", tokenA1, 404, "INVALID_KEY", "", "", "", ""}, // the @ past the cut
		{"/v1/7799827710", tokenA1, 404, "INVALID_KEY", "", "", "", ""},
	}
	var requestIDs []string
	for _, c := range calls {
		r := servertest.Do(t, "GET", public.URL+c.path, c.token, "")
		if r.Status != c.status {
			t.Fatalf("GET %s: %d %s, want %d", c.path, r.Status, r.Body, c.status)
		}
		requestIDs = append(requestIDs, r.Header.Get("X-Request-Id"))
		clk.Add(time.Second) // the next call arrives later, as the journal orders them
	}

	entries := listJournal(t, adm, "")
	if len(entries) != len(calls) {
		t.Fatalf("%d entries, want %d: %+v", len(entries), len(calls), entries)
	}
	for i, c := range calls {
		e := entries[len(calls)-1-i] // newest first
		want := journal.Entry{Time: e.Time, RequestID: requestIDs[i], Region: c.region, SkillID: c.skill, CustomerID: c.customer,
			Operation: c.operation, Status: c.status, Code: c.code, LatencyMS: e.LatencyMS}
		if e != want {
			t.Errorf("entry of GET %s\n got %+v\nwant %+v", c.path, e, want)
		}
		if e.LatencyMS < 0 || e.Time.After(clk.Now()) || e.Time.Before(clk.Now().Add(-time.Minute)) {
			t.Errorf("entry of GET %s: time %v, latency %vms", c.path, e.Time, e.LatencyMS)
		}
	}

	// The journal holds ids and outcomes, never a profile value.
	r := servertest.Do(t, "GET", adm+"/admin/v1/journal", adminKey, "")
	for _, value := range []string{"Ada", "ada@example.com"} {
		if strings.Contains(r.Body, value) {
			t.Fatalf("the journal shows the profile value %q: %s", value, r.Body)
		}
	}

	if got := listJournal(t, adm, "?skillId="+skillB); len(got) != 1 || got[0].Status != 403 {
		t.Fatalf("skillId filter: %+v", got)
	}
	if got := listJournal(t, adm, "?customerId="+customer1+"&skillId="+skillA); len(got) != 1 || got[0].Operation != "Profile.name" {
		t.Fatalf("customerId and skillId filter: %+v", got)
	}
	if got := listJournal(t, adm, "?limit=2"); len(got) != 2 || got[0].RequestID != requestIDs[len(calls)-1] || got[1].RequestID != requestIDs[len(calls)-2] {
		t.Fatalf("limit=2: %+v", got)
	}
	if got := listJournal(t, adm, "?limit=100000"); len(got) != len(calls) {
		t.Fatalf("limit above the size: %d entries", len(got))
	}
	if got := listJournal(t, adm, "?limit=99999999999999999999"); len(got) != len(calls) {
		t.Fatalf("limit past int: %d entries", len(got))
	}
	for query, want := range map[string]string{
		"?skillid=" + skillA:           `unknown query parameter \"skillid\"`, // a misspelt filter is refused, not ignored
		"?limit=-99999999999999999999": "limit must be a whole number, 1 or more",
		"?limit=0":                     "limit must be a whole number, 1 or more",
	} {
		if r := servertest.Do(t, "GET", adm+"/admin/v1/journal"+query, adminKey, ""); r.Status != 400 || !strings.Contains(r.Body, want) {
			t.Errorf("GET journal%s: %d %s, want 400 with %s", query, r.Status, r.Body, want)
		}
	}

	if r := servertest.Do(t, "DELETE", adm+"/admin/v1/journal", adminKey, ""); r.Status != 204 || r.Body != "" {
		t.Fatalf("DELETE: %d %q", r.Status, r.Body)
	}
	if got := listJournal(t, adm, ""); len(got) != 0 {
		t.Fatalf("after DELETE: %+v", got)
	}
}

func TestJournalAdminErrors(t *testing.T) {
	j := journal.New(10)
	_, adm := newServers(t, j)
	url := adm + "/admin/v1/journal"
	tests := []struct {
		name, method, url, key string
		status                 int
		code, message          string
	}{
		{"no admin key", "GET", url, "", 401, "UNAUTHORIZED", ""},
		{"no admin key to clear", "DELETE", url, "", 401, "UNAUTHORIZED", ""},
		{"limit 0", "GET", url + "?limit=0", adminKey, 400, "INVALID_REQUEST", "limit must be a whole number, 1 or more (the journal keeps 10 calls)"},
		{"negative limit", "GET", url + "?limit=-3", adminKey, 400, "INVALID_REQUEST", "limit"},
		{"limit not a number", "GET", url + "?limit=ten", adminKey, 400, "INVALID_REQUEST", "limit"},
		// A script's unset variable must not list every call.
		{"empty skillId", "GET", url + "?skillId=", adminKey, 400, "INVALID_REQUEST", `query parameter "skillId" is empty`},
		{"empty customerId", "GET", url + "?customerId=&limit=5", adminKey, 400, "INVALID_REQUEST", `query parameter "customerId" is empty`},
		{"skillId twice", "GET", url + "?skillId=a&skillId=" + skillA, adminKey, 400, "INVALID_REQUEST", `query parameter "skillId" is given 2 times`},
		{"limit twice", "GET", url + "?limit=1&limit=zzz", adminKey, 400, "INVALID_REQUEST", `query parameter "limit" is given 2 times`},
		{"wrong method", "POST", url, adminKey, 405, "METHOD_NOT_ALLOWED", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := servertest.Do(t, tt.method, tt.url, tt.key, "")
			if r.Status != tt.status || r.Error.Code != tt.code || !strings.Contains(r.Error.Message, tt.message) {
				t.Fatalf("%d %s, want %d %s with %q in the message", r.Status, r.Body, tt.status, tt.code, tt.message)
			}
		})
	}
}
