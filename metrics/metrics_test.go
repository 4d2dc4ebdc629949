package metrics_test

import (
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/fault"
	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/metrics"
	"github.com/profileapi/profileapi/ratelimit"
)

// scrape reads the metrics as Prometheus would: over HTTP, in the text
// format, through the reference parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return families
}

// value returns the counter value of the series of the family with the
// labels, or -1 if there is none.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		if matches(m, labels) {
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func matches(m *dto.Metric, labels map[string]string) bool {
	if len(m.GetLabel()) != len(labels) {
		return false
	}
	for _, l := range m.GetLabel() {
		if labels[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

// series lists a family's label sets, for failure messages and for
// checking that labels stay bounded.
func series(families map[string]*dto.MetricFamily, name string) []string {
	var out []string
	for _, m := range families[name].GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		out = append(out, strings.Join(ls, ","))
	}
	sort.Strings(out)
	return out
}

func TestMetricsOfPublicCalls(t *testing.T) {
	m := metrics.New()
	p := &ratelimit.Policy{Limiter: ratelimit.NewMemory(newClock().Now)}
	if err := p.SetSkillLimit(skillC, ratelimit.Limit{Rate: 1, Burst: 1}); err != nil {
		t.Fatal(err)
	}
	inj := &fault.Injector{}
	if _, err := inj.Add(fault.Fault{SkillID: skillD, Status: 503, Count: 1}); err != nil {
		t.Fatal(err)
	}
	public, adm := newServer(t, m, p, inj)

	settings := "/v2/accounts/~current/settings/"
	token := func(skill, customer string) string { return public.Token(t, customer, skill) }
	calls := []struct {
		path, token string
		status      int
	}{
		{settings + "Profile.name", token(skillA, customer1), 200},
		{settings + "Profile.name", token(skillA, customer2), 200},
		{settings + "Profile.email", token(skillB, customer1), 403},     // not declared
		{settings + "Profile.email", "", 401},                           // no token
		{settings + "Profile.address", token(skillA, customer1), 404},   // unknown setting
		{"/favicon.ico", "", 404},                                       // no route
		{settings + "Profile.givenName", token(skillC, customer1), 404}, // no value
		{settings + "Profile.givenName", token(skillC, customer1), 429}, // over the limit
		{settings + "Profile.email", token(skillD, customer1), 503},     // injected
		{settings + "Profile.email", token(skillD, customer1), 200},     // the fault is spent
	}
	for _, c := range calls {
		if r := servertest.Do(t, "GET", public.URL+c.path, c.token, ""); r.Status != c.status {
			t.Fatalf("GET %s: %d %s, want %d", c.path, r.Status, r.Body, c.status)
		}
	}

	// Scrape through the admin listener, where serve mounts it.
	res, err := http.Get(adm + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /metrics on the admin listener: %d", res.StatusCode)
	}
	families := scrape(t, m.Handler())

	requests := []struct {
		operation, status, region string
		n                         float64
	}{
		{"Profile.name", "200", "NA", 2},
		{"Profile.email", "403", "NA", 1},
		{"Profile.email", "401", "none", 1},
		{"unknown", "404", "none", 2},
		{"Profile.givenName", "404", "NA", 1},
		{"Profile.givenName", "429", "NA", 1},
		{"Profile.email", "503", "NA", 1},
		{"Profile.email", "200", "NA", 1},
	}
	for _, r := range requests {
		labels := map[string]string{"operation": r.operation, "status": r.status, "region": r.region}
		if got := value(families, "profileapi_requests_total", labels); got != r.n {
			t.Errorf("profileapi_requests_total%v = %v, want %v; series: %v", labels, got, r.n, series(families, "profileapi_requests_total"))
		}
	}
	if n := len(families["profileapi_requests_total"].GetMetric()); n != len(requests) {
		t.Errorf("%d request series, want %d: %v", n, len(requests), series(families, "profileapi_requests_total"))
	}

	var observed uint64
	for _, s := range families["profileapi_request_duration_seconds"].GetMetric() {
		observed += s.GetHistogram().GetSampleCount()
	}
	if observed != uint64(len(calls)) {
		t.Errorf("the duration histogram observed %d calls, want %d", observed, len(calls))
	}

	var denials float64
	for _, s := range families["profileapi_consent_denials_total"].GetMetric() {
		denials += s.GetCounter().GetValue()
		for _, l := range s.GetLabel() {
			if l.GetName() == "operation" && l.GetValue() != "Profile.email" {
				t.Errorf("a denial of %s", l.GetValue())
			}
		}
	}
	if denials != 1 {
		t.Errorf("%v consent denials, want 1: %v", denials, series(families, "profileapi_consent_denials_total"))
	}

	if got := value(families, "profileapi_rate_limited_total", map[string]string{}); got != 1 {
		t.Errorf("profileapi_rate_limited_total = %v, want 1", got)
	}
	for status, want := range map[string]float64{"503": 1, "429": 0, "500": 0, "latency": 0} {
		if got := value(families, "profileapi_faults_injected_total", map[string]string{"status": status}); got != want {
			t.Errorf("profileapi_faults_injected_total{status=%q} = %v, want %v", status, got, want)
		}
	}

	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_start_time_seconds", "go_cpu_classes_gc_total_cpu_seconds_total", "go_gc_heap_goal_bytes", "go_build_info"} {
		if families[name] == nil {
			t.Errorf("the scrape has no %s", name)
		}
	}
}

// done runs one call's outcome through Done as the public API would.
func done(m *metrics.Metrics, path string, c api.Call, info *web.Info) {
	r := httptest.NewRequest("GET", path, nil)
	m.Done(r, c, info, 3*time.Millisecond)
}

func TestConsentDenialReason(t *testing.T) {
	m := metrics.New()
	call := api.Call{Region: profileapi.RegionEU, SkillID: skillA, CustomerID: customer1, Field: profileapi.FieldMobileNumber}
	denied := func(attrs ...slog.Attr) *web.Info {
		return &web.Info{Status: 403, ErrorCode: "ACCESS_DENIED", Attrs: attrs}
	}
	done(m, "/", call, denied(slog.String("skill", skillA), slog.String(metrics.ReasonAttr, "FORBIDDEN")))
	done(m, "/", call, denied(slog.String(metrics.ReasonAttr, "ACCESS_NOT_REQUESTED")))
	done(m, "/", call, denied(slog.String(metrics.ReasonAttr, "ACCESS_NOT_REQUESTED")))
	done(m, "/", call, denied(slog.String(metrics.ReasonAttr, "made up by someone")))
	done(m, "/", call, denied())
	done(m, "/", call, &web.Info{Status: 403, ErrorCode: "SOMETHING_ELSE"})
	done(m, "/", call, &web.Info{Status: 401, ErrorCode: "ACCESS_DENIED"})

	families := scrape(t, m.Handler())
	for reason, want := range map[string]float64{"FORBIDDEN": 1, "ACCESS_NOT_REQUESTED": 2, "unknown": 2} {
		labels := map[string]string{"operation": "Profile.mobileNumber", "reason": reason}
		if got := value(families, "profileapi_consent_denials_total", labels); got != want {
			t.Errorf("denials%v = %v, want %v; series: %v", labels, got, want, series(families, "profileapi_consent_denials_total"))
		}
	}
	if n := len(families["profileapi_consent_denials_total"].GetMetric()); n != 3 {
		t.Errorf("%d denial series, want 3: %v", n, series(families, "profileapi_consent_denials_total"))
	}
}

// TestLabelsBounded checks that what a caller controls never becomes a
// label value.
func TestLabelsBounded(t *testing.T) {
	m := metrics.New()
	done(m, "/v2/accounts/~current/settings/Profile.x1", api.Call{}, &web.Info{Status: 404})
	done(m, "/v2/accounts/~current/settings/Profile.x2", api.Call{}, &web.Info{Status: 404})
	done(m, "/anything/else", api.Call{Region: "XX", SkillID: "amzn1.ask.skill.z"}, &web.Info{Status: 404})
	m.FaultInjected(418)

	families := scrape(t, m.Handler())
	want := []string{"operation=unknown,region=none,status=404"}
	if got := series(families, "profileapi_requests_total"); strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("request series %v, want %v", got, want)
	}
	if got := value(families, "profileapi_requests_total", map[string]string{"operation": "unknown", "status": "404", "region": "none"}); got != 3 {
		t.Fatalf("unknown operations counted %v times, want 3", got)
	}
	if got := value(families, "profileapi_faults_injected_total", map[string]string{"status": "other"}); got != 1 {
		t.Fatalf("a fault of an unexpected status counted %v times under other, want 1", got)
	}
}

