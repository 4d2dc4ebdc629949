package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/fault"
	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/journal"
	"github.com/profileapi/profileapi/metrics"
	"github.com/profileapi/profileapi/ratelimit"
)

const adminKey = "test-admin-key-0123456789"

// stack is the real public and admin servers of one wire mode, on loopback
// listeners, over a real SQLite file, with the testing tools (rate limits,
// injected faults, the request journal, metrics) wired in as serve wires
// them (cmd/profileapi/tools.go).
type stack struct {
	wire      api.Wire
	store     *testStore
	publicURL string
	adminURL  string
	// faults maps a skill id to the error the public API's guard answers
	// its calls with: how a rate limiter or a failing dependency would.
	faults sync.Map

	limits   *ratelimit.Policy
	injector *fault.Injector
	journal  *journal.Journal
	metrics  *metrics.Metrics
	// broken makes the testing tools' admin handlers fail inside, as a bug
	// would: they use no store that could be made to fail instead.
	broken atomic.Bool
}

// newStack starts a stack whose skills have no rate limit by default and
// whose calls for one customer are limited to customer (the zero Limit:
// none), as serve's --skill-rate and --customer-rate set them.
func newStack(t *testing.T, wire api.Wire, customer ratelimit.Limit) *stack {
	t.Helper()
	st := &stack{
		wire:     wire,
		limits:   &ratelimit.Policy{Limiter: ratelimit.NewMemory(nil), Customer: customer},
		injector: &fault.Injector{},
		journal:  journal.New(journal.DefaultSize),
		metrics:  metrics.New(),
	}
	st.limits.Limited = func(api.Call) { st.metrics.RateLimited() }
	st.injector.Injected = func(_ api.Call, f fault.Fault) { st.metrics.FaultInjected(f.Status) }
	srv := servertest.Start(t, servertest.Options{
		Wire: wire, AdminKey: adminKey,
		// As serve: the rate limit, then injected faults; then the test's own.
		Guards: []api.Guard{st.limits.Guard(), st.injector.Guard(), st.fault},
		Done: func(r *http.Request, c api.Call, info *web.Info, d time.Duration) {
			st.metrics.Done(r, c, info, d)
			st.journal.Done(r, c, info, d)
		},
		Extra: func(mux *web.Mux, auth func(http.Handler) http.Handler) {
			key := func(h http.Handler) http.Handler { return auth(st.breakable(h)) }
			st.limits.Routes(mux, key)
			st.injector.Routes(mux, key)
			st.journal.Routes(mux, key)
			mux.Handle("GET /metrics", st.metrics.Handler())
		},
		WrapStore: func(db profileapi.Store) profileapi.Store {
			st.store = &testStore{Store: db}
			st.limits.Skills, st.injector.Directory = st.store, st.store // as serve
			return st.store
		},
	})
	st.publicURL, st.adminURL = srv.URL, srv.AdminURL
	return st
}

// breakable panics while st.broken is set; the admin listener's middleware
// answers a panic with its 500.
func (st *stack) breakable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st.broken.Load() {
			panic("apitest: a testing tool is broken")
		}
		next.ServeHTTP(w, r)
	})
}

func (st *stack) fault(_ context.Context, c api.Call, _ *web.Info) error {
	if err, ok := st.faults.Load(c.SkillID); ok {
		return err.(error)
	}
	return nil
}

// testStore is the real store, except that every call but the signing
// keys' can be made to fail, as it would with the database gone.
type testStore struct {
	profileapi.Store
	mu   sync.Mutex
	fail error
}

func (s *testStore) failWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *testStore) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail
}

func (s *testStore) Ping(ctx context.Context) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.Ping(ctx)
}

func (s *testStore) CreateSkill(ctx context.Context, sk *profileapi.Skill) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.CreateSkill(ctx, sk)
}

func (s *testStore) Skill(ctx context.Context, id string) (*profileapi.Skill, error) {
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.Store.Skill(ctx, id)
}

func (s *testStore) Skills(ctx context.Context) ([]*profileapi.Skill, error) {
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.Store.Skills(ctx)
}

func (s *testStore) DeleteSkill(ctx context.Context, id string) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.DeleteSkill(ctx, id)
}

