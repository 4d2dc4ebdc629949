package main

import (
	"strings"
	"testing"
	"time"
)

func TestAnalyze(t *testing.T) {
	lim := limits{rssPercent: 10, rssSlackMiB: 5, goroutinePercent: 10, fdSlack: 10}
	// samples makes a sample every second for a minute, each measure
	// grown by its step per sample.
	samples := func(rssStep, goroutineStep, fdStep float64) []sample {
		var ss []sample
		for i := range 60 {
			ss = append(ss, sample{
				at:         time.Duration(i+1) * time.Second,
				rss:        100<<20 + int64(rssStep*float64(i)),
				goroutines: 20 + int(goroutineStep*float64(i)),
				fds:        30 + int(fdStep*float64(i)),
			})
		}
		return ss
	}
	for _, tt := range []struct {
		name    string
		samples []sample
		want    []string // in the failures, in order
	}{
		{"steady", samples(0, 0, 0), nil},
		{"warm-up growth only", func() []sample {
			ss := samples(0, 0, 0)
			for i := range 10 { // before the 12 s warm-up ends
				ss[i].rss, ss[i].goroutines = 10<<20, 2
			}
			return ss
		}(), nil},
		{"small growth", samples(50<<10, 0.05, 0.1), nil},
		{"RSS leak", samples(1<<20, 0, 0), []string{"RSS grew"}},
		{"goroutine leak", samples(0, 1, 0), []string{"goroutines grew"}},
		{"fd leak", samples(0, 0, 1), []string{"open files grew"}},
	} {
		r := analyze(tt.samples, 12*time.Second, lim)
		if len(r.failures) != len(tt.want) {
			t.Errorf("%s: failures %q, want %q", tt.name, r.failures, tt.want)
			continue
		}
		for i, w := range tt.want {
			if !strings.HasPrefix(r.failures[i], w) {
				t.Errorf("%s: failure %q, want %q", tt.name, r.failures[i], w)
			}
		}
	}
	if r := analyze(samples(0, 0, 0)[:2], time.Second, lim); len(r.failures) == 0 {
		t.Error("2 samples after the warm-up: no failure")
	}
}

func TestGauge(t *testing.T) {
	exposition := "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 42\ngo_goroutines_extra 7\n"
	if v, ok := gauge(exposition, "go_goroutines"); !ok || v != 42 {
		t.Fatalf("gauge: %v %v", v, ok)
	}
	if _, ok := gauge(exposition, "go_threads"); ok {
		t.Fatal("found a missing gauge")
	}
}
