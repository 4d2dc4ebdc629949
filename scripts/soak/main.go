// Command soak holds a steady load on `profileapi serve --demo` for a set
// time, samples the server's memory, goroutines and open files, and fails
// if they grow once the server has warmed up: what leaks slowly shows here
// and in no test. scripts/soak.sh builds the binary and runs it.
//
// The load is the public API's four reads with the demo token, a few with a
// forged token (401), and an admin client that creates, changes, reads and
// deletes a customer in a loop, so that the store stays the same size.
//
// After the warm-up the samples are cut in thirds; the medians of the last
// third are compared with those of the first.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	bin      string
	duration time.Duration
	warmup   time.Duration
	interval time.Duration
	conns    int
	rate     float64
	limits   limits
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	o := options{}
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "", "the profileapi binary (required)")
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long to hold the load")
	fs.DurationVar(&o.warmup, "warmup", 0, "samples ignored at the start (default: a fifth of -duration, at most 1m)")
	fs.DurationVar(&o.interval, "interval", 5*time.Second, "time between samples")
	fs.IntVar(&o.conns, "conns", 8, "public API connections")
	fs.Float64Var(&o.rate, "rate", 2000, "public API requests per second, over all connections (0: as fast as they go)")
	fs.Float64Var(&o.limits.rssPercent, "rss-growth", 10, "RSS growth allowed, percent (or -rss-slack, whichever is more)")
	fs.Float64Var(&o.limits.rssSlackMiB, "rss-slack", 5, "RSS growth allowed, MiB")
	fs.Float64Var(&o.limits.goroutinePercent, "goroutine-growth", 10, "goroutine growth allowed, percent (or 5, whichever is more)")
	fs.IntVar(&o.limits.fdSlack, "fd-growth", 10, "growth of open files allowed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.bin == "" {
		return errors.New("-bin is required")
	}
	if o.warmup == 0 {
		o.warmup = min(o.duration/5, time.Minute)
	}
	if n := (o.duration - o.warmup) / o.interval; n < 6 {
		return fmt.Errorf("-duration %v leaves %d samples after a %v warm-up: want at least 6", o.duration, n, o.warmup)
	}

	dir, err := os.MkdirTemp("", "profileapi-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(o.bin, dir)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(stdout, "soak: pid %d, public %s, admin %s; %v with %d connections at %v req/s (warm-up %v, a sample every %v)\n",
		srv.cmd.Process.Pid, srv.publicURL, srv.adminURL, o.duration, o.conns, rateString(o.rate), o.warmup, o.interval)

	c := &load{}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	c.start(loadCtx, &wg, srv, o)

	var samples []sample
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "elapsed\tRSS MiB\theap MiB\tgoroutines\topen files\treq/s\tadmin/s\tunexpected\t")
	tw.Flush()
	start := time.Now()
	tick := time.NewTicker(o.interval)
	var last totals
	interrupted := false
	for time.Since(start) < o.duration && !interrupted {
		select {
		case <-tick.C:
		case <-ctx.Done():
			interrupted = true
			continue
		case err := <-srv.exited:
			stopLoad()
			return fmt.Errorf("the server exited: %v; its log: %s", err, filepath.Join(dir, "server.log"))
		}
		s, err := srv.sample()
		if err != nil {
			stopLoad()
			return err
		}
		s.at = time.Since(start)
		now := c.totals()
		s.requests, s.admin, s.unexpected = now.requests-last.requests, now.admin-last.admin, now.unexpected-last.unexpected
		last = now
		samples = append(samples, s)
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%d\t%d\t%.0f\t%.0f\t%d\t\n", s.at.Round(time.Second), mib(s.rss), mib(s.heap), s.goroutines, s.fds,
			float64(s.requests)/o.interval.Seconds(), float64(s.admin)/o.interval.Seconds(), s.unexpected)
		tw.Flush()
	}
	tick.Stop()
	stopLoad()
	wg.Wait()
	if interrupted {
		return errors.New("interrupted")
	}

	total := c.totals()
	r := analyze(samples, o.warmup, o.limits)
	fmt.Fprintln(stdout)
	r.print(stdout)
	fmt.Fprintf(stdout, "load: %d public requests, %d admin calls, %d unexpected answers or errors\n", total.requests, total.admin, total.unexpected)
	for _, e := range c.firstErrors() {
		fmt.Fprintln(stdout, "  e.g.", e)
	}
	if total.unexpected > 0 {
		r.failures = append(r.failures, fmt.Sprintf("%d unexpected answers or errors", total.unexpected))
	}
	if len(r.failures) > 0 {
		return fmt.Errorf("FAIL: %s", strings.Join(r.failures, "; "))
	}
	fmt.Fprintln(stdout, "PASS: no growth after the warm-up")
	return nil
}