func (s *testStore) CreateCustomer(ctx context.Context, c *profileapi.Customer) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.CreateCustomer(ctx, c)
}

func (s *testStore) EachCustomer(ctx context.Context, fn func(*profileapi.Customer, []*profileapi.Consent) error) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.(admin.Lister).EachCustomer(ctx, fn)
}

func (s *testStore) Customer(ctx context.Context, id string) (*profileapi.Customer, error) {
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.Store.Customer(ctx, id)
}

func (s *testStore) UpdateCustomer(ctx context.Context, id string, fn func(*profileapi.Customer) error) (*profileapi.Customer, error) {
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.Store.UpdateCustomer(ctx, id, fn)
}

func (s *testStore) DeleteCustomer(ctx context.Context, id string) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.DeleteCustomer(ctx, id)
}

func (s *testStore) PutConsent(ctx context.Context, c *profileapi.Consent) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.PutConsent(ctx, c)
}

func (s *testStore) Consent(ctx context.Context, customerID, skillID string) (*profileapi.Consent, error) {
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.Store.Consent(ctx, customerID, skillID)
}

func (s *testStore) DeleteConsent(ctx context.Context, customerID, skillID string) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.DeleteConsent(ctx, customerID, skillID)
}

func (s *testStore) Access(ctx context.Context, customerID, skillID string) (*profileapi.Access, error) {
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.Store.Access(ctx, customerID, skillID)
}

func (s *testStore) ImportCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.(admin.Importer).ImportCustomers(ctx, customers, consents)
}

// decodeNDJSON decodes an application/x-ndjson body for kin-openapi, which
// knows no such type: every line must match the schema, which describes
// one line, and the first stands for the body.
func decodeNDJSON(body io.Reader, _ http.Header, schema *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	var first any
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("NDJSON line %d: %w", i+1, err)
		}
		if schema != nil && schema.Value != nil {
			if err := schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
				return nil, fmt.Errorf("NDJSON line %d: %w", i+1, err)
			}
		}
		if i == 0 {
			first = v
		}
	}
	return first, nil
}

// spec is the OpenAPI document, loaded and validated, with a router, and
// the operations and statuses the tests have seen.
type spec struct {
	doc        *openapi3.T
	router     routers.Router
	publicBase string // the documented default server of the public API
	adminBase  string // the documented default server of the admin listener
	opts       *openapi3filter.Options

	mu   sync.Mutex
	seen map[string]map[int]bool // "METHOD /path" → statuses
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(admin.OpenAPI)
	if err != nil {
		t.Fatalf("load admin/openapi.json: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("admin/openapi.json is not a valid OpenAPI document: %v", err)
	}
	// kin-openapi asserts no format it does not know; these two the
	// document uses are checked here independently of the server's code.
	doc.SetStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	doc.SetStringFormatValidator("uri", openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return fmt.Errorf("%q is not an absolute URI", s)
		}
		return nil
	}))
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", decodeNDJSON)
	// GET /metrics answers Prometheus's protobuf format when asked: bytes.
	openapi3filter.RegisterBodyDecoder("application/vnd.google.protobuf", openapi3filter.FileBodyDecoder)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route admin/openapi.json: %v", err)
	}
	s := &spec{doc: doc, router: router, seen: map[string]map[int]bool{}}
	if len(doc.Servers) == 0 {
		t.Fatal("the document lists no servers")
	}
	s.publicBase = doc.Servers[0].URL
	health := doc.Paths.Value("/healthz")
	if health == nil || len(health.Servers) == 0 {
		t.Fatal("the document has no /healthz path with the admin listener as its server")
	}
	s.adminBase = health.Servers[0].URL
	s.opts = &openapi3filter.Options{
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		MultiError:                        true,
		AuthenticationFunc:                bearerPresent,
		SchemaValidationOptions:           doc.GetSchemaValidationOptions(),
	}
	return s
}

// bearerPresent accepts any Bearer credential: whether it is the right one
// is the server's business, but a request without one breaks the
// operation's security requirement.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	sc := in.SecurityScheme
	if sc.Type != "http" || !strings.EqualFold(sc.Scheme, "bearer") {
		return fmt.Errorf("security scheme %q is not HTTP bearer", in.SecuritySchemeName)
	}
	scheme, cred, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
		return fmt.Errorf("no Bearer credential for %q", in.SecuritySchemeName)
	}
	return nil
}

