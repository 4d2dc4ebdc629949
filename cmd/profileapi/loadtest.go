package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

type loadtestOptions struct {
	customers   int
	connections int
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	wire        string
	addr        string
	workDir     string
	tokensOut   string
	prepare     bool
	serveFlags  []string
	seed        uint64
	idOrder     bool
}

func loadtestCmd(g *globals) *cobra.Command {
	o := &loadtestOptions{}
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Measure the public API under load against a plain net/http server",
		Long: `loadtest measures this binary's public API the way a skill fleet would use it,
and compares it with the most a Go HTTP server can do on the same machine.

It starts "profileapi serve" as a child process on a fresh data directory,
imports --customers customers with full profiles and consent to one skill
declaring all four scopes (through POST /admin/v1/import, and reports how
long that took), mints one token per customer (POST /admin/v1/tokens/batch),
then drives the public API over --connections keep-alive connections for
--duration after a --warmup: every request a random customer's token and a
random setting. Then it drives the same requests against a constant-body
net/http server, also a child process, and prints both and their ratios.

The load generator writes raw HTTP/1.1 requests and parses the answers
minimally, so it takes as little CPU from the servers as it can; the
servers never share its process. Peak RSS is the server's VmHWM. CPU per request
is the server's and the driver's (this process's) while measured: on a small
machine they share the CPU, so the throughput ratio follows their sum.`,
		Example: `  profileapi loadtest                       # 1,000,000 customers, 64 connections, 30 s
  profileapi loadtest --customers 100000 --duration 10s
  profileapi loadtest --prepare --addr 127.0.0.1:18080 --work-dir /tmp/plt --tokens-out /tmp/plt/tokens.txt   # for wrk`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return loadtest(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.customers, "customers", 1_000_000, "customers to import, each with its own token")
	f.IntVar(&o.connections, "connections", 64, "concurrent keep-alive connections")
	f.DurationVar(&o.duration, "duration", 30*time.Second, "how long to measure each server, over all the rounds")
	f.DurationVar(&o.warmup, "warmup", 5*time.Second, "load before measuring, not counted")
	f.IntVar(&o.rounds, "rounds", 3, "measure the servers in turn this many times, --duration in all, so that a change in the machine's load hits both alike")
	f.StringVar(&o.wire, "wire", "documented", "the server's wire mode: documented or alexa")
	f.StringVar(&o.addr, "addr", "127.0.0.1:0", "the server's public address: tokens name it, so fix it to reuse them (--prepare)")
	f.StringVar(&o.workDir, "work-dir", "", "the server's data directory, kept afterwards (default: a temporary one, removed)")
	f.StringVar(&o.tokensOut, "tokens-out", "", `write "PATH TOKEN" lines, one per customer, for scripts/wrk-random.lua`)
	f.BoolVar(&o.prepare, "prepare", false, "import and mint, then stop: no load")
	f.StringArrayVar(&o.serveFlags, "serve-flag", nil, "an extra flag for the server, e.g. --serve-flag=--log-level=debug; repeat for several")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the generated customers and of the requests")
	f.BoolVar(&o.idOrder, "id-order", true, "import the customers in id order, as an export from a database lists them; false: in random order, which SQLite writes several times slower")
	return cmd
}

// loadtestCeilingCmd is the constant-body server loadtest measures its
// ceiling with: net/http and one fixed answer, nothing else.
func loadtestCeilingCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:    "loadtest-ceiling",
		Short:  "Serve a constant JSON body with plain net/http (loadtest's ceiling)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			body := []byte(`{"name":"John Smith"}`)
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
			})}
			fmt.Fprintf(cmd.OutOrStdout(), "ceiling listening on http://%s\n", ln.Addr())
			go func() {
				<-cmd.Context().Done()
				srv.Close()
			}()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "listen address")
	return cmd
}

// loadtestSkill declares every scope; every customer grants it all of them.
const loadtestSkill = "amzn1.ask.skill.loadtest"