func rateString(r float64) string {
	if r <= 0 {
		return "full speed"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// server is the profileapi process under load.
type server struct {
	cmd       *exec.Cmd
	exited    chan error
	publicURL string
	adminURL  string
	adminKey  string
	// reads are the demo's four calls: a URL and its token.
	reads []read
}

type read struct{ url, token string }

var (
	naLine    = regexp.MustCompile(`NA apiEndpoint\s+(\S+)`)
	adminLine = regexp.MustCompile(`admin API\s+(\S+)`)
	curlLine  = regexp.MustCompile(`curl -i -H 'Authorization: Bearer ([^']+)' (\S+)`)
)

func startServer(bin, dir string) (*server, error) {
	key := make([]byte, 16)
	rand.Read(key)
	s := &server{adminKey: hex.EncodeToString(key), exited: make(chan error, 1)}
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "serve", "--demo", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--data-dir", dir, "--admin-key", s.adminKey, "--log-level", "warn")
	s.cmd.Stderr = log
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.exited <- s.cmd.Wait()
		log.Close()
	}()
	timeout := time.After(30 * time.Second)
	for len(s.reads) < 4 {
		select {
		case l, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("the server exited at start; see %s", log.Name())
			}
			if m := naLine.FindStringSubmatch(l); m != nil {
				s.publicURL = m[1]
			}
			if m := adminLine.FindStringSubmatch(l); m != nil {
				s.adminURL = m[1]
			}
			if m := curlLine.FindStringSubmatch(l); m != nil {
				s.reads = append(s.reads, read{url: m[2], token: m[1]})
			}
		case <-timeout:
			s.stop()
			return nil, errors.New("the server did not print its demo curl lines within 30 s")
		}
	}
	go func() {
		for range lines {
		}
	}()
	return s, nil
}

// stop sends SIGTERM and waits for the server to drain and exit.
func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

// sample is the server's state at one time, and the load since the one
// before.
type sample struct {
	at                          time.Duration
	rss, heap                   int64
	goroutines, fds             int
	requests, admin, unexpected int64
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func (s *server) sample() (sample, error) {
	var out sample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return out, fmt.Errorf("read the server's RSS: %w", err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return out, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			out.rss = kb << 10
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	if err != nil {
		return out, fmt.Errorf("count the server's open files: %w", err)
	}
	out.fds = len(fds)

	resp, err := httpClient.Get(s.adminURL + "/metrics")
	if err != nil {
		return out, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	metrics, err := io.ReadAll(resp.Body)
	if err != nil {
		return out, fmt.Errorf("GET /metrics: %w", err)
	}
	g, ok := gauge(string(metrics), "go_goroutines")
	if !ok {
		return out, errors.New("GET /metrics has no go_goroutines")
	}
	out.goroutines = int(g)
	h, _ := gauge(string(metrics), "go_memstats_heap_inuse_bytes")
	out.heap = int64(h)
	return out, nil
}

// gauge finds an unlabelled metric's value in the text exposition format.
func gauge(exposition, name string) (float64, bool) {
	for _, l := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// load drives the server and counts what it answers.
type load struct {
	requests, admin, unexpected atomic.Int64
	mu                          sync.Mutex
	errors                      []string // the first few unexpected answers
}

// totals are the load's counts at one time.
type totals struct{ requests, admin, unexpected int64 }

func (l *load) totals() totals {
	return totals{l.requests.Load(), l.admin.Load(), l.unexpected.Load()}
}

func (l *load) unexpectedf(format string, args ...any) {
	l.unexpected.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errors) < 5 {
		l.errors = append(l.errors, fmt.Sprintf(format, args...))
	}
}

func (l *load) firstErrors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errors)
}

// start runs o.conns public-API clients, each on its own connection at its
// share of o.rate, and one admin client, until ctx is done.
func (l *load) start(ctx context.Context, wg *sync.WaitGroup, s *server, o options) {
	var every time.Duration
	if o.rate > 0 {
		every = time.Duration(float64(time.Second) * float64(o.conns) / o.rate)
	}
	for i := range o.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One connection each: the transport keeps it alive.
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			next := time.Now()
			for n := i; ctx.Err() == nil; n++ {
				if every > 0 {
					next = next.Add(every)
					if d := time.Until(next); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					} else if d < -time.Second {
						next = time.Now() // fell behind: do not make up for it in a burst
					}
				}
				r := s.reads[n%len(s.reads)]
				tok, want := r.token, http.StatusOK
				if n%50 == 0 {
					tok, want = r.token[:len(r.token)-4]+"AAAA", http.StatusUnauthorized // forged
				}
				status, err := call(ctx, c, "GET", r.url, tok, "")
				if ctx.Err() != nil {
					return
				}
				l.requests.Add(1)
				if err != nil || status != want {
					l.unexpectedf("GET %s: %d %v, want %d", r.url, status, err, want)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.adminLoop(ctx, s)
	}()
}

// adminLoop creates a customer, grants, mints, reads, changes and deletes
// it, again and again, about 20 calls a second: the store ends each cycle
// as it began.
func (l *load) adminLoop(ctx context.Context, s *server) {
	c := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		id := fmt.Sprintf("amzn1.ask.account.SOAK%d", n)
		for _, step := range []struct {
			method, path, body string
			want               int
		}{
			{"POST", "/admin/v1/customers", `{"id":"` + id + `","region":"NA","profile":{"name":"Soak Test","email":"soak@example.com"}}`, 201},
			{"PUT", "/admin/v1/customers/" + id + "/consents/amzn1.ask.skill.demo", `{"scopes":["alexa::profile:email:read"]}`, 200},
			{"POST", "/admin/v1/tokens", `{"customerId":"` + id + `","skillId":"amzn1.ask.skill.demo"}`, 201},
			{"GET", "/admin/v1/customers/" + id, "", 200},
			{"PATCH", "/admin/v1/customers/" + id, `{"profile":{"email":null}}`, 200},
			{"DELETE", "/admin/v1/customers/" + id, "", 204},
		} {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
			status, err := call(ctx, c, step.method, s.adminURL+step.path, s.adminKey, step.body)
			if ctx.Err() != nil {
				return
			}
			l.admin.Add(1)
			if err != nil || status != step.want {
				l.unexpectedf("%s %s: %d %v, want %d", step.method, step.path, status, err, step.want)
			}
		}
	}
}