func (s *spec) record(route *routers.Route, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := route.Method + " " + route.Path
	if s.seen[k] == nil {
		s.seen[k] = map[int]bool{}
	}
	s.seen[k][status] = true
}

// operations lists every operation of the document as "METHOD /path".
func (s *spec) operations() []string {
	var ops []string
	for path, item := range s.doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

type listener int

const (
	onPublic listener = iota
	onAdmin
)

func (l listener) String() string {
	if l == onPublic {
		return "public"
	}
	return "admin"
}

// exchange is one request to a real server and what must come of it.
type exchange struct {
	on     listener
	method string
	path   string // with the region's prefix on the public listener
	header http.Header
	body   string
	// noKey leaves out the admin key (admin listener only).
	noKey bool
	// status is what the server must answer.
	status int
	// invalid says the document itself rejects the request (a schema,
	// an enum, a pattern, a missing security credential, an undocumented
	// path or method); otherwise the document must accept it.
	invalid bool
	// getOnly sends a GET without the HEAD that do sends after it: for an
	// answer that only reading the resource finds, which a HEAD does not.
	getOnly bool
}

func (x exchange) String() string {
	s := fmt.Sprintf("%s %s %s", x.on, x.method, x.path)
	if x.body != "" {
		b := x.body
		if len(b) > 200 {
			b = b[:200] + "…"
		}
		s += " " + b
	}
	return s
}

// reply is a server's answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r *reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorBody decodes an error body.
func (r *reply) errorBody(t *testing.T) (code, message string) {
	t.Helper()
	var e struct{ Code, Message string }
	r.decode(t, &e)
	return e.Code, e.Message
}

// session drives one stack and checks every exchange against the document.
type session struct {
	t    *testing.T
	st   *stack
	spec *spec
}

var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends the exchange to the real server, checks the status, and
// validates the request and the response against the document. A GET to
// the admin listener that the document routes is sent again as a HEAD,
// which must answer as the GET did, without the body, and match the
// document's HEAD operation: Go's mux serves HEAD with every GET pattern.
func (s *session) do(x exchange) *reply {
	t := s.t
	t.Helper()
	r := s.send(x)
	if x.on != onAdmin || x.method != http.MethodGet || x.getOnly || !s.spec.routes(t.Context(), x, http.MethodGet) {
		return r
	}
	head := x
	head.method = http.MethodHead
	h := s.send(head)
	for _, name := range []string{"Content-Type", "Allow", "Retry-After", "WWW-Authenticate", "Vary"} {
		if got, want := h.header.Values(name), r.header.Values(name); !slices.Equal(got, want) {
			t.Fatalf("%s: %s %q, but the GET's is %q", head, name, got, want)
		}
	}
	if h.header.Get("X-Request-Id") == "" {
		t.Fatalf("%s: no X-Request-Id", head)
	}
	return r
}

// send is do without the HEAD.
func (s *session) send(x exchange) *reply {
	t := s.t
	t.Helper()
	base := s.st.publicURL
	if x.on == onAdmin {
		base = s.st.adminURL
	}
	req, err := http.NewRequestWithContext(t.Context(), x.method, base+x.path, bodyReader(x.body))
	if err != nil {
		t.Fatalf("%s: %v", x, err)
	}
	for k, v := range x.header {
		req.Header[k] = v
	}
	if x.on == onAdmin && !x.noKey && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+adminKey)
	}
	if x.body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", x, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s: read body: %v", x, err)
	}
	r := &reply{status: resp.StatusCode, header: resp.Header, body: body}
	if r.status != x.status {
		t.Fatalf("%s: status %d, want %d; body %s", x, r.status, x.status, body)
	}
	if err := s.spec.check(t.Context(), x, req.Header, r); err != nil {
		t.Fatalf("%s → %d %s\ndoes not match admin/openapi.json: %v", x, r.status, body, err)
	}
	return r
}