func loadtest(ctx context.Context, o *loadtestOptions, stdout, stderr io.Writer) error {
	switch {
	case o.customers < 1 || o.connections < 1:
		return fmt.Errorf("--customers and --connections must be at least 1")
	case o.duration <= 0:
		return fmt.Errorf("--duration %s: want a positive duration, such as 30s", o.duration)
	case o.warmup < 0:
		return fmt.Errorf("--warmup %s: want 0 or more", o.warmup)
	case o.rounds < 1:
		return fmt.Errorf("--rounds %d: want 1 or more", o.rounds)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir := o.workDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "profileapi-loadtest-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	key := randomKey()
	args := append([]string{"serve", "--data-dir", dir, "--db", filepath.Join(dir, "profileapi.db"),
		"--addr", o.addr, "--admin-addr", "127.0.0.1:0", "--wire", o.wire}, o.serveFlags...)
	// The key in the environment, where other users cannot read it as they
	// can a command line (ps).
	server, err := startChild(ctx, exe, args, []string{"PROFILEAPI_ADMIN_KEY=" + key}, stderr)
	if err != nil {
		return fmt.Errorf("start the server: %w", err)
	}
	defer server.stop()
	publicURL, adminURL := server.url("NA apiEndpoint"), server.url("admin API")
	fmt.Fprintf(stdout, "profileapi loadtest: %d customers, %d connections, %s after a %s warm-up in %d rounds, wire %s\n",
		o.customers, o.connections, o.duration, o.warmup, max(o.rounds, 1), o.wire)
	fmt.Fprintf(stdout, "server   pid %d, %s (admin %s), data in %s\n", server.cmd.Process.Pid, publicURL, adminURL, dir)

	admin := &adminClient{base: adminURL, key: key, http: &http.Client{}}
	if err := admin.do(ctx, http.MethodPost, "/admin/v1/skills", map[string]any{
		"id": loadtestSkill, "name": "Load test",
		"permissions": []string{"alexa::profile:name:read", "alexa::profile:given_name:read", "alexa::profile:email:read", "alexa::profile:mobile_number:read"},
	}, nil); err != nil {
		var e *apiError
		if !errors.As(err, &e) || e.Status != http.StatusConflict {
			return fmt.Errorf("create the skill: %w", err)
		}
	}

	gen := &generator{seed: o.seed, n: o.customers, random: !o.idOrder}
	start := time.Now()
	var imported struct {
		Imported int `json:"imported"`
	}
	if err := admin.stream(ctx, "/admin/v1/import", gen.reader(gen.customerLine), &imported); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "import   %d customers in %.1fs (%.0f customers/s)\n", imported.Imported, d.Seconds(), float64(imported.Imported)/d.Seconds())

	start = time.Now()
	toks, err := mintAll(ctx, admin, gen)
	if err != nil {
		return fmt.Errorf("mint tokens: %w", err)
	}
	d = time.Since(start)
	fmt.Fprintf(stdout, "tokens   %d minted in %.1fs (%.0f tokens/s)\n", toks.len(), d.Seconds(), float64(toks.len())/d.Seconds())
	if o.tokensOut != "" {
		if err := toks.writeFile(o.tokensOut); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tokens   written to %s\n", o.tokensOut)
	}
	if o.prepare {
		return nil
	}

	ceiling, err := startChild(ctx, exe, []string{"loadtest-ceiling", "--addr", "127.0.0.1:0"}, nil, stderr)
	if err != nil {
		return fmt.Errorf("start the ceiling server: %w", err)
	}
	defer ceiling.stop()

	fmt.Fprintln(stdout)
	rounds := max(o.rounds, 1)
	api, ceil := &result{hist: &histogram{}}, &result{hist: &histogram{}}
	for round := range rounds {
		warmup := o.warmup
		if round > 0 {
			warmup = min(warmup, time.Second) // the connections' own
		}
		// Which server is loaded first alternates: the one measured second
		// came out cheaper in runs of two identical builds.
		var a, c *result
		for i := range 2 {
			var err error
			if (i+round)%2 == 0 {
				a, err = measure(ctx, o.connections, warmup, o.duration/time.Duration(rounds), o.seed+uint64(round), server, publicURL, toks)
			} else {
				c, err = measure(ctx, o.connections, warmup, o.duration/time.Duration(rounds), o.seed+uint64(round), ceiling, ceiling.url("ceiling listening on"), toks)
			}
			if err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "round %d   profileapi %.0f req/s, p99 %s; ceiling %.0f req/s, p99 %s; ratio %.3f%s\n", round+1,
			a.rate(), ms(a.hist.quantile(0.99)), c.rate(), ms(c.hist.quantile(0.99)), a.rate()/c.rate(), failures(a, c))
		api.add(a)
		ceil.add(c)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "%-18s %10s %9s %9s %9s %9s %9s %14s %14s %10s\n", "", "req/s", "p50", "p99", "p99.9", "max", "non-2xx", "server CPU/req", "driver CPU/req", "peak RSS")
	for _, r := range []struct {
		name string
		*result
	}{{"profileapi", api}, {"net/http ceiling", ceil}} {
		fmt.Fprintf(stdout, "%-18s %10.0f %9s %9s %9s %9s %9d %14s %14s %7.1f MB\n", r.name, r.rate(),
			ms(r.hist.quantile(0.50)), ms(r.hist.quantile(0.99)), ms(r.hist.quantile(0.999)), ms(r.hist.max),
			r.non2xx, r.perRequest(r.cpu), r.perRequest(r.driver), float64(r.peakRSS)/(1<<20))
	}
	fmt.Fprintf(stdout, "ratio              throughput %.3f (target ≥ 0.90)   p99 %.2f (target ≤ 1.25)\n",
		api.rate()/ceil.rate(), float64(api.hist.quantile(0.99))/float64(ceil.hist.quantile(0.99)))
	fmt.Fprintf(stdout, "server RSS %.1f MB now, %.1f MB at its peak, with %d customers (target < 150 MB)\n",
		float64(api.rss)/(1<<20), float64(api.peakRSS)/(1<<20), o.customers)
	if api.errors > 0 || ceil.errors > 0 {
		fmt.Fprintf(stdout, "connection errors: profileapi %d, ceiling %d (%s)\n", api.errors, ceil.errors, firstNonEmpty(api.firstErr, ceil.firstErr))
	}
	// An answer that is not a profile (401 for a token no longer valid, 429
	// from a rate limit) is cheaper than one that is: a run with such
	// answers measures something else, however good its ratio looks.
	for _, r := range []struct {
		name string
		*result
	}{{"profileapi", api}, {"the ceiling", ceil}} {
		if r.non2xx > 0 {
			return fmt.Errorf("%d of the %d answers of %s were not 2xx (the first: %d): the ratio above does not measure profile reads", r.non2xx, r.requests, r.name, r.firstStatus)
		}
		if r.errors*1000 > r.requests {
			return fmt.Errorf("%d connection errors for %d answers of %s (%s): the ratio above does not measure a healthy server", r.errors, r.requests, r.name, r.firstErr)
		}
	}
	return nil
}

