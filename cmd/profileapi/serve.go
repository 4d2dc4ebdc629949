package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/fixture"
	"github.com/profileapi/profileapi/internal/connerr"
	"github.com/profileapi/profileapi/internal/connlimit"
	"github.com/profileapi/profileapi/internal/conntimeout"
	"github.com/profileapi/profileapi/internal/gcpace"
	"github.com/profileapi/profileapi/internal/http1"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/journal"
	"github.com/profileapi/profileapi/ratelimit"
	"github.com/profileapi/profileapi/tlsconf"
	"github.com/profileapi/profileapi/token"
)

type serveOptions struct {
	addr        string
	adminAddr   string
	db          string
	wire        string
	endpointNA  string
	endpointEU  string
	endpointFE  string
	demo        bool
	logLevel    string
	logFormat   string
	keyRotation time.Duration
	shutdown    time.Duration
	readHeader  time.Duration
	tls         string
	tlsSet      bool // --tls given: an explicit off with --tls-cert is a conflict
	tlsCert     string
	tlsKey      string
	skillLimit  ratelimit.Limit
	custLimit   ratelimit.Limit
	// skillBurstSet and custBurstSet say the bursts were given (a flag or
	// its environment variable): 0 is then an error, not the default.
	skillBurstSet, custBurstSet bool
	journalSize                 int
	maxConns                    int
	fastHTTP                    bool
	fixtures                    string
	redis                       string
	cache                       cacheOptions
	cpuprofile                  string
	memprofile                  string
	gcMinHeap                   int64
}