// routes reports whether the document has the method on the exchange's path.
func (s *spec) routes(ctx context.Context, x exchange, method string) bool {
	req, err := s.validationRequest(ctx, x, method, http.Header{})
	if err != nil {
		return false
	}
	_, _, err = s.router.FindRoute(req)
	return err == nil
}

func bodyReader(body string) io.Reader {
	if body == "" {
		return http.NoBody
	}
	return strings.NewReader(body)
}

// validationRequest is the request as the document's default server would
// have received it: the tests' listeners have random ports.
func (s *spec) validationRequest(ctx context.Context, x exchange, method string, header http.Header) (*http.Request, error) {
	base := s.publicBase
	if x.on == onAdmin {
		base = s.adminBase
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+x.path, bodyReader(x.body))
	if err != nil {
		return nil, err
	}
	req.Header = header.Clone()
	return req, nil
}

// check validates the exchange's request and the reply against the
// document. A request to a path or method the document lacks must be one
// the test expects the document to reject, and its reply must still be one
// the document describes: the path's responses (405 with Allow naming
// exactly the documented methods, or another status the path documents),
// or, for an unknown path, a 404 Error.
func (s *spec) check(ctx context.Context, x exchange, header http.Header, r *reply) error {
	req, err := s.validationRequest(ctx, x, x.method, header)
	if err != nil {
		return err
	}
	route, params, err := s.router.FindRoute(req)
	switch {
	case err == nil:
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: s.opts}
		reqErr := openapi3filter.ValidateRequest(ctx, in)
		switch {
		case reqErr != nil && !x.invalid:
			return fmt.Errorf("the document rejects this request, which the test sends as a valid one: %v", reqErr)
		case reqErr == nil && x.invalid:
			return fmt.Errorf("the document accepts this request, which the test expects it to reject (a constraint is missing from the document)")
		}
		return s.checkResponse(ctx, x, header, route, params, r)

	case errors.Is(err, routers.ErrMethodNotAllowed):
		if !x.invalid {
			return fmt.Errorf("the document has no %s operation on this path", x.method)
		}
		route, params, methods, err := s.otherMethod(ctx, x, header)
		if err != nil {
			return err
		}
		if r.status == http.StatusMethodNotAllowed {
			want := slices.Clone(methods)
			if slices.Contains(want, http.MethodGet) && !slices.Contains(want, http.MethodHead) {
				want = append(want, http.MethodHead) // GET implies HEAD in HTTP and in Go's mux
			}
			slices.Sort(want)
			var got []string
			for m := range strings.SplitSeq(r.header.Get("Allow"), ",") {
				if m = strings.TrimSpace(m); m != "" {
					got = append(got, m)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				return fmt.Errorf("Allow %q, but the document's methods for %s are %v", r.header.Get("Allow"), route.Path, want)
			}
		}
		return s.checkResponse(ctx, x, header, route, params, r)

	case errors.Is(err, routers.ErrPathNotFound):
		if !x.invalid {
			return fmt.Errorf("the document has no path for %s", x.path)
		}
		if r.status != http.StatusNotFound {
			return fmt.Errorf("status %d for a path the document does not have, want 404", r.status)
		}
		if x.on == onPublic { // NOT_FOUND there says the customer has no value
			return s.checkError(r, "INVALID_KEY")
		}
		return s.checkError(r, "NOT_FOUND")
	default:
		return err
	}
}

// otherMethod routes the exchange's path with a method the document has
// for it, returning that route and all the path's methods.
func (s *spec) otherMethod(ctx context.Context, x exchange, header http.Header) (*routers.Route, map[string]string, []string, error) {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		req, err := s.validationRequest(ctx, x, m, header)
		if err != nil {
			return nil, nil, nil, err
		}
		route, params, err := s.router.FindRoute(req)
		if err != nil {
			continue
		}
		var methods []string
		for method := range route.PathItem.Operations() {
			methods = append(methods, method)
		}
		return route, params, methods, nil
	}
	return nil, nil, nil, fmt.Errorf("no documented method routes %s", x.path)
}