// failures flags a round whose answers were not all profiles.
func failures(a, c *result) string {
	if a.non2xx == 0 && c.non2xx == 0 {
		return ""
	}
	return fmt.Sprintf("   (not 2xx: profileapi %d, ceiling %d)", a.non2xx, c.non2xx)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// child is a server started as a child process.
type child struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout bytes.Buffer
	exited chan struct{}
}

// startChild runs exe with args, its PROFILEAPI_* environment removed so
// that only the flags given apply (but for the tests' switch that makes
// the test binary act as this one), and waits until it prints a URL.
func startChild(ctx context.Context, exe string, args, env []string, stderr io.Writer) (*child, error) {
	c := &child{cmd: exec.Command(exe, args...), exited: make(chan struct{})}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PROFILEAPI_") || strings.HasPrefix(kv, "PROFILEAPI_TEST_AS_MAIN=") {
			c.cmd.Env = append(c.cmd.Env, kv)
		}
	}
	c.cmd.Env = append(c.cmd.Env, env...)
	c.cmd.Stderr = stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			c.mu.Lock()
			c.stdout.Write(sc.Bytes())
			c.stdout.WriteByte('\n')
			c.mu.Unlock()
			if !signalled && strings.Contains(sc.Text(), "http://") && (strings.Contains(sc.Text(), "admin API") || strings.HasPrefix(sc.Text(), "ceiling")) {
				close(ready)
				signalled = true
			}
		}
		_ = c.cmd.Wait()
		close(c.exited)
	}()
	select {
	case <-ready:
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s exited: %s", args[0], c.cmd.ProcessState)
	case <-time.After(time.Minute):
		c.stop()
		return nil, fmt.Errorf("%s did not start within a minute", args[0])
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

// url returns the URL on the child's output line that starts with label.
func (c *child) url(label string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := regexp.MustCompile(regexp.QuoteMeta(label) + `\s+(http://\S+)`).FindSubmatch(c.stdout.Bytes())
	if m == nil {
		return ""
	}
	return string(m[1])
}

// stop ends the child with SIGTERM, or SIGKILL if it lingers.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// procStatus reads a "VmRSS"-like field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// procCPU is the process's user and system CPU time so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// generator makes the same customers and token requests from a seed, in
// the order of their ids, as an export from a database would list them.
type generator struct {
	seed   uint64
	n      int
	random bool    // not in id order: in the random order of the ids
	order  []int32 // customer numbers in the order of the lines
}

// inOrder returns the customer numbers sorted by id, or as they come.
func (g *generator) inOrder() []int32 {
	if g.order != nil {
		return g.order
	}
	g.order = make([]int32, g.n)
	for i := range g.order {
		g.order[i] = int32(i)
	}
	if g.random {
		return g.order
	}
	ids := make([]string, g.n)
	for i := range ids {
		ids[i] = string(g.customerID(nil, i))
	}
	slices.SortFunc(g.order, func(a, b int32) int { return strings.Compare(ids[a], ids[b]) })
	return g.order
}

var (
	givenNames  = []string{"John", "Anna", "Hiroshi", "Priya", "Lukas", "Sofia", "Mateo", "Aiko", "Olivia", "Rahul", "Emma", "Noah", "Chloé", "José", "Zoë", "Wei"}
	familyNames = []string{"Smith", "Schmidt", "Tanaka", "Sharma", "Müller", "Rossi", "García", "Suzuki", "Johnson", "Patel", "Dubois", "Brown", "Martin", "López", "Nakamura", "O'Brien"}
	// The reference's ways of writing an Indian mobile number.
	countryCodes = []string{"+91", "0091", "91"}
	regions      = []string{"NA", "EU", "FE"}
)

// customerID is customer i's id, of the live service's form: random-looking
// and 64 characters after the prefix, as profileapi.NewCustomerID makes.
func (g *generator) customerID(dst []byte, i int) []byte {
	var raw [40]byte
	x := g.seed*0x9e3779b97f4a7c15 + uint64(i)
	for k := 0; k < 40; k += 8 {
		x = splitmix(x)
		binary.LittleEndian.PutUint64(raw[k:], x)
	}
	dst = append(dst, "amzn1.ask.account."...)
	return base32.StdEncoding.AppendEncode(dst, raw[:])
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// customerLine appends customer i's import line: a full profile, its
// mobile number written one of the reference's ways, and every scope
// granted to the load test's skill.
func (g *generator) customerLine(dst []byte, i int) []byte {
	h := splitmix(g.seed ^ uint64(i)*0x2545f4914f6cdd1d)
	given, family := givenNames[h%16], familyNames[(h>>4)%16]
	// The reference's number, 7799827710, with other last four digits:
	// always a valid Indian mobile number.
	number := 7799820000 + (h>>8)%10000
	dst = append(dst, `{"id":"`...)
	dst = g.customerID(dst, i)
	dst = append(dst, `","region":"`...)
	dst = append(dst, regions[i%3]...)
	dst = append(dst, `","profile":{"name":"`...)
	dst = append(dst, given...)
	dst = append(dst, ' ')
	dst = append(dst, family...)
	dst = append(dst, `","givenName":"`...)
	dst = append(dst, given...)
	dst = append(dst, `","email":"`...)
	dst = append(dst, "customer"...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	dst = append(dst, "@example.com"...)
	dst = append(dst, `","mobileNumber":{"countryCode":"`...)
	dst = append(dst, countryCodes[(h>>40)%3]...)
	dst = append(dst, `","phoneNumber":"`...)
	digits := strconv.FormatUint(number, 10)
	switch (h >> 44) % 3 {
	case 0: // 7799827710
		dst = append(dst, digits...)
	case 1: // +91 7799-82-77-10
		dst = append(dst, "+91 "...)
		dst = append(dst, digits[:4]+"-"+digits[4:6]+"-"+digits[6:8]+"-"+digits[8:]...)
	default: // 7799-82-77-10
		dst = append(dst, digits[:4]+"-"+digits[4:6]+"-"+digits[6:8]+"-"+digits[8:]...)
	}
	dst = append(dst, `"}},"consents":{"`+loadtestSkill+`":["alexa::profile:name:read","alexa::profile:given_name:read","alexa::profile:email:read","alexa::profile:mobile_number:read"]}}`...)
	return append(dst, '\n')
}

// tokenLine appends the tokens/batch line of customer i.
func (g *generator) tokenLine(dst []byte, i int) []byte {
	dst = append(dst, `{"customerId":"`...)
	dst = g.customerID(dst, i)
	return append(dst, `","skillId":"`+loadtestSkill+`","ttlSeconds":86400}`+"\n"...)
}

// reader streams the lines of every customer, in id order.
func (g *generator) reader(line func([]byte, int) []byte) io.Reader {
	order := g.inOrder()
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 0, 256<<10)
		for _, i := range order {
			buf = line(buf, int(i))
			if len(buf) > 240<<10 {
				if _, err := pw.Write(buf); err != nil {
					return
				}
				buf = buf[:0]
			}
		}
		_, _ = pw.Write(buf)
		pw.Close()
	}()
	return pr
}

// tokens are the minted tokens, packed: one arena, no pointer per token.
type tokens struct {
	arena    []byte
	ends     []int    // end of token i in arena
	endpoint []uint8  // index into prefixes
	prefixes []string // the path prefix of each endpoint: "", "/eu", "/fe"
}

func (t *tokens) len() int { return len(t.ends) }

func (t *tokens) token(i int) []byte {
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.arena[start:t.ends[i]]
}

func (t *tokens) add(tok, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	k := -1
	for j, p := range t.prefixes {
		if p == u.Path {
			k = j
		}
	}
	if k < 0 {
		k = len(t.prefixes)
		t.prefixes = append(t.prefixes, u.Path)
	}
	t.arena = append(t.arena, tok...)
	t.ends = append(t.ends, len(t.arena))
	t.endpoint = append(t.endpoint, uint8(k))
	return nil
}

// writeFile writes "PATH TOKEN" lines, PATH the settings path without
// the setting, for scripts/wrk-random.lua.
func (t *tokens) writeFile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range t.len() {
		w.WriteString(t.prefixes[t.endpoint[i]] + settingsPath)
		w.WriteByte(' ')
		w.Write(t.token(i))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

const settingsPath = "/v2/accounts/~current/settings/"

// mintAll mints one token per customer through tokens/batch.
func mintAll(ctx context.Context, admin *adminClient, gen *generator) (*tokens, error) {
	resp, err := admin.post(ctx, "/admin/v1/tokens/batch", gen.reader(gen.tokenLine))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := admin.streamError(resp); err != nil {
		return nil, err
	}
	t := &tokens{arena: make([]byte, 0, gen.n*600), ends: make([]int, 0, gen.n), endpoint: make([]uint8, 0, gen.n)}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			APIAccessToken string `json:"apiAccessToken"`
			APIEndpoint    string `json:"apiEndpoint"`
			Code           string `json:"code"`
			Message        string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, err
		}
		if line.Code != "" {
			return nil, fmt.Errorf("%s: %s", line.Code, line.Message)
		}
		if err := t.add(line.APIAccessToken, line.APIEndpoint); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if t.len() != gen.n {
		return nil, fmt.Errorf("%d tokens for %d customers", t.len(), gen.n)
	}
	return t, nil
}

// result is what one server did under load.
type result struct {
	hist        *histogram
	requests    int64
	non2xx      int64
	firstStatus int // of the first answer not 2xx
	errors      int64
	firstErr    string
	elapsed     time.Duration
	cpu         time.Duration // the server's, while measured
	driver      time.Duration // this process's, the load generator's, meanwhile
	peakRSS     int64
	rss         int64
}

func (r *result) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// add sums another round into r; RSS is the latest.
func (r *result) add(o *result) {
	r.hist.merge(o.hist)
	r.requests += o.requests
	r.non2xx += o.non2xx
	r.errors += o.errors
	if r.firstErr == "" {
		r.firstErr = o.firstErr
	}
	if r.firstStatus == 0 {
		r.firstStatus = o.firstStatus
	}
	r.elapsed += o.elapsed
	r.cpu += o.cpu
	r.driver += o.driver
	r.peakRSS, r.rss = o.peakRSS, o.rss
}

// perRequest is d per request answered.
func (r *result) perRequest(d time.Duration) time.Duration {
	if r.requests == 0 {
		return 0
	}
	return (d / time.Duration(r.requests)).Round(100 * time.Nanosecond)
}

// The phases of a load run, which every connection checks after each
// request.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// measure drives the server at baseURL with o.connections connections,
// each sending requests one at a time, each with a random token and a
// random setting.
func measure(ctx context.Context, connections int, warmup, duration time.Duration, seed uint64, server *child, baseURL string, toks *tokens) (*result, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, err
	}
	var phase atomic.Int32
	results := make([]*connResult, connections)
	var wg sync.WaitGroup
	for i := range connections {
		results[i] = &connResult{hist: &histogram{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].drive(u.Host, toks, seed*1000003+uint64(i), &phase)
		}()
	}
	sleep := func(d time.Duration) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			phase.Store(phaseStop)
			wg.Wait()
			return ctx.Err()
		}
	}
	if err := sleep(warmup); err != nil {
		return nil, err
	}
	pid := server.cmd.Process.Pid
	cpu0, driver0, start := procCPU(pid), procCPU(os.Getpid()), time.Now()
	phase.Store(phaseMeasure)
	if err := sleep(duration); err != nil {
		return nil, err
	}
	phase.Store(phaseStop)
	elapsed, cpu, driver := time.Since(start), procCPU(pid)-cpu0, procCPU(os.Getpid())-driver0
	wg.Wait()
	r := &result{hist: &histogram{}, elapsed: elapsed, cpu: cpu, driver: driver, peakRSS: procStatus(pid, "VmHWM"), rss: procStatus(pid, "VmRSS")}
	for _, c := range results {
		r.hist.merge(c.hist)
		r.requests += c.requests
		r.non2xx += c.non2xx
		r.errors += c.errors
		if r.firstErr == "" {
			r.firstErr = c.firstErr
		}
		if r.firstStatus == 0 {
			r.firstStatus = c.firstStatus
		}
	}
	return r, nil
}