// call makes one request and reads the whole answer.
func call(ctx context.Context, c *http.Client, method, url, bearer, body string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// limits say how much growth is tolerated.
type limits struct {
	rssPercent, rssSlackMiB float64
	goroutinePercent        float64
	fdSlack                 int
}

// report compares the first and last thirds of the samples taken after
// the warm-up.
type report struct {
	samples         int
	first, last     sample // medians
	firstAt, lastAt [2]time.Duration
	failures        []string
}

func analyze(samples []sample, warmup time.Duration, lim limits) report {
	i := slices.IndexFunc(samples, func(s sample) bool { return s.at >= warmup })
	if i < 0 {
		return report{failures: []string{"no samples after the warm-up"}}
	}
	after := samples[i:]
	third := len(after) / 3
	if third == 0 {
		return report{samples: len(after), failures: []string{fmt.Sprintf("%d samples after the warm-up: too few to compare", len(after))}}
	}
	firsts, lasts := after[:third], after[len(after)-third:]
	r := report{
		samples: len(after),
		first:   median(firsts), last: median(lasts),
		firstAt: [2]time.Duration{firsts[0].at, firsts[len(firsts)-1].at},
		lastAt:  [2]time.Duration{lasts[0].at, lasts[len(lasts)-1].at},
	}
	if allowed := max(float64(r.first.rss)*lim.rssPercent/100, lim.rssSlackMiB*(1<<20)); float64(r.last.rss-r.first.rss) > allowed {
		r.failures = append(r.failures, fmt.Sprintf("RSS grew from %.1f to %.1f MiB (allowed: +%.1f MiB)", mib(r.first.rss), mib(r.last.rss), allowed/(1<<20)))
	}
	if allowed := max(float64(r.first.goroutines)*lim.goroutinePercent/100, 5); float64(r.last.goroutines-r.first.goroutines) > allowed {
		r.failures = append(r.failures, fmt.Sprintf("goroutines grew from %d to %d (allowed: +%.0f)", r.first.goroutines, r.last.goroutines, allowed))
	}
	if r.last.fds-r.first.fds > lim.fdSlack {
		r.failures = append(r.failures, fmt.Sprintf("open files grew from %d to %d (allowed: +%d)", r.first.fds, r.last.fds, lim.fdSlack))
	}
	return r
}

// median returns each measure's median over the samples.
func median(samples []sample) sample {
	mid := func(vs []int64) int64 {
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	var rss, heap, g, fds []int64
	for _, s := range samples {
		rss, heap = append(rss, s.rss), append(heap, s.heap)
		g, fds = append(g, int64(s.goroutines)), append(fds, int64(s.fds))
	}
	return sample{rss: mid(rss), heap: mid(heap), goroutines: int(mid(g)), fds: int(mid(fds))}
}

func (r report) print(w io.Writer) {
	if r.first.rss == 0 { // too few samples to compare
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "medians after warm-up (%d samples)\tRSS MiB\theap MiB\tgoroutines\topen files\t\n", r.samples)
	for _, row := range []struct {
		name string
		at   [2]time.Duration
		s    sample
	}{{"first third", r.firstAt, r.first}, {"last third", r.lastAt, r.last}} {
		fmt.Fprintf(tw, "%s (%s to %s)\t%.1f\t%.1f\t%d\t%d\t\n", row.name, row.at[0].Round(time.Second), row.at[1].Round(time.Second),
			mib(row.s.rss), mib(row.s.heap), row.s.goroutines, row.s.fds)
	}
	tw.Flush()
}