// checkResponse validates the reply against the route's operation. A
// status the operation does not document fails.
func (s *spec) checkResponse(ctx context.Context, x exchange, header http.Header, route *routers.Route, params map[string]string, r *reply) error {
	s.record(route, r.status)
	ref := route.Operation.Responses.Status(r.status)
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("%s %s does not document status %d", route.Method, route.Path, r.status)
	}
	if len(ref.Value.Content) == 0 && len(r.body) != 0 {
		return fmt.Errorf("%s %s documents status %d without a body, but there is one", route.Method, route.Path, r.status)
	}
	if route.Method == http.MethodHead {
		// kin-openapi validates no HEAD response; check what a HEAD has.
		for name, h := range ref.Value.Headers {
			if h.Value != nil && h.Value.Required && r.header.Get(name) == "" {
				return fmt.Errorf("HEAD %s %d lacks the required header %s", route.Path, r.status, name)
			}
		}
		if len(r.body) != 0 {
			return fmt.Errorf("a HEAD response has a body")
		}
		return nil
	}
	// The request as routed, so the response is checked under the route's method.
	req, err := s.validationRequest(ctx, x, route.Method, header)
	if err != nil {
		return err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: s.opts},
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options:                s.opts,
	}
	return openapi3filter.ValidateResponse(ctx, in)
}

// checkError validates a body against the document's Error schema and
// checks its code.
func (s *spec) checkError(r *reply, code string) error {
	ref := s.doc.Components.Schemas["Error"]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("the document has no Error schema")
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		return err
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return err
	}
	if got := v.(map[string]any)["code"]; got != code {
		return fmt.Errorf("code %v, want %s", got, code)
	}
	return nil
}

// route is one pattern registered on a mux in one of the routeFiles.
type route struct {
	method string // "" for a pattern that names no method
	path   string
}

// registeredRoutes reads the patterns passed to mux.Handle in a file.
// A pattern built as prefix+"/literal" counts as the literal: the prefix is
// a server's base path. Anything else it cannot read fails the test, so a
// route cannot be registered out of its sight.
func registeredRoutes(t *testing.T, file string) []route {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var routes []route
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") || len(call.Args) != 2 {
			return true
		}
		arg := call.Args[0]
		if bin, ok := arg.(*ast.BinaryExpr); ok && bin.Op == token.ADD {
			arg = bin.Y
		}
		lit, ok := arg.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Fatalf("%s: cannot read the pattern of a %s call", file, sel.Sel.Name)
		}
		pattern, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		r := route{path: pattern}
		if method, path, ok := strings.Cut(pattern, " "); ok {
			r = route{method: method, path: strings.TrimSpace(path)}
		}
		routes = append(routes, r)
		return true
	})
	if len(routes) == 0 {
		t.Fatalf("%s registers no routes", file)
	}
	return routes
}

// concrete fills the operation's path parameters and required query
// parameters with sample values.
func (s *spec) concrete(t *testing.T, method, path string) string {
	t.Helper()
	item := s.doc.Paths.Value(path)
	params := slices.Clone(item.Parameters)
	params = append(params, item.GetOperation(method).Parameters...)
	query := url.Values{}
	for _, p := range params {
		switch {
		case p.Value.In == "path":
			path = strings.ReplaceAll(path, "{"+p.Value.Name+"}", sampleValue(t, p.Value.Schema))
		case p.Value.In == "query" && p.Value.Required:
			query.Set(p.Value.Name, sampleValue(t, p.Value.Schema))
		}
	}
	if strings.Contains(path, "{") {
		t.Fatalf("no value for a parameter of %s", path)
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return path
}

// sampleValue is a value the schema allows: its example, or its first enum value.
func sampleValue(t *testing.T, ref *openapi3.SchemaRef) string {
	t.Helper()
	v := ref.Value
	switch {
	case v.Example != nil:
		return fmt.Sprint(v.Example)
	case len(v.Enum) > 0:
		return fmt.Sprint(v.Enum[0])
	}
	t.Fatalf("no sample value for a path parameter of schema %s", ref.Ref)
	return ""
}

// listenerOf tells which listener serves the path: the admin listener's
// paths name their server.
func (s *spec) listenerOf(path string) listener {
	if len(s.doc.Paths.Value(path).Servers) > 0 {
		return onAdmin
	}
	return onPublic
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// shape replaces every path parameter with {}.
func shape(path string) string { return wildcard.ReplaceAllString(path, "{}") }