// connResult is what one connection measured.
type connResult struct {
	hist        *histogram
	firstStatus int
	requests    int64
	non2xx      int64
	errors      int64
	firstErr    string
}

// drive sends requests on one connection until the phase is phaseStop,
// reconnecting after an error or a Connection: close.
func (c *connResult) drive(host string, toks *tokens, seed uint64, phase *atomic.Int32) {
	rng := mrand.New(mrand.NewPCG(seed, seed^0xda3e39cb94b95bdb))
	fields := []string{"Profile.name", "Profile.givenName", "Profile.email", "Profile.mobileNumber"}
	var conn net.Conn
	var rd *bufio.Reader
	req := make([]byte, 0, 1024)
	for phase.Load() != phaseStop {
		if conn == nil {
			var err error
			if conn, err = net.Dial("tcp", host); err != nil {
				c.fail(err, phase)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			rd = bufio.NewReaderSize(conn, 16<<10)
		}
		i := rng.IntN(toks.len())
		req = append(req[:0], "GET "...)
		req = append(req, toks.prefixes[toks.endpoint[i]]...)
		req = append(req, settingsPath...)
		req = append(req, fields[rng.IntN(len(fields))]...)
		req = append(req, " HTTP/1.1\r\nHost: "...)
		req = append(req, host...)
		req = append(req, "\r\nAuthorization: Bearer "...)
		req = append(req, toks.token(i)...)
		req = append(req, "\r\n\r\n"...)
		start := time.Now()
		if _, err := conn.Write(req); err != nil {
			c.fail(err, phase)
			conn.Close()
			conn = nil
			continue
		}
		status, keepAlive, err := readResponse(rd)
		d := time.Since(start)
		if err != nil {
			c.fail(err, phase)
			conn.Close()
			conn = nil
			continue
		}
		if phase.Load() == phaseMeasure {
			c.requests++
			c.hist.record(d)
			if status < 200 || status > 299 {
				c.non2xx++
				if c.firstStatus == 0 {
					c.firstStatus = status
				}
			}
		}
		if !keepAlive {
			conn.Close()
			conn = nil
		}
	}
	if conn != nil {
		conn.Close()
	}
}

func (c *connResult) fail(err error, phase *atomic.Int32) {
	if phase.Load() == phaseStop {
		return
	}
	c.errors++
	if c.firstErr == "" {
		c.firstErr = err.Error()
	}
}

// readResponse reads one HTTP/1.1 response: its status, whether the
// connection stays open, and its body by Content-Length, which both
// servers always send.
func readResponse(rd *bufio.Reader) (status int, keepAlive bool, err error) {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	length, keepAlive := 0, true
	for {
		line, err = rd.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(line) <= 2 { // the blank line
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case asciiEqualFold(name, "Connection"):
			keepAlive = !asciiEqualFold(value, "close")
		case asciiEqualFold(name, "Transfer-Encoding"):
			return 0, false, fmt.Errorf("unexpected Transfer-Encoding %q", value)
		}
	}
	if _, err := rd.Discard(length); err != nil {
		return 0, false, err
	}
	return status, keepAlive, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i]|0x20, s[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// histogram counts durations in log-linear buckets: 128 per power of two,
// so a quantile is off by less than 1%.
type histogram struct {
	counts [40 * 128]uint64
	total  uint64
	max    time.Duration
}

const subBuckets = 128

func bucketOf(ns uint64) int {
	if ns < subBuckets {
		return int(ns)
	}
	shift := bits.Len64(ns) - 8 // keep 8 significant bits: 128 to 255
	return (shift+1)*subBuckets + int(ns>>shift) - subBuckets
}

// valueOf is the upper end of bucket b, in nanoseconds.
func valueOf(b int) uint64 {
	if b < subBuckets {
		return uint64(b)
	}
	shift := b/subBuckets - 1
	return (uint64(b%subBuckets+subBuckets)+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	b := bucketOf(uint64(max(d, 0)))
	if b >= len(h.counts) {
		b = len(h.counts) - 1
	}
	h.counts[b]++
	h.total++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, n := range o.counts {
		h.counts[i] += n
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// quantile is the smallest recorded duration that q of all are at most.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	var seen uint64
	for b, n := range h.counts {
		seen += n
		if seen >= rank {
			return min(time.Duration(valueOf(b)), h.max)
		}
	}
	return h.max
}