// TestPrivateRegistries checks that two servers in one process keep their
// own counts and do not collide on registration.
func TestPrivateRegistries(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.RateLimited()
	a.RateLimited()
	b.RateLimited()
	if got := value(scrape(t, a.Handler()), "profileapi_rate_limited_total", map[string]string{}); got != 2 {
		t.Errorf("first registry: %v, want 2", got)
	}
	if got := value(scrape(t, b.Handler()), "profileapi_rate_limited_total", map[string]string{}); got != 1 {
		t.Errorf("second registry: %v, want 1", got)
	}
}

func BenchmarkDone(b *testing.B) {
	m := metrics.New()
	r := httptest.NewRequest("GET", "/v2/accounts/~current/settings/Profile.name", nil)
	call := api.Call{Region: profileapi.RegionNA, SkillID: skillA, CustomerID: customer1, Field: profileapi.FieldName}
	info := &web.Info{Status: 200}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Done(r, call, info, time.Millisecond)
		}
	})
}

// TestConcurrentCalls checks that calls counted at once on every core, in
// whatever shards they land, add up exactly at the scrape, with garbage
// collections (which empty the pool that hands out the shards) between
// them: every call once, in its series and its bucket, and the durations'
// sum. A duration equal to a bound counts in that bound's bucket.
func TestConcurrentCalls(t *testing.T) {
	m := metrics.New()
	durations := []time.Duration{time.Millisecond, time.Millisecond + 1, 0, 2 * time.Minute}
	statuses := []int{200, 404, 418} // 418: a status the shards have no room for
	const goroutines, each = 8, 3000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if g == 0 && i%1000 == 0 {
					runtime.GC()
				}
				call := api.Call{Region: profileapi.RegionEU, Field: profileapi.FieldEmail}
				if i%2 == 1 {
					call = api.Call{Region: profileapi.RegionFE, Field: profileapi.FieldName}
				}
				info := &web.Info{Status: statuses[i%len(statuses)]}
				m.Done(httptest.NewRequest("GET", "/", nil), call, info, durations[i%len(durations)])
			}
		}()
	}
	wg.Wait()

	families := scrape(t, m.Handler())
	// i%2 picks the call, i%3 the status: each of the six pairs is a
	// sixth of the calls.
	for _, op := range []struct{ operation, region string }{{"Profile.email", "EU"}, {"Profile.name", "FE"}} {
		for _, status := range []string{"200", "404", "418"} {
			labels := map[string]string{"operation": op.operation, "status": status, "region": op.region}
			if got, want := value(families, "profileapi_requests_total", labels), float64(goroutines*each/6); got != want {
				t.Errorf("profileapi_requests_total%v = %v, want %v", labels, got, want)
			}
		}
	}
	if n := len(families["profileapi_requests_total"].GetMetric()); n != 6 {
		t.Errorf("%d request series, want 6: %v", n, series(families, "profileapi_requests_total"))
	}

	// i%4 picks the duration, so each call's operation (i%2) sees two of
	// them: Profile.email 1 ms and 0, Profile.name 1 ms + 1 ns and 2 min.
	want := map[string]struct {
		sum     float64
		buckets map[float64]uint64 // cumulative, as exposed
	}{
		"Profile.email": {0.001 * goroutines * each / 4, map[float64]uint64{0.0005: goroutines * each / 4, 0.001: goroutines * each / 2, 60: goroutines * each / 2}},
		"Profile.name":  {(0.001000001 + 120) * goroutines * each / 4, map[float64]uint64{0.001: 0, 0.0025: goroutines * each / 4, 60: goroutines * each / 4}},
	}
	histograms := families["profileapi_request_duration_seconds"].GetMetric()
	if len(histograms) != 2 {
		t.Fatalf("%d duration series, want 2", len(histograms))
	}
	for _, h := range histograms {
		op := h.GetLabel()[0].GetValue()
		w, ok := want[op]
		if !ok {
			t.Fatalf("a duration series for %q", op)
		}
		if got := h.GetHistogram().GetSampleCount(); got != goroutines*each/2 {
			t.Errorf("%s: %d calls timed, want %d", op, got, goroutines*each/2)
		}
		if got := h.GetHistogram().GetSampleSum(); math.Abs(got-w.sum) > 1e-6*w.sum {
			t.Errorf("%s: durations sum to %v s, want %v", op, got, w.sum)
		}
		for _, b := range h.GetHistogram().GetBucket() {
			if n, ok := w.buckets[b.GetUpperBound()]; ok && b.GetCumulativeCount() != n {
				t.Errorf("%s: bucket le=%v holds %d calls, want %d", op, b.GetUpperBound(), b.GetCumulativeCount(), n)
			}
		}
	}
}
