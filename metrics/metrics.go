// Package metrics exports the public API's traffic for Prometheus: calls
// by operation, status and region, their latency, consent denials, rate
// limit refusals and injected faults, with the Go runtime's and the
// process's own metrics.
//
// Every Metrics has its own registry, never the global one, so tests and
// several servers in one process do not collide. Every label takes a
// bounded set of values: the four operations or "unknown", the three
// regions or "none", HTTP statuses; skill and customer ids, which are
// unbounded, are never labels (the journal, package journal, has them).
package metrics

import (
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/web"
)

// Label values for what is not one of the known values.
const (
	UnknownOperation = "unknown"
	NoRegion         = "none"
	UnknownReason    = "unknown"
)

// ReasonAttr is the key of the log attribute (web.AddAttrs) by which the
// public API tells Done why it denied access: FORBIDDEN or
// ACCESS_NOT_REQUESTED. The 403 body says it too, but Done sees only the
// error code; without the attribute a denial counts under "unknown".
const ReasonAttr = "reason"

// Metrics holds the collectors of one server. It is safe for concurrent use.
type Metrics struct {
	registry    *prometheus.Registry
	calls       *calls
	denials     *prometheus.CounterVec
	rateLimited prometheus.Counter
	faults      *prometheus.CounterVec
}

// New returns metrics registered on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		calls:    newCalls(),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profileapi_consent_denials_total",
			Help: "Public API calls answered 403 ACCESS_DENIED, by operation and reason (FORBIDDEN: the skill does not declare the scope; ACCESS_NOT_REQUESTED: the customer has not granted it).",
		}, []string{"operation", "reason"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "profileapi_rate_limited_total",
			Help: "Public API calls refused for being over a rate limit (not counting injected 429s).",
		}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profileapi_faults_injected_total",
			Help: `Faults injected into public API calls, by the status they answered with ("latency" for a delay only).`,
		}, []string{"status"}),
	}
	m.registry.MustRegister(
		m.calls, m.denials, m.rateLimited, m.faults,
		// Besides the usual Go series: the CPU the collector takes
		// (go_cpu_classes_gc_total_cpu_seconds_total against
		// go_cpu_classes_total_cpu_seconds_total) and the heap goal, which
		// --gc-min-heap trades against memory.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/cpu/classes/|^/gc/heap/goal:bytes$`)},
		)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		// go_build_info: which build each node of a fleet runs.
		collectors.NewBuildInfoCollector(),
	)
	// Series that exist from the start, so rate() sees the first one.
	for _, s := range []string{"429", "500", "503", "latency"} {
		m.faults.WithLabelValues(s)
	}
	return m
}

// Handler serves the metrics in the Prometheus exposition formats, for
// GET /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Done counts a finished public-API call; it matches api.Config.Done. A
// 403 ACCESS_DENIED also counts as a consent denial, under the reason the
// API left in the ReasonAttr attribute.
func (m *Metrics) Done(r *http.Request, c api.Call, info *web.Info, d time.Duration) {
	field := c.Field
	if field == 0 {
		field, _ = profileapi.ParseField(r.PathValue("field"))
	}
	m.calls.add(field, c.Region, info.Status, d)
	if info.Status == http.StatusForbidden && info.ErrorCode == "ACCESS_DENIED" {
		m.denials.WithLabelValues(operation(field), reason(info.Attrs)).Inc()
	}
}

// RateLimited counts a call refused by a rate limit; ratelimit.Policy's
// Limited hook calls it.
func (m *Metrics) RateLimited() { m.rateLimited.Inc() }

// FaultInjected counts a fault injected with the status: 429, 500 or 503,
// 0 for latency only (status "latency"), anything else under "other".
// fault.Injector's Injected hook calls it.
func (m *Metrics) FaultInjected(status int) {
	s := "latency"
	switch status {
	case 0:
	case 429, 500, 503:
		s = strconv.Itoa(status)
	default:
		s = "other"
	}
	m.faults.WithLabelValues(s).Inc()
}

// operation is the operation label of a call's field (Done takes it from
// the path for a call refused before its token was read): UnknownOperation
// if the path named no field.
func operation(f profileapi.Field) string {
	if f == 0 {
		return UnknownOperation
	}
	return f.String()
}

func reason(attrs []slog.Attr) string {
	for _, a := range attrs {
		if a.Key != ReasonAttr {
			continue
		}
		switch v := a.Value.String(); v {
		case "FORBIDDEN", "ACCESS_NOT_REQUESTED":
			return v
		}
	}
	return UnknownReason
}
