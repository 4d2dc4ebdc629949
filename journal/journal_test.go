package journal_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/journal"
)

func ids(entries []journal.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.RequestID
	}
	return out
}

func TestRing(t *testing.T) {
	j := journal.New(3)
	if got := j.List(journal.Filter{}); len(got) != 0 {
		t.Fatalf("a new journal lists %v", got)
	}
	for i := 1; i <= 5; i++ {
		j.Record(journal.Entry{RequestID: strconv.Itoa(i)})
		want := []string{}
		for k := i; k > 0 && k > i-3; k-- {
			want = append(want, strconv.Itoa(k))
		}
		if got := ids(j.List(journal.Filter{})); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after %d records: %v, want %v", i, got, want)
		}
	}
	j.Clear()
	if got := j.List(journal.Filter{}); len(got) != 0 {
		t.Fatalf("after Clear: %v", got)
	}
	j.Record(journal.Entry{RequestID: "6"})
	if got := ids(j.List(journal.Filter{})); fmt.Sprint(got) != "[6]" {
		t.Fatalf("after Clear and a record: %v", got)
	}
}

func TestListFilter(t *testing.T) {
	j := journal.New(10)
	calls := []struct{ skill, customer string }{
		{skillA, customer1}, {skillB, customer1}, {skillA, customer2}, {skillA, customer1}, {"", ""}, {skillB, customer2},
	}
	for i, c := range calls {
		j.Record(journal.Entry{RequestID: strconv.Itoa(i), SkillID: c.skill, CustomerID: c.customer})
	}
	tests := []struct {
		filter journal.Filter
		want   string
	}{
		{journal.Filter{}, "[5 4 3 2 1 0]"},
		{journal.Filter{Limit: 2}, "[5 4]"},
		{journal.Filter{Limit: 100}, "[5 4 3 2 1 0]"},
		{journal.Filter{SkillID: skillA}, "[3 2 0]"},
		{journal.Filter{CustomerID: customer1}, "[3 1 0]"},
		{journal.Filter{SkillID: skillA, CustomerID: customer1}, "[3 0]"},
		{journal.Filter{SkillID: skillA, CustomerID: customer1, Limit: 1}, "[3]"},
		{journal.Filter{SkillID: "amzn1.ask.skill.none"}, "[]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(ids(j.List(tt.filter))); got != tt.want {
			t.Errorf("List(%+v) = %s, want %s", tt.filter, got, tt.want)
		}
	}
}

// The journal is newest first by Time, when a call arrived, as it shows:
// a slow call ends after calls that arrived later, and must not be taken
// for the newest one.
func TestListByArrival(t *testing.T) {
	j := journal.New(10)
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for i, arrived := range []int{0, 3, 1, 2, 2} { // seconds after at, in the order the calls ended
		j.Record(journal.Entry{RequestID: strconv.Itoa(i), SkillID: skillA, Time: at.Add(time.Duration(arrived) * time.Second)})
	}
	for _, tt := range []struct {
		filter journal.Filter
		want   string
	}{
		{journal.Filter{}, "[1 4 3 2 0]"}, // 3 and 4 arrived together: the one that ended last first
		{journal.Filter{Limit: 1}, "[1]"},
		{journal.Filter{SkillID: skillA, Limit: 3}, "[1 4 3]"},
	} {
		if got := fmt.Sprint(ids(j.List(tt.filter))); got != tt.want {
			t.Errorf("List(%+v) = %s, want %s", tt.filter, got, tt.want)
		}
	}
}

// An entry keeps its operation, not the request line it was cut from: a
// query of kilobytes on every call would hold the journal's size a hundred
// times over.
func TestOperationKeepsNoRequestLine(t *testing.T) {
	const n = 1000
	j := journal.New(n)
	query := strings.Repeat("x", 16<<10)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		r := httptest.NewRequest("GET", "/v2/accounts/~current/settings/Profile.adress?p="+query, nil)
		j.Done(r, api.Call{}, &web.Info{Status: 404}, time.Millisecond)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := j.List(journal.Filter{Limit: 1}); len(got) != 1 || got[0].Operation != "Profile.adress" {
		t.Fatalf("entries %+v, want the operation Profile.adress", got)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > n*1024 {
		t.Errorf("the heap grew by %d KiB for %d entries, want about their own size", grew>>10, n)
	}
}

func TestZeroJournal(t *testing.T) {
	var j journal.Journal
	if j.Size() != journal.DefaultSize {
		t.Fatalf("zero journal size %d, want %d", j.Size(), journal.DefaultSize)
	}
	j.Record(journal.Entry{RequestID: "x"})
	if got := ids(j.List(journal.Filter{})); fmt.Sprint(got) != "[x]" {
		t.Fatalf("zero journal lists %v", got)
	}
	if journal.New(0).Size() != journal.DefaultSize || journal.New(-1).Size() != journal.DefaultSize {
		t.Fatal("New without a positive size does not keep DefaultSize")
	}
}

// TestRecordAllocs keeps recording free of allocations: it runs after
// every public call.
func TestRecordAllocs(t *testing.T) {
	j := journal.New(16)
	e := journal.Entry{RequestID: "abc", Region: "NA", SkillID: skillA, CustomerID: customer1, Operation: "Profile.name", Status: 200}
	if n := testing.AllocsPerRun(100, func() { j.Record(e) }); n != 0 {
		t.Fatalf("Record allocates %v times, want 0", n)
	}
	var info *web.Info
	r := httptest.NewRequest("GET", "/v2/accounts/~current/settings/Profile.name", nil)
	web.Middleware(discard, "test", web.HandlerFunc(func(w http.ResponseWriter, req *http.Request) error {
		r, info = req, web.InfoOf(w)
		return nil
	}), nil).ServeHTTP(httptest.NewRecorder(), r)
	call := api.Call{Region: profileapi.RegionNA, SkillID: skillA, CustomerID: customer1, Field: profileapi.FieldName}
	if n := testing.AllocsPerRun(100, func() { j.Done(r, call, info, time.Millisecond) }); n != 0 {
		t.Fatalf("Done allocates %v times, want 0", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	j := journal.New(journal.DefaultSize)
	e := journal.Entry{RequestID: "abc", Region: "NA", SkillID: skillA, CustomerID: customer1, Operation: "Profile.name", Status: 200}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			j.Record(e)
		}
	})
}

func BenchmarkList(b *testing.B) {
	j := journal.New(journal.DefaultSize)
	for i := range journal.DefaultSize {
		j.Record(journal.Entry{SkillID: []string{skillA, skillB}[i%2]})
	}
	b.ReportAllocs()
	for b.Loop() {
		j.List(journal.Filter{SkillID: skillA, Limit: 100})
	}
}

// An entry's time is UTC, as every other time of the admin API, whatever
// the server's time zone.
func TestDoneRecordsUTC(t *testing.T) {
	j := journal.New(1)
	arrived := time.Date(2026, 11, 27, 2, 39, 31, 0, time.FixedZone("EST", -5*3600))
	j.Now = func() time.Time { return arrived.Add(time.Millisecond) }
	r := httptest.NewRequest("GET", "/v2/accounts/~current/settings/Profile.name", nil)
	j.Done(r, api.Call{Field: profileapi.FieldName}, &web.Info{Status: 200}, time.Millisecond)
	got := j.List(journal.Filter{})
	if len(got) != 1 || !got[0].Time.Equal(arrived) || got[0].Time.Location() != time.UTC {
		t.Fatalf("entries %+v, want one at %v in UTC", got, arrived.UTC())
	}
}