func serveCmd(g *globals) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Customer Profile API and its admin API",
		Long: `serve runs the public Customer Profile API on --addr and the admin API on
--admin-addr (loopback by default; every admin call needs the admin key).

With no --endpoint-* flag, every region is served on --addr: NA at the root,
EU under /eu and FE under /fe. Set --endpoint-na, --endpoint-eu and
--endpoint-fe to the URLs your skills should be given as apiEndpoint (for
example behind a proxy, or with the live host names mapped to this machine).

Wire modes: "documented" (default) answers exactly as the API reference
shows ({"email": "..."}, 404 for an absent value); "alexa" answers as the
live service does and as the official Alexa Skills Kit SDKs expect (a bare
JSON string, 204 for an absent value). Use --wire alexa for a skill built on
an official SDK.`,
		Example: `  profileapi serve --demo
  profileapi serve --wire alexa --addr 0.0.0.0:8080
  PROFILEAPI_ADMIN_KEY=secret profileapi serve --db /var/lib/profileapi/profiles.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// An explicit 0 is refused, not read as the default.
			o.skillBurstSet, o.custBurstSet = cmd.Flags().Changed("skill-burst"), cmd.Flags().Changed("customer-burst")
			o.tlsSet = cmd.Flags().Changed("tls")
			return serve(cmd.Context(), g, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "public API listen address")
	f.StringVar(&o.adminAddr, "admin-addr", "127.0.0.1:8081", "admin API listen address (keep it private)")
	f.StringVar(&o.db, "db", "", "SQLite database file (default: profileapi.db in --data-dir), or a postgres:// URL")
	f.StringVar(&o.redis, "redis", "", "redis:// URL: share rate limits with every node using the same Redis (default: in-process limits)")
	f.StringVar(&o.wire, "wire", string(api.WireDocumented), "wire mode: documented or alexa")
	f.StringVar(&o.endpointNA, "endpoint-na", "", "advertised apiEndpoint of the NA region (default: this server's address)")
	f.StringVar(&o.endpointEU, "endpoint-eu", "", "advertised apiEndpoint of the EU region (default: this server's address + /eu)")
	f.StringVar(&o.endpointFE, "endpoint-fe", "", "advertised apiEndpoint of the FE region (default: this server's address + /fe)")
	f.BoolVar(&o.demo, "demo", false, "create a demo skill and customer and print ready-to-paste curl lines")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.DurationVar(&o.keyRotation, "key-rotation", token.DefaultRotation, "how long a signing key signs before a new one takes over (at most 8760h)")
	f.StringVar(&o.tls, "tls", tlsOff, "TLS on both listeners: off, or auto (a local CA and certificate kept in --data-dir)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate (chain) for both listeners; with --tls-key")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	f.Float64Var(&o.skillLimit.Rate, "skill-rate", 0, "requests per second each skill may make (0: unlimited); change per skill with: profileapi rate-limit set")
	f.IntVar(&o.skillLimit.Burst, "skill-burst", 0, "requests a skill may make at once above --skill-rate (default: one second's worth)")
	f.Float64Var(&o.custLimit.Rate, "customer-rate", 0, "requests per second a skill may make for one customer (0: unlimited)")
	f.IntVar(&o.custLimit.Burst, "customer-burst", 0, "burst above --customer-rate (default: one second's worth)")
	f.IntVar(&o.journalSize, "journal-size", journal.DefaultSize, "how many recent public-API calls the request journal keeps (at most 100000)")
	f.StringVar(&o.fixtures, "fixtures", "", "YAML file of skills, customers, consents and tokens to create at start (idempotent); prints the tokens")
	f.DurationVar(&o.shutdown, "shutdown-timeout", 10*time.Second, "how long in-flight requests may take to finish on SIGTERM, SIGINT or SIGHUP; those still running then answer 503 (0: do not wait, cut them)")
	f.DurationVar(&o.readHeader, "read-header-timeout", 5*time.Second, "how long a client may take to send a request's headers before its connection is closed")
	f.IntVar(&o.maxConns, "max-conns", defaultMaxConns, "connections the public API holds open at once; more wait for one to close (0: no cap; at most 1000000; lowered to fit the open-files limit)")
	f.BoolVar(&o.fastHTTP, "fast-http", true, "serve the public API's plain-HTTP/1.1 GETs with profileapi's own HTTP/1.1 loop, handing any other request and the rest of its connection to net/http (--fast-http=false: net/http serves all, as it always does over TLS)")
	o.cache.register(f)
	f.Int64Var(&o.gcMinHeap, "gc-min-heap", 20, "MiB the heap may reach before a garbage collection however little is live (0: GOGC alone decides; at most 1048576): fewer collections under load for that much memory")
	f.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile to this file until the server stops, for go tool pprof")
	_ = f.MarkHidden("cpuprofile")
	f.StringVar(&o.memprofile, "memprofile", "", "write what the server allocated to this file when it stops, for go tool pprof")
	_ = f.MarkHidden("memprofile")
	return cmd
}

func serve(ctx context.Context, g *globals, o *serveOptions, stdout, stderr io.Writer) error {
	wire, err := api.ParseWire(o.wire)
	if err != nil {
		return fmt.Errorf("--wire %q: want documented or alexa (alexa for a skill built on an official Alexa SDK)", o.wire)
	}
	scheme, err := o.scheme()
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	if err := o.validate(scheme); err != nil {
		return err
	}
	var fixtures *fixture.File
	if o.fixtures != "" {
		if fixtures, err = loadFixtures(o.fixtures); err != nil {
			return err
		}
	}
	if g.adminKey != "" {
		if _, err := givenAdminKey(g.adminKey); err != nil {
			return err
		}
	}
	stopProfile, err := startProfiles(o.cpuprofile, o.memprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	pacer := gcpace.Start(o.gcMinHeap << 20)
	defer pacer.Stop()
	if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	adminKey, keyFile, err := loadAdminKey(g)
	if err != nil {
		return err
	}
	dbPath := o.db
	if dbPath == "" {
		dbPath = filepath.Join(g.dataDir, "profileapi.db")
	}
	what := "the database " + dbPath
	if o.db != "" {
		what = "--db " + redactURL(o.db)
	}
	var lockErr error
	if !isPostgresURL(dbPath) {
		var release func()
		release, lockErr = lockSQLite(dbPath, what, o.cache.on(dbPath))
		if errors.Is(lockErr, errInUse) {
			return lockErr // before Open, which would migrate it under the other
		}
		if lockErr == nil {
			defer release()
		}
	}
	store, err := openStore(ctx, dbPath, logger)
	if err != nil {
		// Open says best what is wrong with a path that cannot be locked.
		return fmt.Errorf("%s: %w", what, err)
	}
	if lockErr != nil {
		store.Close()
		return lockErr
	}
	// The keyring gets the store itself, not the cache, which hides its
	// Opening: the keyring reloads its keys when SQLite reopens on a
	// restored backup.
	keyStore := store
	// The warm-up goes on through a drain, and is told to stop before the
	// store closes.
	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	store = o.cache.wrap(life, store, dbPath, logger)
	defer closeStore(store, isPostgresURL(dbPath), logger)
	defer endLife()
	keys, err := token.NewKeyring(ctx, keyStore, token.Options{Rotation: o.keyRotation, Prefetch: prefetcher(store)})
	if err != nil {
		return err
	}

	// Listen before serving, so the advertised endpoints name the real ports.
	publicLn, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on --addr: %w", err)
	}
	defer publicLn.Close()
	adminLn, err := net.Listen("tcp", o.adminAddr)
	if err != nil {
		return fmt.Errorf("listen on --admin-addr: %w", err)
	}
	defer adminLn.Close()

	endpoints, err := endpointsFor(o, scheme, publicLn.Addr().String())
	if err != nil {
		return err
	}
	tlsCfg, caFile, err := o.tlsConfig(g.dataDir, endpoints, []string{publicLn.Addr().String(), adminLn.Addr().String()}, stdout)
	if err != nil {
		return err
	}
	limiter, closeLimiter, err := newLimiter(ctx, o.redis, logger)
	if err != nil {
		return err
	}
	defer closeLimiter()
	tools := newTestingTools(o, limiter, store)
	publicHandler := api.NewServer(api.Config{
		Store: store, Tokens: keys, Endpoints: endpoints, Wire: wire, Logger: logger,
		Guards: tools.guards(), Done: tools.done,
	})
	adminHandler := admin.NewServer(admin.Config{
		Store: store, Tokens: keys, Endpoints: endpoints, Wire: wire, Key: adminKey, Logger: logger,
		Extra: tools.routes, Bulk: pacer.Suspend,
	})

	// Before the banner: a file that cannot be applied stops serve before
	// it says it is serving.
	if o.fixtures != "" {
		if err := applyFixtures(ctx, stdout, o.fixtures, fixtures, store, keys, endpoints); err != nil {
			return err
		}
	}
	adminURL := scheme + "://" + loopbackAddr(adminLn.Addr().String())
	fmt.Fprintf(stdout, "profileapi is serving the Customer Profile API in %q wire mode\n", wire)
	for _, r := range profileapi.Regions {
		fmt.Fprintf(stdout, "  %s apiEndpoint  %s\n", r, endpoints.URL(r))
	}
	// The commands the banner names must find this data directory.
	var dataDirFlag string
	if g.dataDir != defaultDataDir(g.getenv) {
		dataDirFlag = " --data-dir " + shellQuote(g.dataDir)
	}
	fmt.Fprintf(stdout, "  admin API       %s  (key: %s)\n", adminURL, keySource(keyFile, dataDirFlag))
	if caFile != "" {
		fmt.Fprintf(stdout, "  TLS CA          %s  (trust it in your skill: `profileapi tls ca-path%s` says how)\n", caFile, dataDirFlag)
	}
	if wire == api.WireDocumented {
		fmt.Fprintln(stdout, "  Bodies are as the API reference documents them. For a skill built on an official Alexa SDK, restart with --wire alexa.")
	}
	if scheme == "http" {
		fmt.Fprintln(stdout, "  Plain HTTP. The Alexa SDK for Python refuses non-HTTPS endpoints: for it, restart with --tls auto.")
	}
	if o.demo {
		// The CLI line the demo prints must reach this server as it runs.
		var cli []string
		if g.dataDir != defaultDataDir(g.getenv) {
			cli = append(cli, "--data-dir "+shellQuote(g.dataDir))
		}
		if adminURL != "http://127.0.0.1:8081" {
			cli = append(cli, "--admin-url "+adminURL)
		}
		if keyFile == "" && strings.TrimSpace(g.getenv("PROFILEAPI_ADMIN_KEY")) != adminKey {
			// Given as a flag: the CLI finds it neither in the data
			// directory nor in the environment, and the line does not
			// show a secret.
			cli = append(cli, "--admin-key KEY")
		}
		if err := runDemo(ctx, stdout, store, keys, endpoints, wire, caFile, strings.Join(cli, " "), scheme, loopbackAddr(publicLn.Addr().String())); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}

	servers := []*http.Server{newHTTPServer(publicHandler, logger, o.readHeader), newHTTPServer(adminHandler, logger, o.readHeader)}
	// Requests still running when --shutdown-timeout has passed see their
	// context end with web.ErrShuttingDown, and answer 503 instead of
	// having their connection cut.
	handlers, stopHandlers := context.WithCancelCause(context.Background())
	defer stopHandlers(nil)
	for _, srv := range servers {
		srv.BaseContext = func(net.Listener) context.Context { return handlers }
	}
	// The public listener is the hot path: one sweeper enforces its timeouts
	// instead of per-request deadlines. Not over TLS, where HTTP/2 takes its
	// per-stream timeouts from the fields Apply zeroes. The admin listener
	// keeps net/http's own: its bulk imports stream large bodies and extend
	// their deadlines.
	if tlsCfg == nil {
		// A request net/http cannot parse gets JSON, as every other error
		// does. Over TLS what these connections carry is encrypted.
		publicLn = conntimeout.Apply(servers[0], connerr.Listener(publicLn))
		adminLn = connerr.Listener(adminLn)
	}
	// A client that opens thousands of connections and keeps each alive
	// would otherwise take every file descriptor, which the admin listener
	// and the database need too.
	maxConns := o.maxConns
	if limit := openFilesLimit(); limit > 0 && maxConns > 0 {
		// More than the process may open: at the limit, accepting would
		// fail and retry, and the database and admin listener get none.
		// fdReserve is left to them, or half of a limit too small for it.
		room := max(int64(limit)-fdReserve, int64(limit)/2, 1)
		if int64(maxConns) > room {
			maxConns = int(room)
			logger.Warn("--max-conns is more than this process may open files: lowered (raise the open-files limit, ulimit -n, to keep it)",
				"max_conns", o.maxConns, "lowered_to", maxConns, "open_files_limit", limit)
		}
	}
	var lastFull atomic.Int64
	publicLn = connlimit.Apply(servers[0], publicLn, maxConns, func() {
		if now := time.Now().Unix(); lastFull.Load() < now-60 && lastFull.Swap(now) < now-60 { // a minute apart
			logger.Warn("the public API holds --max-conns connections: new ones wait for one to close", "max_conns", maxConns)
		}
	})
	// What Shutdown and Close stop: on plain HTTP, the public API's GET
	// requests are served by package http1, which hands the rest to its
	// http.Server.
	stoppers := []stopper{servers[0], servers[1]}
	errc := make(chan error, 2)
	for i, ln := range []net.Listener{publicLn, adminLn} {
		srv := servers[i]
		switch {
		case tlsCfg != nil:
			// ServeTLS with TLSConfig set also turns on HTTP/2 for clients that offer it.
			srv.TLSConfig = tlsCfg.Clone() // ServeTLS changes it: one each
			go func() { errc <- srv.ServeTLS(ln, "", "") }()
		case i == 0 && o.fastHTTP:
			fast := http1.New(srv)
			stoppers[0] = fast
			go func() { errc <- fast.Serve(ln) }()
		default:
			go func() { errc <- srv.Serve(ln) }()
		}
	}
	fastHTTP := stoppers[0] != servers[0] // --fast-http, and not over TLS
	logger.Info("serving", "addr", publicLn.Addr().String(), "admin_addr", adminLn.Addr().String(), "wire", string(wire), "db", redactURL(dbPath), "fast_http", fastHTTP, "version", version())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", o.shutdown)
	if o.shutdown == 0 { // do not wait: cut what is in flight, as asked
		var errs []error
		for _, srv := range stoppers {
			errs = append(errs, srv.Close())
		}
		return errors.Join(errs...)
	}
	// A fresh context: the cancelled one would drain nothing. It lasts
	// shutdownGrace past the timeout, for the 503s of what is still running.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdown+shutdownGrace)
	defer cancel()
	late := time.AfterFunc(o.shutdown, func() {
		logger.Warn("shutdown timeout passed: answering the requests still running with 503", "timeout", o.shutdown)
		stopHandlers(web.ErrShuttingDown)
	})
	defer late.Stop()
	// Both at once: Shutdown closes its listeners first, and one after the
	// other the admin listener would take new calls while the public one
	// drains, only to cut them off at the deadline.
	errs := make([]error, len(stoppers))
	var wg sync.WaitGroup
	for i, srv := range stoppers {
		wg.Go(func() {
			err := srv.Shutdown(shutdownCtx)
			if errors.Is(err, context.DeadlineExceeded) {
				err = errShutdownCut
				_ = srv.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if errors.Is(errs[0], errShutdownCut) && errors.Is(errs[1], errShutdownCut) {
		return errShutdownCut // once, not for each listener
	}
	return errors.Join(errs...)
}

// stopper is a server that serve stops: an *http.Server or an *http1.Server.
type stopper interface {
	Shutdown(context.Context) error
	Close() error
}

// errShutdownCut ends a shutdown that had to close connections: a client
// that neither finished nor read its answer in time.
var errShutdownCut = fmt.Errorf("shutdown: connections still open %s after --shutdown-timeout were closed", shutdownGrace)

// shutdownGrace is how long the requests still running at the shutdown
// timeout have to answer 503 before their connections are closed: enough
// for a handler that watches its context, and for HTTP/2, which keeps a
// connection a second after its last stream; a bound for one that does not.
const shutdownGrace = 3 * time.Second

// Bounds of serve's numeric flags. Each keeps a value from overflowing or
// from taking memory no machine has.
const (
	// A key per second at most (every node stores and loads each one),
	// and one a year at least: longer is not rotating, and keeps token's
	// arithmetic (a key's creation + rotation + MaxTTL, and a rotation of
	// slack) far from overflowing.
	minRotation = time.Second
	maxRotation = 365 * 24 * time.Hour
	// maxMiB (1 TiB) is more memory than this runs with, and << 20 of it
	// fits an int64.
	maxMiB = 1 << 20
	// maxJournalSize: the ring is allocated at start, 136 bytes an entry
	// before its ids, and scanned by every garbage collection: 100000 is
	// 14 MB, a hundred times the default.
	maxJournalSize = 100 * journal.DefaultSize
	// defaultMaxConns is far more than a node's load balancer or skills
	// keep open, and far below the file descriptors Go asks for at start
	// (the hard limit, often 524288 or more).
	defaultMaxConns = 10000
	maxMaxConns     = 1000000
	// fdReserve is the file descriptors --max-conns leaves to everything
	// else: the listeners, the admin API's connections, the database's
	// files and pool, the log.
	fdReserve = 256
)

// closeStore closes the store as serve returns. PostgreSQL's pool waits up
// to 15 s for connections cut off mid-call (a database that stopped
// answering): past what a service manager allows a stop, and after the
// calls were answered 503 already. It gets closeWait, then serve exits
// without it. SQLite's close, which checkpoints its WAL, is waited for.
func closeStore(store io.Closer, postgres bool, logger *slog.Logger) {
	if !postgres {
		store.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.Close()
	}()
	select {
	case <-done:
	case <-time.After(closeWait):
		logger.Warn("the database's connections did not close in time; exiting without them", "waited", closeWait)
	}
}

// closeWait bounds closeStore for PostgreSQL. A variable, for tests.
var closeWait = 2 * time.Second

// validate checks every flag that can be checked without creating
// anything, so that a bad value stops serve before it makes the data
// directory, the admin key or the database, or prints its banner.
func (o *serveOptions) validate(scheme string) error {
	for _, a := range []struct{ flag, addr string }{{"--addr", o.addr}, {"--admin-addr", o.adminAddr}} {
		_, port, err := net.SplitHostPort(a.addr)
		if err != nil {
			return fmt.Errorf("%s %s: want host:port, such as 127.0.0.1:8080 (%w)", a.flag, a.addr, err)
		}
		if _, err := net.LookupPort("tcp", port); err != nil {
			return fmt.Errorf("%s %s: want a port from 0 to 65535 (%w)", a.flag, a.addr, err)
		}
	}
	if _, port, _ := net.SplitHostPort(o.addr); o.addr == o.adminAddr && port != "0" {
		return fmt.Errorf("--addr and --admin-addr are both %s: give the admin API an address of its own", o.addr)
	}
	// The real public address is known only once listening; a placeholder
	// checks the --endpoint-* URLs given.
	if _, err := endpointsFor(o, scheme, "127.0.0.1:0"); err != nil {
		if e, ok := errors.AsType[*profileapi.Error](err); ok {
			return fmt.Errorf("%s: %s", endpointFlags(e.Message), e.Message)
		}
		return err
	}
	switch {
	case o.readHeader <= 0:
		// 0 would not turn it off but fall back to the 15s read timeout,
		// and a negative value turned it off: neither is what it says.
		return fmt.Errorf("--read-header-timeout %s: want a positive duration, such as 5s", o.readHeader)
	case o.shutdown < 0:
		return fmt.Errorf("--shutdown-timeout %s: want 0 or more (0: do not wait for in-flight requests)", o.shutdown)
	case o.keyRotation < minRotation || o.keyRotation > maxRotation:
		return fmt.Errorf("--key-rotation %s: want from 1s to 8760h (a year)", o.keyRotation)
	case o.gcMinHeap < 0 || o.gcMinHeap > maxMiB:
		return fmt.Errorf("--gc-min-heap %d: want from 0 to %d MiB (1 TiB; 0: GOGC alone decides)", o.gcMinHeap, maxMiB)
	case o.journalSize < 1 || o.journalSize > maxJournalSize:
		return fmt.Errorf("--journal-size %d: want from 1 to %d entries", o.journalSize, maxJournalSize)
	case o.maxConns < 0 || o.maxConns > maxMaxConns:
		return fmt.Errorf("--max-conns %d: want from 0 (no cap) to %d connections", o.maxConns, maxMaxConns)
	}
	if err := o.cache.validate(); err != nil {
		return err
	}
	if err := validateLimit("skill", &o.skillLimit, o.skillBurstSet); err != nil {
		return err
	}
	if err := validateLimit("customer", &o.custLimit, o.custBurstSet); err != nil {
		return err
	}
	if o.db != "" && !isPostgresURL(o.db) {
		// Refused here, before a lock file is made beside it.
		if scheme, _, ok := strings.Cut(o.db, "://"); ok {
			// A mistyped postgres:// would be a SQLite file, its password
			// in the name and in the errors that name it.
			return fmt.Errorf("--db %s: %.20q is no scheme --db knows: give a SQLite file's path or a postgres:// URL", redactURL(o.db), scheme)
		}
		if keyValueDSN.MatchString(o.db) {
			// Else a SQLite file of that name, its password in the name.
			return fmt.Errorf("--db %s: a PostgreSQL key=value connection string; give it as a postgres:// URL, such as postgres://user:password@host:5432/dbname", redactURL(o.db))
		}
		if strings.HasPrefix(o.db, "file:") {
			return fmt.Errorf("--db %s: give the SQLite file's path, not a file: URI", o.db)
		}
		if st, err := os.Stat(o.db); err == nil && st.IsDir() {
			return fmt.Errorf("--db %s: a directory; give the SQLite file's path in it, such as %s", o.db, filepath.Join(o.db, "profileapi.db"))
		}
	}
	if o.redis != "" {
		if _, err := ratelimit.ParseRedisURL(o.redis); err != nil {
			return fmt.Errorf("--redis %s: %w", redactURL(o.redis), withoutURL(err))
		}
	}
	if o.tls == tlsAuto {
		if err := o.checkAutoEndpoints(); err != nil {
			return err
		}
	}
	if o.tlsCert != "" {
		// tlsConfig loads them again once listening; this is only so a bad
		// file stops serve before it creates anything.
		if _, err := tlsconf.Files(o.tlsCert, o.tlsKey); err != nil {
			return err
		}
	}
	return nil
}

// newHTTPServer bounds every phase of a connection, so a slow client
// cannot hold a connection or a goroutine for long.
func newHTTPServer(h http.Handler, logger *slog.Logger, readHeaderTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// "OPTIONS *" reaches the handler, for the JSON error every other
		// request that names no resource gets, not net/http's empty 200.
		DisableGeneralOptionsHandler: true,
		// net/http reads 4 KiB beyond MaxHeaderBytes before it answers
		// 431: this makes the cap on the request line and headers 16 KiB.
		MaxHeaderBytes: 16<<10 - 4<<10,
		ErrorLog:       log.New(serverErrorLog{logger.Handler()}, "", 0),
	}
}

// serverErrorLog writes net/http's own lines to the log at Warn, but a
// TLS handshake that a plain-HTTP request, a port scanner or a load
// balancer's TCP check broke off at Debug: each connection makes one, and
// they would bury the warnings that matter. A handshake a client refused
// (an expired or untrusted certificate) stays a warning.
type serverErrorLog struct{ h slog.Handler }

// idleHandshake are the causes of handshakes that were never a TLS client's.
var idleHandshake = []string{"client sent an HTTP request to an HTTPS server", "does not look like a TLS handshake", ": EOF", "connection reset by peer", "i/o timeout"}

func (l serverErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "http: TLS handshake error") && slices.ContainsFunc(idleHandshake, func(s string) bool { return strings.Contains(msg, s) }) {
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if l.h.Enabled(ctx, level) {
		_ = l.h.Handle(ctx, slog.NewRecord(time.Now(), level, msg, 0))
	}
	return len(p), nil
}

// endpointFlags names the --endpoint-* flags of the regions msg names, or
// all three.
func endpointFlags(msg string) string {
	var flags []string
	for _, r := range profileapi.Regions {
		if regexp.MustCompile(`\b` + string(r) + `\b`).MatchString(msg) {
			flags = append(flags, "--endpoint-"+strings.ToLower(string(r)))
		}
	}
	if len(flags) == 0 {
		return "--endpoint-na, --endpoint-eu, --endpoint-fe"
	}
	return strings.Join(flags, ", ")
}

func endpointsFor(o *serveOptions, scheme, publicAddr string) (profileapi.Endpoints, error) {
	loop := profileapi.LoopbackEndpoints(scheme, publicAddr)
	urls := map[profileapi.Region]string{}
	for r, v := range map[profileapi.Region]string{profileapi.RegionNA: o.endpointNA, profileapi.RegionEU: o.endpointEU, profileapi.RegionFE: o.endpointFE} {
		urls[r] = v
		if v == "" {
			urls[r] = loop.URL(r)
		}
	}
	return profileapi.NewEndpoints(urls)
}

func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
