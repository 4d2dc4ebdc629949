// openapi_test.go checks admin/openapi.json against the code: every request
// and response of a realistic script of admin and public calls, in both
// wire modes, is validated against the document, a status the document
// does not list fails, and the document's paths are checked against the
// routes the servers register.

package apitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io/fs"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/ratelimit"
)

// TestOpenAPIDocument checks that the document is valid OpenAPI 3.1 and
// states what the contract says of every operation.
func TestOpenAPIDocument(t *testing.T) {
	s := loadSpec(t)
	doc := s.doc
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if s.publicBase != "http://127.0.0.1:8080" {
		t.Errorf("the first server is %q, want the public default http://127.0.0.1:8080", s.publicBase)
	}
	if s.adminBase != "http://127.0.0.1:8081" {
		t.Errorf("the admin listener's server is %q, want its default http://127.0.0.1:8081", s.adminBase)
	}
	for name, want := range map[string]string{"bearerAuth": "bearer", "adminKey": "bearer"} {
		ref := doc.Components.SecuritySchemes[name]
		if ref == nil || ref.Value == nil || ref.Value.Type != "http" || ref.Value.Scheme != want {
			t.Errorf("security scheme %s is not an HTTP %s scheme", name, want)
		}
	}
	errorSchema := doc.Components.Schemas["Error"]
	if errorSchema == nil || errorSchema.Value == nil {
		t.Fatal("no Error schema")
	}
	if ap := errorSchema.Value.AdditionalProperties.Has; ap == nil || *ap {
		t.Error("the Error schema allows additional properties")
	}
	if !slices.Equal(sortedCopy(errorSchema.Value.Required), []string{"code", "message"}) {
		t.Errorf("the Error schema requires %v, want code and message", errorSchema.Value.Required)
	}

	for path, item := range doc.Paths.Map() {
		// Go's mux answers HEAD on every GET pattern, as the GET without
		// its body: the document says so with a HEAD operation.
		if get := item.Get; get != nil {
			head := item.Head
			getStatuses := sortedKeys(get.Responses.Map())
			if path == "/admin/v1/export" {
				// Only reading the customers finds one too large to
				// export, and a HEAD of the export reads none.
				getStatuses = slices.DeleteFunc(getStatuses, func(s string) bool { return s == "409" })
			}
			switch {
			case head == nil:
				t.Errorf("%s has GET but no HEAD, which the server answers", path)
			case !slices.Equal(sortedKeys(head.Responses.Map()), getStatuses):
				t.Errorf("HEAD %s documents %v, GET %v: a HEAD answers as the GET does", path, sortedKeys(head.Responses.Map()), sortedKeys(get.Responses.Map()))
			case securityOf(head) != securityOf(get) || len(head.Parameters) != len(get.Parameters):
				t.Errorf("HEAD %s does not take the GET's credential and parameters", path)
			}
		}
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", name)
			}
			// Which credential each operation needs.
			var want string
			switch {
			case strings.HasPrefix(path, "/admin/v1/"):
				want = "adminKey"
			case strings.HasPrefix(path, "/v2/"):
				want = "bearerAuth"
			}
			if got := securityOf(op); got != want {
				t.Errorf("%s needs security %q, want %q", name, got, want)
			}
			if strings.HasPrefix(path, "/v2/") != (len(item.Servers) == 0) {
				t.Errorf("%s: only the public API may use the top-level (public) servers; the admin listener's paths must name theirs", name)
			}
			// Every path answers other methods with 405; every API call can
			// meet a missing credential and a failure inside.
			codes := []int{405}
			if want != "" {
				codes = append(codes, 401, 500)
			}
			for _, code := range codes {
				if op.Responses.Status(code) == nil {
					t.Errorf("%s does not document %d", name, code)
				}
			}
			for status, ref := range op.Responses.Map() {
				code, err := statusCode(status)
				if err != nil {
					t.Errorf("%s: response %q is not one status code", name, status)
				}
				resp := ref.Value
				if resp.Headers["X-Request-Id"] == nil {
					t.Errorf("%s %s: no X-Request-Id header", name, status)
				}
				required := map[int]string{401: "WWW-Authenticate", 405: "Allow", 429: "Retry-After", 503: "Retry-After"}
				if h := required[code]; h != "" && (resp.Headers[h] == nil || !resp.Headers[h].Value.Required) {
					t.Errorf("%s %s: no required %s header", name, status, h)
				}
				if code < 400 {
					continue
				}
				if method == http.MethodHead {
					if len(resp.Content) != 0 {
						t.Errorf("%s %s: a HEAD response with content", name, status)
					}
					continue
				}
				mt := resp.Content.Get("application/json")
				if mt == nil || mt.Schema == nil || !usesError(mt.Schema) {
					t.Errorf("%s %s: the error body is not the Error schema", name, status)
				}
			}
		}
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// statusCode parses a responses key; the document uses no 2XX-style ranges.
func statusCode(status string) (int, error) { return strconv.Atoi(status) }

// securityOf names the one scheme the operation needs, "" for none.
func securityOf(op *openapi3.Operation) string {
	if op.Security == nil {
		return "<unset>"
	}
	var names []string
	for _, req := range *op.Security {
		for name := range req {
			names = append(names, name)
		}
	}
	return strings.Join(names, ",")
}

// usesError reports whether the schema is the Error schema, or all of it
// and a narrowing of its code or message.
func usesError(ref *openapi3.SchemaRef) bool {
	if ref.Ref == "#/components/schemas/Error" {
		return true
	}
	if ref.Value == nil {
		return false
	}
	for _, sub := range ref.Value.AllOf {
		if sub.Ref == "#/components/schemas/Error" {
			return true
		}
	}
	return false
}

// routeFiles register every route of both listeners: the admin API's own;
// the testing tools', which serve adds to the admin mux with its /metrics
// (cmd/profileapi/tools.go); and the public API's.
var routeFiles = []string{
	"../admin/routes.go",
	"../fault/admin.go",
	"../journal/admin.go",
	"../ratelimit/admin.go",
	"../cmd/profileapi/tools.go",
	"../api/routes.go",
}

// TestOpenAPIRoutes checks that the document has a path and operation for
// every route the routeFiles register, and no other.
func TestOpenAPIRoutes(t *testing.T) {
	s := loadSpec(t)
	documented := map[string][]string{} // path shape → methods
	for path, item := range s.doc.Paths.Map() {
		for method := range item.Operations() {
			documented[shape(path)] = append(documented[shape(path)], method)
		}
	}
	registered := map[string][]string{} // path shape → methods ("" is any)
	for _, file := range routeFiles {
		for _, r := range registeredRoutes(t, file) {
			registered[shape(r.path)] = append(registered[shape(r.path)], r.method)
		}
	}
	for path, methods := range registered {
		doc, ok := documented[path]
		if !ok {
			t.Errorf("route %s (methods %q) is not in the document", path, methods)
			continue
		}
		for _, m := range methods {
			if m != "" && !slices.Contains(doc, m) {
				t.Errorf("route %s %s is not in the document", m, path)
			}
		}
	}
	for path, methods := range documented {
		reg, ok := registered[path]
		if !ok {
			t.Errorf("the document has %s, which none of the routeFiles registers", path)
			continue
		}
		for _, m := range methods {
			// A pattern without a method takes any; a GET pattern also takes HEAD.
			if !slices.Contains(reg, m) && !slices.Contains(reg, "") && !(m == http.MethodHead && slices.Contains(reg, http.MethodGet)) {
				t.Errorf("the document has %s %s, which none of the routeFiles registers", m, path)
			}
		}
	}
}

// TestOpenAPIRouteFiles checks that no file outside routeFiles registers
// a route: one that did would escape TestOpenAPIRoutes. A registration is
// a Handle or HandleFunc call whose pattern is a string literal, or a
// prefix and a literal. examples/ holds a skill, not a listener of this
// server.
func TestOpenAPIRouteFiles(t *testing.T) {
	known := map[string]bool{}
	for _, f := range routeFiles {
		known[filepath.Clean(f)] = true
	}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != ".." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "examples") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || known[filepath.Clean(path)] {
			return nil
		}
		f, err := parser.ParseFile(gotoken.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			arg := call.Args[0]
			if bin, ok := arg.(*ast.BinaryExpr); ok && bin.Op == gotoken.ADD {
				arg = bin.Y
			}
			if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == gotoken.STRING {
				t.Errorf("%s registers the route %s, but it is not one of the routeFiles TestOpenAPIRoutes reads", path, lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpenAPIMatchesServers drives the real servers through every
// operation of the document, then through a realistic script of admin and
// public calls in both wire modes, validating every request and response
// against the document. Last it checks that every operation answered every
// status the document lists for it: a document that promises what the code
// never does fails as surely as one that misses what it does.
func TestOpenAPIMatchesServers(t *testing.T) {
	s := loadSpec(t)
	t.Run("operations", func(t *testing.T) {
		operationsScript(&session{t: t, st: newStack(t, api.WireDocumented, ratelimit.Limit{}), spec: s})
	})
	t.Run("admin", func(t *testing.T) {
		adminScript(&session{t: t, st: newStack(t, api.WireDocumented, ratelimit.Limit{}), spec: s})
	})
	t.Run("tools", func(t *testing.T) {
		toolsScript(&session{t: t, st: newStack(t, api.WireDocumented, customerLimit), spec: s}, s)
	})
	for _, wire := range []api.Wire{api.WireDocumented, api.WireAlexa} {
		t.Run("public/"+string(wire), func(t *testing.T) {
			publicScript(&session{t: t, st: newStack(t, wire, ratelimit.Limit{}), spec: s})
		})
	}
	if t.Failed() {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range s.operations() {
		method, path, _ := strings.Cut(op, " ")
		if len(s.seen[op]) == 0 {
			t.Errorf("no exchange exercised %s", op)
			continue
		}
		for status := range s.doc.Paths.Value(path).GetOperation(method).Responses.Map() {
			code, _ := statusCode(status)
			if s.seen[op][code] {
				continue
			}
			// 405 answers the methods a path lacks: one operation of the path stands for all.
			if code == http.StatusMethodNotAllowed && s.pathSaw(path, code) {
				continue
			}
			t.Errorf("no exchange saw %s answer %s", op, status)
		}
	}
}

// pathSaw reports whether any operation of the path answered the status.
func (s *spec) pathSaw(path string, status int) bool {
	for method := range s.doc.Paths.Value(path).Operations() {
		if s.seen[method+" "+path][status] {
			return true
		}
	}
	return false
}

// operationsScript takes every operation of the document through what
// every operation of its kind can answer: without a credential (which
// also shows that each documented path and method reaches a handler, not
// the mux's 404 or 405), with another method, with an oversized body, and
// with the store failing (the testing tools, which use no store, failing
// inside instead).
func operationsScript(s *session) {
	t := s.t
	for _, op := range s.spec.operations() {
		method, path, _ := strings.Cut(op, " ")
		operation := s.spec.doc.Paths.Value(path).GetOperation(method)
		x := exchange{on: s.spec.listenerOf(path), method: method, path: s.spec.concrete(t, method, path), noKey: true, status: http.StatusOK}
		if securityOf(operation) != "" {
			x.status, x.invalid = http.StatusUnauthorized, true
		}
		s.do(x)
	}

	// Another method on every path: 405, with Allow.
	for path, item := range s.spec.doc.Paths.Map() {
		for _, m := range []string{"PUT", "PATCH", "POST", "DELETE", "GET"} {
			if item.GetOperation(m) == nil {
				s.do(exchange{on: s.spec.listenerOf(path), method: m, path: s.spec.concrete(t, sortedKeys(item.Operations())[0], path), status: 405, invalid: true})
				break
			}
		}
	}

	// A body over the cap, an unknown member, and the store failing, for
	// every admin operation.
	padding := jsonOf(map[string]string{"padding": strings.Repeat("x", 1<<20)}) // over a JSON body's 64 KiB and an NDJSON line's 1 MiB
	for _, op := range s.spec.operations() {
		method, path, _ := strings.Cut(op, " ")
		if !strings.HasPrefix(path, "/admin/v1/") {
			continue
		}
		operation := s.spec.doc.Paths.Value(path).GetOperation(method)
		concrete := s.spec.concrete(t, method, path)
		var body string
		if rb := operation.RequestBody; rb != nil {
			s.wantError(s.do(exchange{on: onAdmin, method: method, path: concrete, body: padding, status: 413, invalid: true}), "REQUEST_TOO_LARGE", "")
			schema := rb.Value.Content.Get("application/json").Schema
			if schema.Value.Example == nil {
				t.Fatalf("%s: the request body's schema %s has no example", op, schema.Ref)
			}
			body = jsonOf(schema.Value.Example)
			// The server rejects members it does not know; so must the document.
			extra := map[string]any{"unexpected": 1}
			for k, v := range schema.Value.Example.(map[string]any) {
				extra[k] = v
			}
			s.wantError(s.do(exchange{on: onAdmin, method: method, path: concrete, body: jsonOf(extra), status: 400, invalid: true}), "INVALID_REQUEST", "unknown field")
		}
		if operation.Responses.Status(503) == nil {
			// The testing tools use no store: fail them inside instead.
			s.st.broken.Store(true)
			r := s.do(exchange{on: onAdmin, method: method, path: concrete, body: body, status: 500})
			s.st.broken.Store(false)
			if method != http.MethodHead {
				s.wantError(r, "UNKNOWN_ERROR", "an unexpected error occurred")
			}
			continue
		}
		s.st.store.failWith(profileapi.Unavailable(errors.New("database is locked"), 2*time.Second))
		r := s.do(exchange{on: onAdmin, method: method, path: concrete, body: body, status: 503})
		if got := r.header.Get("Retry-After"); got != "2" {
			t.Errorf("%s: Retry-After %q, want 2", op, got)
		}
		s.st.store.failWith(errors.New("a bug"))
		r = s.do(exchange{on: onAdmin, method: method, path: concrete, body: body, status: 500})
		if method != http.MethodHead {
			s.wantError(r, "UNKNOWN_ERROR", "an unexpected error occurred")
		}
		s.st.store.failWith(nil)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// admin sends a request the document accepts to the admin listener.
func (s *session) admin(method, path, body string, status int) *reply {
	s.t.Helper()
	return s.do(exchange{on: onAdmin, method: method, path: path, body: body, status: status})
}

// adminBad sends a request the document rejects to the admin listener.
func (s *session) adminBad(method, path, body string, status int) *reply {
	s.t.Helper()
	return s.do(exchange{on: onAdmin, method: method, path: path, body: body, status: status, invalid: true})
}

func (s *session) wantError(r *reply, code, messagePart string) {
	s.t.Helper()
	c, m := r.errorBody(s.t)
	if c != code || !strings.Contains(m, messagePart) {
		s.t.Fatalf("error %s %q, want %s containing %q", c, m, code, messagePart)
	}
}

const (
	scopeName   = string(profileapi.ScopeName)
	scopeGiven  = string(profileapi.ScopeGivenName)
	scopeEmail  = string(profileapi.ScopeEmail)
	scopeMobile = string(profileapi.ScopeMobileNumber)
)

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func adminScript(s *session) {
	t := s.t

	// Operations: no key needed.
	s.do(exchange{on: onAdmin, method: "GET", path: "/healthz", noKey: true, status: 200})
	s.do(exchange{on: onAdmin, method: "GET", path: "/readyz", noKey: true, status: 200})
	doc := s.do(exchange{on: onAdmin, method: "GET", path: "/openapi.json", noKey: true, status: 200})
	if !reflect.DeepEqual(doc.body, admin.OpenAPI) {
		t.Error("GET /openapi.json does not serve admin/openapi.json")
	}
	s.do(exchange{on: onAdmin, method: "POST", path: "/healthz", noKey: true, status: 405, invalid: true})
	s.do(exchange{on: onAdmin, method: "DELETE", path: "/openapi.json", noKey: true, status: 405, invalid: true})
	s.st.store.failWith(errors.New("disk gone"))
	r := s.do(exchange{on: onAdmin, method: "GET", path: "/readyz", noKey: true, status: 503})
	s.wantError(r, "SERVICE_UNAVAILABLE", "")
	s.st.store.failWith(nil)

	// The admin key.
	r = s.do(exchange{on: onAdmin, method: "GET", path: "/admin/v1/skills", noKey: true, status: 401, invalid: true})
	s.wantError(r, "UNAUTHORIZED", "admin key")
	s.do(exchange{on: onAdmin, method: "POST", path: "/admin/v1/skills", noKey: true, body: `{"name":"x","permissions":[]}`, status: 401, invalid: true})
	s.do(exchange{on: onAdmin, method: "GET", path: "/admin/v1/skills", header: http.Header{"Authorization": {"Bearer wrong-key"}}, status: 401})
	s.do(exchange{on: onAdmin, method: "GET", path: "/admin/v1/skills", header: http.Header{"Authorization": {"Basic " + adminKey}}, status: 401, invalid: true})

	// Skills.
	skillID := "amzn1.ask.skill.tea-timer"
	var skill profileapi.Skill
	s.admin("POST", "/admin/v1/skills", jsonOf(map[string]any{"id": skillID, "name": "Tea Timer", "permissions": []string{scopeName, scopeEmail, scopeMobile}}), 201).decode(t, &skill)
	if skill.ID != skillID || skill.Permissions != profileapi.NewScopeSet(profileapi.ScopeName, profileapi.ScopeEmail, profileapi.ScopeMobileNumber) {
		t.Fatalf("created skill %+v", skill)
	}
	s.wantError(s.admin("POST", "/admin/v1/skills", jsonOf(map[string]any{"id": skillID, "name": "Again", "permissions": []string{}}), 409), "CONFLICT", "")
	var other profileapi.Skill
	s.admin("POST", "/admin/v1/skills", `{"name":"Other Skill","permissions":[]}`, 201).decode(t, &other)
	if !strings.HasPrefix(other.ID, "amzn1.ask.skill.") {
		t.Fatalf("default skill id %q", other.ID)
	}
	var list struct{ Skills []profileapi.Skill }
	s.admin("GET", "/admin/v1/skills", "", 200).decode(t, &list)
	if len(list.Skills) != 2 {
		t.Fatalf("listed %d skills, want 2", len(list.Skills))
	}
	s.admin("GET", "/admin/v1/skills/"+skillID, "", 200)
	s.admin("GET", "/admin/v1/skills/amzn1.ask.skill.nobody", "", 404)
	s.wantError(s.adminBad("GET", "/admin/v1/skills/not-a-skill-id", "", 400), "INVALID_REQUEST", "")
	s.wantError(s.adminBad("GET", "/admin/v1/skills", `{"id":"amzn1.ask.skill.x"}`, 400), "INVALID_REQUEST", "must not have a body")
	s.adminBad("HEAD", "/admin/v1/skills", `{}`, 400)
	s.adminBad("DELETE", "/admin/v1/skills/amzn1.ask.account.WRONGKIND", "", 400)
	s.wantError(s.adminBad("POST", "/admin/v1/skills", `{"name":`, 400), "INVALID_REQUEST", "")
	s.wantError(s.adminBad("POST", "/admin/v1/skills", `{"name":"x","permissions":[],"color":"red"}`, 400), "INVALID_REQUEST", "unknown field")
	s.wantError(s.adminBad("POST", "/admin/v1/skills", `{"name":"x","permissions":["alexa::profile:address:read"]}`, 400), "INVALID_REQUEST", "unknown scope")
	s.adminBad("POST", "/admin/v1/skills", `{"name":"x"}`, 400)
	s.adminBad("POST", "/admin/v1/skills", `{"permissions":[]}`, 400)
	s.adminBad("POST", "/admin/v1/skills", `{"id":"skill-1","name":"x","permissions":[]}`, 400)
	s.adminBad("POST", "/admin/v1/skills", `[]`, 400)
	s.do(exchange{on: onAdmin, method: "POST", path: "/admin/v1/skills", header: http.Header{"Content-Type": {"text/plain"}}, body: `{"name":"x","permissions":[]}`, status: 400, invalid: true})
	huge := jsonOf(map[string]any{"id": "amzn1.ask.skill." + strings.Repeat("a", 70<<10), "name": "x", "permissions": []string{}})
	s.wantError(s.adminBad("POST", "/admin/v1/skills", huge, 413), "REQUEST_TOO_LARGE", "")
	s.wantError(s.adminBad("DELETE", "/admin/v1/skills", "", 405), "METHOD_NOT_ALLOWED", "")
	s.wantError(s.adminBad("GET", "/admin/v1/nope", "", 404), "NOT_FOUND", "")
	s.adminBad("GET", "/admin/v1/skills/"+skillID+"/extra", "", 404)
	s.st.store.failWith(profileapi.Unavailable(errors.New("database is locked"), 2*time.Second))
	r = s.admin("GET", "/admin/v1/skills", "", 503)
	if r.header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q, want 2", r.header.Get("Retry-After"))
	}
	s.st.store.failWith(errors.New("a bug"))
	s.wantError(s.admin("GET", "/admin/v1/skills", "", 500), "UNKNOWN_ERROR", "an unexpected error occurred")
	s.st.store.failWith(nil)

	// Customers.
	full := map[string]any{
		"name": "John Smith", "givenName": "John", "email": "jsmith@example.com",
		"mobileNumber": map[string]string{"countryCode": "+91", "phoneNumber": "7799-82-77-11"},
	}
	var cust profileapi.Customer
	s.admin("POST", "/admin/v1/customers", jsonOf(map[string]any{"region": "NA", "profile": full}), 201).decode(t, &cust)
	if !strings.HasPrefix(cust.ID, "amzn1.ask.account.") || cust.Profile.MobileNumber == nil {
		t.Fatalf("created customer %+v", cust)
	}
	custID := "amzn1.ask.account.JANE"
	s.admin("POST", "/admin/v1/customers", jsonOf(map[string]any{"id": custID, "region": "EU"}), 201)
	s.admin("POST", "/admin/v1/customers", jsonOf(map[string]any{"id": custID, "region": "EU"}), 409)
	s.admin("POST", "/admin/v1/customers", `{"region":"FE","profile":{"mobileNumber":{"countryCode":"1","phoneNumber":"+1 201-555-0123"}}}`, 201)
	s.wantError(s.adminBad("POST", "/admin/v1/customers", `{"region":"XX"}`, 400), "INVALID_REQUEST", "region")
	s.adminBad("POST", "/admin/v1/customers", `{"profile":{"name":"No Region"}}`, 400)
	s.adminBad("POST", "/admin/v1/customers", `{"region":"NA","profile":{"email":"not-an-email"}}`, 400)
	s.adminBad("POST", "/admin/v1/customers", `{"region":"NA","profile":{"nickname":"Jo"}}`, 400)
	s.adminBad("POST", "/admin/v1/customers", `{"region":"NA","profile":{"mobileNumber":{"countryCode":"+1"}}}`, 400)
	s.adminBad("POST", "/admin/v1/customers", `{"region":"NA","profile":{"mobileNumber":{"countryCode":"+1","phoneNumber":"call me"}}}`, 400)
	s.adminBad("POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.","region":"NA"}`, 400)
	// What only the server can tell: the number is not valid for its country.
	s.wantError(s.admin("POST", "/admin/v1/customers", `{"region":"NA","profile":{"mobileNumber":{"countryCode":"+1","phoneNumber":"555"}}}`, 400), "INVALID_REQUEST", "not a valid number")
	s.wantError(s.admin("POST", "/admin/v1/customers", `{"region":"NA","profile":{"mobileNumber":{"countryCode":"+999","phoneNumber":"12345"}}}`, 400), "INVALID_REQUEST", "country calling code")
	s.wantError(s.admin("POST", "/admin/v1/customers", `{"region":"NA","profile":{"email":"a..b@example.com"}}`, 400), "INVALID_REQUEST", "email")
	s.adminBad("POST", "/admin/v1/customers", `{"region":"NA","profile":{"email":"John <jsmith@example.com>"}}`, 400)
	s.admin("POST", "/admin/v1/customers", `{"region":"NA","profile":{"name":" padded "}}`, 400)

	s.admin("GET", "/admin/v1/customers/"+cust.ID, "", 200)
	s.admin("GET", "/admin/v1/customers/amzn1.ask.account.NOBODY", "", 404)
	s.adminBad("GET", "/admin/v1/customers/"+skillID, "", 400)
	var patched profileapi.Customer
	s.admin("PATCH", "/admin/v1/customers/"+custID, `{"profile":{"email":"jane@example.org","mobileNumber":{"countryCode":"0044","phoneNumber":"07911 123456"}}}`, 200).decode(t, &patched)
	if patched.Profile.Email != "jane@example.org" || patched.Profile.MobileNumber == nil || patched.Region != profileapi.RegionEU {
		t.Fatalf("patched customer %+v", patched)
	}
	patched = profileapi.Customer{}
	// A number's members merge too: a new phoneNumber keeps the countryCode.
	s.admin("PATCH", "/admin/v1/customers/"+custID, `{"profile":{"mobileNumber":{"phoneNumber":"07911 123457"}}}`, 200).decode(t, &patched)
	if m := patched.Profile.MobileNumber; m == nil || m.CountryCode != "0044" || m.PhoneNumber != "07911 123457" {
		t.Fatalf("number-patched customer %+v", patched)
	}
	patched = profileapi.Customer{}
	s.admin("PATCH", "/admin/v1/customers/"+custID, `{"profile":{"mobileNumber":null,"name":"Jane Doe"}}`, 200).decode(t, &patched)
	if patched.Profile.MobileNumber != nil || patched.Profile.Name != "Jane Doe" || patched.Profile.Email != "jane@example.org" {
		t.Fatalf("merge-patched customer %+v", patched)
	}
	patched = profileapi.Customer{}
	s.admin("PATCH", "/admin/v1/customers/"+custID, `{"region":"FE","profile":null}`, 200).decode(t, &patched)
	if patched.Region != profileapi.RegionFE || patched.Profile != (profileapi.Profile{}) {
		t.Fatalf("patched customer %+v", patched)
	}
	s.admin("PATCH", "/admin/v1/customers/"+custID, `{}`, 200)
	s.wantError(s.adminBad("PATCH", "/admin/v1/customers/"+custID, `{"region":null}`, 400), "INVALID_REQUEST", "region")
	s.adminBad("PATCH", "/admin/v1/customers/"+custID, `{"region":"XX"}`, 400)
	s.adminBad("PATCH", "/admin/v1/customers/"+custID, `{"id":"amzn1.ask.account.OTHER"}`, 400)
	s.adminBad("PATCH", "/admin/v1/customers/"+custID, `{"profile":{"nickname":"J"}}`, 400)
	s.adminBad("PATCH", "/admin/v1/customers/"+custID, `{"profile":{"email":"nope"}}`, 400)
	s.admin("PATCH", "/admin/v1/customers/"+custID, `{"profile":{"mobileNumber":{"countryCode":"+44","phoneNumber":"1"}}}`, 400)
	s.admin("PATCH", "/admin/v1/customers/amzn1.ask.account.NOBODY", `{"profile":{"name":"X"}}`, 404)
	s.adminBad("PUT", "/admin/v1/customers/"+custID, `{"region":"NA"}`, 405)
	// RFC 7396's own media type is accepted too.
	s.do(exchange{on: onAdmin, method: "PATCH", path: "/admin/v1/customers/" + custID, header: http.Header{"Content-Type": {"application/merge-patch+json"}},
		body: `{"profile":{"name":"J"}}`, status: 200})

	// Consents.
	consentPath := "/admin/v1/customers/" + cust.ID + "/consents/" + skillID
	var consent profileapi.Consent
	s.admin("PUT", consentPath, jsonOf(map[string]any{"scopes": []string{scopeName, scopeEmail}}), 200).decode(t, &consent)
	if consent.Scopes != profileapi.NewScopeSet(profileapi.ScopeName, profileapi.ScopeEmail) {
		t.Fatalf("consent %+v", consent)
	}
	s.admin("GET", consentPath, "", 200)
	s.wantError(s.admin("PUT", consentPath, jsonOf(map[string]any{"scopes": []string{scopeGiven}}), 400), "INVALID_REQUEST", "does not declare")
	s.adminBad("PUT", consentPath, `{"scopes":["alexa::profile:address:read"]}`, 400)
	s.adminBad("PUT", consentPath, `{}`, 400)
	s.adminBad("PUT", consentPath, `{"scopes":"alexa::profile:name:read"}`, 400)
	s.admin("PUT", "/admin/v1/customers/"+cust.ID+"/consents/amzn1.ask.skill.nobody", `{"scopes":[]}`, 404)
	s.admin("PUT", "/admin/v1/customers/amzn1.ask.account.NOBODY/consents/"+skillID, `{"scopes":[]}`, 404)
	s.adminBad("PUT", "/admin/v1/customers/"+cust.ID+"/consents/bad", `{"scopes":[]}`, 400)
	s.admin("GET", "/admin/v1/customers/"+custID+"/consents/"+skillID, "", 404)
	s.adminBad("GET", "/admin/v1/customers/"+custID+"/consents/"+custID, "", 400)
	s.adminBad("POST", consentPath, `{"scopes":[]}`, 405)

	// Tokens.
	var tok struct {
		APIAccessToken, APIEndpoint string
		ExpiresAt                   time.Time
	}
	s.admin("POST", "/admin/v1/tokens", jsonOf(map[string]any{"customerId": cust.ID, "skillId": skillID}), 201).decode(t, &tok)
	if tok.APIEndpoint != s.st.publicURL {
		t.Errorf("NA apiEndpoint %q, want %q", tok.APIEndpoint, s.st.publicURL)
	}
	s.admin("POST", "/admin/v1/tokens", jsonOf(map[string]any{"customerId": custID, "skillId": skillID, "ttlSeconds": 60}), 201).decode(t, &tok)
	if tok.APIEndpoint != s.st.publicURL+"/fe" {
		t.Errorf("FE apiEndpoint %q, want %q", tok.APIEndpoint, s.st.publicURL+"/fe")
	}
	s.adminBad("POST", "/admin/v1/tokens", jsonOf(map[string]any{"customerId": cust.ID, "skillId": skillID, "ttlSeconds": 0}), 400)
	s.adminBad("POST", "/admin/v1/tokens", jsonOf(map[string]any{"customerId": cust.ID, "skillId": skillID, "ttlSeconds": 86401}), 400)
	s.adminBad("POST", "/admin/v1/tokens", jsonOf(map[string]any{"customerId": cust.ID}), 400)
	s.adminBad("POST", "/admin/v1/tokens", jsonOf(map[string]any{"customerId": skillID, "skillId": skillID}), 400)
	s.admin("POST", "/admin/v1/tokens", jsonOf(map[string]any{"customerId": "amzn1.ask.account.NOBODY", "skillId": skillID}), 404)
	s.admin("POST", "/admin/v1/tokens", jsonOf(map[string]any{"customerId": cust.ID, "skillId": "amzn1.ask.skill.nobody"}), 404)
	s.adminBad("GET", "/admin/v1/tokens", "", 405)

	// Bulk: customers with their consents, one per line, then their tokens.
	bulkID := "amzn1.ask.account.BULK1"
	var imported struct{ Imported int }
	s.admin("POST", "/admin/v1/import", jsonOf(map[string]any{"id": bulkID, "region": "EU", "profile": map[string]any{"name": "Bulk One", "email": "bulk1@example.com"}, "consents": map[string][]string{skillID: {scopeEmail}}}), 200).decode(t, &imported)
	if imported.Imported != 1 {
		t.Errorf("imported %d, want 1", imported.Imported)
	}
	s.admin("GET", "/admin/v1/customers/"+bulkID+"/consents/"+skillID, "", 200)
	s.wantError(s.admin("POST", "/admin/v1/import", jsonOf(map[string]any{"id": "amzn1.ask.account.BULK2", "region": "EU", "consents": map[string][]string{skillID: {scopeGiven}}}), 400), "INVALID_REQUEST", "line 1: skill "+skillID+" does not declare")
	s.adminBad("POST", "/admin/v1/import", jsonOf(map[string]any{"id": "amzn1.ask.account.BULK2"}), 400)
	var batch struct{ CustomerID, SkillID, APIAccessToken, APIEndpoint string }
	s.admin("POST", "/admin/v1/tokens/batch", jsonOf(map[string]any{"customerId": bulkID, "skillId": skillID, "ttlSeconds": 60}), 200).decode(t, &batch)
	if batch.CustomerID != bulkID || batch.SkillID != skillID || batch.APIEndpoint != s.st.publicURL+"/eu" || batch.APIAccessToken == "" {
		t.Errorf("tokens/batch line %+v", batch)
	}
	s.wantError(s.admin("POST", "/admin/v1/tokens/batch", jsonOf(map[string]any{"customerId": "amzn1.ask.account.NOBODY", "skillId": skillID}), 404), "NOT_FOUND", "line 1: customer amzn1.ask.account.NOBODY does not exist")
	s.adminBad("POST", "/admin/v1/tokens/batch", jsonOf(map[string]any{"customerId": bulkID}), 400)
	// A line that fails after the first chunk's tokens went out ends the
	// 200's stream with an Error line, which the document must allow.
	var lines strings.Builder
	for range 1100 {
		lines.WriteString(jsonOf(map[string]any{"customerId": bulkID, "skillId": skillID}) + "\n")
	}
	lines.WriteString(jsonOf(map[string]any{"customerId": "amzn1.ask.account.NOBODY", "skillId": skillID}) + "\n")
	streamed := s.admin("POST", "/admin/v1/tokens/batch", lines.String(), 200)
	body := strings.TrimSpace(string(streamed.body))
	if last := body[strings.LastIndexByte(body, '\n')+1:]; !strings.Contains(last, `"code":"NOT_FOUND"`) || !strings.Contains(last, "line 1101") {
		t.Errorf("a batch failing at line 1101 ended with %.200s", last)
	}

	// The export: every customer as an import line, the bulk one with its
	// consent; HEAD reads none.
	exported := s.admin("GET", "/admin/v1/export", "", 200)
	var want, got any
	_ = json.Unmarshal([]byte(jsonOf(map[string]any{"id": bulkID, "region": "EU", "profile": map[string]any{"name": "Bulk One", "email": "bulk1@example.com"}, "consents": map[string][]string{skillID: {scopeEmail}}})), &want)
	for line := range strings.Lines(string(exported.body)) {
		if strings.Contains(line, `"`+bulkID+`"`) {
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Errorf("export line %q: %v", line, err)
			}
		}
	}
	if !reflect.DeepEqual(got, want) || exported.header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("the export (%s) has %v for %s, want %v", exported.header.Get("Content-Type"), got, bulkID, want)
	}
	s.admin("HEAD", "/admin/v1/export", "", 200)
	s.wantError(s.adminBad("GET", "/admin/v1/export", `{}`, 400), "INVALID_REQUEST", "must not have a body")
	s.adminBad("HEAD", "/admin/v1/export", `{}`, 400)
	// A customer whose line would pass what import takes is the stored
	// data's fault: 409, naming it. The consents are imported straight
	// into the store, as thousands of grants over HTTP would be slow.
	many := &profileapi.Customer{ID: "amzn1.ask.account.MANYGRANTS", Region: profileapi.RegionNA}
	var grants []*profileapi.Consent
	for i := range 2800 { // of 255-character ids, every scope: over 1 MiB
		id := fmt.Sprintf("amzn1.ask.skill.many%04d-", i)
		id += strings.Repeat("x", 255-len(id))
		if err := s.st.store.CreateSkill(s.t.Context(), &profileapi.Skill{ID: id, Name: "Many", Permissions: profileapi.AllScopes}); err != nil {
			s.t.Fatal(err)
		}
		grants = append(grants, &profileapi.Consent{CustomerID: many.ID, SkillID: id, Scopes: profileapi.AllScopes})
	}
	if err := s.st.store.ImportCustomers(s.t.Context(), []*profileapi.Customer{many}, grants); err != nil {
		s.t.Fatal(err)
	}
	s.wantError(s.do(exchange{on: onAdmin, method: "GET", path: "/admin/v1/export", status: 409, getOnly: true}), "CONFLICT", "customer "+many.ID+" gives so many consents")
	s.admin("HEAD", "/admin/v1/export", "", 200) // reads no customer
	s.admin("DELETE", "/admin/v1/customers/"+many.ID, "", 204)

	// Request envelopes.
	var env envelope
	s.admin("POST", "/admin/v1/requests", jsonOf(map[string]any{"type": "LaunchRequest", "customerId": cust.ID, "skillId": skillID}), 200).decode(t, &env)
	sys := env.Context.System
	if sys.User.Permissions == nil || sys.User.Permissions.ConsentToken == "" || sys.APIEndpoint != s.st.publicURL || env.Request.Locale != "en-US" {
		t.Fatalf("LaunchRequest envelope %+v", env)
	}
	// The envelope's token works at its endpoint.
	r = s.do(exchange{on: onPublic, method: "GET", path: "/v2/accounts/~current/settings/Profile.email",
		header: http.Header{"Authorization": {"Bearer " + sys.APIAccessToken}}, status: 200})
	var email map[string]string
	r.decode(t, &email)
	if email["email"] != "jsmith@example.com" {
		t.Fatalf("email %s", r.body)
	}
	var intent envelope // no consent: no permissions
	s.admin("POST", "/admin/v1/requests", jsonOf(map[string]any{"type": "IntentRequest", "customerId": custID, "skillId": skillID, "intent": "GetEmailIntent", "locale": "ja-JP"}), 200).decode(t, &intent)
	if intent.Context.System.User.Permissions != nil || intent.Request.Intent == nil || intent.Request.Intent.Name != "GetEmailIntent" || intent.Request.Locale != "ja-JP" {
		t.Fatalf("IntentRequest envelope %+v", intent)
	}
	s.admin("POST", "/admin/v1/requests", jsonOf(map[string]any{"type": "IntentRequest", "customerId": cust.ID, "skillId": skillID,
		"intent": map[string]any{"name": "OrderIntent", "slots": map[string]any{"drink": map[string]any{"name": "drink", "value": "tea"}}}}), 200)
	s.adminBad("POST", "/admin/v1/requests", jsonOf(map[string]any{"type": "IntentRequest", "customerId": cust.ID, "skillId": skillID}), 400)
	s.adminBad("POST", "/admin/v1/requests", jsonOf(map[string]any{"type": "IntentRequest", "customerId": cust.ID, "skillId": skillID, "intent": ""}), 400)
	s.adminBad("POST", "/admin/v1/requests", jsonOf(map[string]any{"type": "IntentRequest", "customerId": cust.ID, "skillId": skillID, "intent": map[string]any{"name": "X", "confirm": true}}), 400)
	s.adminBad("POST", "/admin/v1/requests", jsonOf(map[string]any{"type": "LaunchRequest", "customerId": cust.ID, "skillId": skillID, "intent": "X"}), 400)
	s.adminBad("POST", "/admin/v1/requests", jsonOf(map[string]any{"type": "SessionEndedRequest", "customerId": cust.ID, "skillId": skillID}), 400)
	s.admin("POST", "/admin/v1/requests", jsonOf(map[string]any{"type": "LaunchRequest", "customerId": "amzn1.ask.account.NOBODY", "skillId": skillID}), 404)

	// Evaluation: what each setting would answer, and why.
	var eval evaluation
	s.admin("GET", "/admin/v1/evaluate?customerId="+cust.ID+"&skillId="+skillID, "", 200).decode(t, &eval)
	if eval.Wire != string(s.st.wire) || len(eval.Operations) != 4 {
		t.Fatalf("evaluation %+v", eval)
	}
	s.admin("GET", "/admin/v1/evaluate?customerId=amzn1.ask.account.NOBODY&skillId="+skillID, "", 404)
	s.admin("GET", "/admin/v1/evaluate?customerId="+cust.ID+"&skillId=amzn1.ask.skill.nobody", "", 404)
	s.adminBad("GET", "/admin/v1/evaluate?customerId="+cust.ID, "", 400)
	s.adminBad("GET", "/admin/v1/evaluate?customerId="+skillID+"&skillId="+skillID, "", 400)
	s.adminBad("POST", "/admin/v1/evaluate?customerId="+cust.ID+"&skillId="+skillID, "", 405)

	// Revocation and removal.
	s.admin("DELETE", consentPath, "", 204)
	s.admin("DELETE", consentPath, "", 204) // nothing left to revoke: still done
	s.admin("GET", consentPath, "", 404)
	s.admin("DELETE", "/admin/v1/customers/"+cust.ID+"/consents/amzn1.ask.skill.nobody", "", 404)
	s.adminBad("DELETE", "/admin/v1/customers/"+cust.ID+"/consents/nope", "", 400)
	s.admin("DELETE", "/admin/v1/customers/"+custID, "", 204)
	s.admin("DELETE", "/admin/v1/customers/"+custID, "", 404)
	s.admin("GET", "/admin/v1/customers/"+custID, "", 404)
	s.adminBad("DELETE", "/admin/v1/customers/nope", "", 400)
	s.admin("DELETE", "/admin/v1/skills/"+other.ID, "", 204)
	s.admin("DELETE", "/admin/v1/skills/"+other.ID, "", 404)
}

// evaluation is what the tests read of GET /admin/v1/evaluate.
type evaluation struct {
	Wire       string
	Operations []struct {
		Operation string
		Status    int
		Code      string
	}
}

// envelope is what the tests read of a request envelope.
type envelope struct {
	Context struct {
		System struct {
			APIEndpoint    string
			APIAccessToken string
			User           struct {
				UserID      string
				Permissions *struct{ ConsentToken string }
			}
		}
	}
	Request struct {
		Type   string
		Locale string
		Intent *struct{ Name string }
	}
}

const settingsPath = "/v2/accounts/~current/settings/"

// get reads a setting at the endpoint's prefix with the token.
func (s *session) get(prefix, setting, tok string, status int) *reply {
	s.t.Helper()
	return s.do(exchange{on: onPublic, method: "GET", path: prefix + settingsPath + setting,
		header: http.Header{"Authorization": {"Bearer " + tok}}, status: status})
}

// token issues a token through the admin API and returns it with the path
// prefix of its endpoint.
func (s *session) token(customerID, skillID string) (tok, prefix string) {
	s.t.Helper()
	var resp struct{ APIAccessToken, APIEndpoint string }
	s.admin("POST", "/admin/v1/tokens", jsonOf(map[string]any{"customerId": customerID, "skillId": skillID}), 201).decode(s.t, &resp)
	prefix, ok := strings.CutPrefix(resp.APIEndpoint, s.st.publicURL)
	if !ok {
		s.t.Fatalf("apiEndpoint %q is not on the public listener %s", resp.APIEndpoint, s.st.publicURL)
	}
	return resp.APIAccessToken, prefix
}

func (s *session) newSkill(id string, scopes ...string) {
	s.t.Helper()
	s.admin("POST", "/admin/v1/skills", jsonOf(map[string]any{"id": id, "name": "Skill " + id[len("amzn1.ask.skill."):], "permissions": append([]string{}, scopes...)}), 201)
}

func (s *session) newCustomer(id, region string, profile map[string]any) {
	s.t.Helper()
	s.admin("POST", "/admin/v1/customers", jsonOf(map[string]any{"id": id, "region": region, "profile": profile}), 201)
}

func (s *session) grant(customerID, skillID string, scopes ...string) {
	s.t.Helper()
	s.admin("PUT", "/admin/v1/customers/"+customerID+"/consents/"+skillID, jsonOf(map[string]any{"scopes": append([]string{}, scopes...)}), 200)
}

func publicScript(s *session) {
	t := s.t
	alexa := s.st.wire == api.WireAlexa
	all := []string{scopeName, scopeGiven, scopeEmail, scopeMobile}
	mobile := map[string]any{"countryCode": "+91", "phoneNumber": "7799-82-77-11"}

	const (
		skill   = "amzn1.ask.skill.profile-reader"
		john    = "amzn1.ask.account.JOHN"
		sparse  = "amzn1.ask.account.SPARSE"
		euro    = "amzn1.ask.account.EURO"
		eastern = "amzn1.ask.account.EASTERN"
	)
	s.newSkill(skill, all...)
	s.newCustomer(john, "NA", map[string]any{"name": "John Smith", "givenName": "John", "email": "jsmith@example.com", "mobileNumber": mobile})
	s.newCustomer(sparse, "NA", map[string]any{"name": "Sparse"})
	s.newCustomer(euro, "EU", map[string]any{"email": "eu@example.eu"})
	s.newCustomer(eastern, "FE", map[string]any{"givenName": "Taro"})
	for _, c := range []string{john, sparse, euro, eastern} {
		s.grant(c, skill, all...)
	}

	// Every setting, in the mode's form.
	tok, prefix := s.token(john, skill)
	if prefix != "" {
		t.Fatalf("NA prefix %q", prefix)
	}
	want := map[string]any{
		"Profile.name":         map[string]any{"name": "John Smith"},
		"Profile.givenName":    map[string]any{"name": "John"},
		"Profile.email":        map[string]any{"email": "jsmith@example.com"},
		"Profile.mobileNumber": mobile,
	}
	if alexa {
		want["Profile.name"], want["Profile.givenName"], want["Profile.email"] = "John Smith", "John", "jsmith@example.com"
	}
	for setting, value := range want {
		var got any
		r := s.get("", setting, tok, 200)
		r.decode(t, &got)
		if !reflect.DeepEqual(got, value) {
			t.Errorf("%s: %s, want %s", setting, r.body, jsonOf(value))
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", setting, ct)
		}
		s.do(exchange{on: onPublic, method: "HEAD", path: settingsPath + setting, header: http.Header{"Authorization": {"Bearer " + tok}}, status: 200})
	}
	// The SDKs' habits: no Accept, or a Content-Type on the bodiless GET.
	s.do(exchange{on: onPublic, method: "GET", path: settingsPath + "Profile.name",
		header: http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}, "Accept": {"application/json"}}, status: 200})

	// An absent value.
	sparseTok, _ := s.token(sparse, skill)
	absent := 404
	if alexa {
		absent = 204
	}
	for _, setting := range []string{"Profile.givenName", "Profile.email", "Profile.mobileNumber"} {
		r := s.get("", setting, sparseTok, absent)
		if !alexa {
			s.wantError(r, "NOT_FOUND", setting)
		}
		s.do(exchange{on: onPublic, method: "HEAD", path: settingsPath + setting, header: http.Header{"Authorization": {"Bearer " + sparseTok}}, status: absent})
	}

	// Regions: each token works at its own endpoint only.
	euTok, euPrefix := s.token(euro, skill)
	if euPrefix != "/eu" {
		t.Fatalf("EU prefix %q", euPrefix)
	}
	s.get("/eu", "Profile.email", euTok, 200)
	s.wantError(s.get("", "Profile.email", euTok, 401), "INVALID_TOKEN", "another endpoint")
	s.get("/fe", "Profile.email", euTok, 401)
	s.get("/eu", "Profile.email", tok, 401)
	feTok, fePrefix := s.token(eastern, skill)
	if fePrefix != "/fe" {
		t.Fatalf("FE prefix %q", fePrefix)
	}
	s.get("/fe", "Profile.givenName", feTok, 200)
	s.do(exchange{on: onPublic, method: "HEAD", path: "/fe" + settingsPath + "Profile.givenName", header: http.Header{"Authorization": {"Bearer " + feTok}}, status: 200})

	// 401: no token, not a Bearer token, malformed, forged.
	for _, x := range []exchange{
		{header: nil, invalid: true},
		{header: http.Header{"Authorization": {"Basic am9objpzZWNyZXQ="}}, invalid: true},
		{header: http.Header{"Authorization": {"Bearer"}}, invalid: true},
		{header: http.Header{"Authorization": {"Bearer not.a.jwt"}}},
		{header: http.Header{"Authorization": {"Bearer " + forge(tok)}}},
	} {
		x.on, x.method, x.path, x.status = onPublic, "GET", settingsPath+"Profile.email", 401
		r := s.do(x)
		s.wantError(r, "INVALID_TOKEN", "")
		if got := r.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
			t.Errorf("WWW-Authenticate %q", got)
		}
	}
	s.do(exchange{on: onPublic, method: "HEAD", path: settingsPath + "Profile.email", status: 401, invalid: true})

	// 400: a body on a GET, two Authorization headers.
	r := s.do(exchange{on: onPublic, method: "GET", path: settingsPath + "Profile.email",
		header: http.Header{"Authorization": {"Bearer " + tok}}, body: `{"fields":["email"]}`, status: 400, invalid: true})
	s.wantError(r, "INVALID_REQUEST", "body")
	for _, m := range []string{"GET", "HEAD"} {
		s.do(exchange{on: onPublic, method: m, path: settingsPath + "Profile.email",
			header: http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}, status: 400})
	}

	// 403: not granted (ACCESS_NOT_REQUESTED), not declared (FORBIDDEN).
	const narrow = "amzn1.ask.skill.narrow"
	s.newSkill(narrow, scopeName, scopeEmail)
	s.grant(john, narrow, scopeName)
	narrowTok, _ := s.token(john, narrow)
	s.get("", "Profile.name", narrowTok, 200)
	s.wantError(s.get("", "Profile.email", narrowTok, 403), "ACCESS_DENIED", "Access denied with reason: ACCESS_NOT_REQUESTED")
	s.wantError(s.get("", "Profile.mobileNumber", narrowTok, 403), "ACCESS_DENIED", "Access denied with reason: FORBIDDEN")
	s.do(exchange{on: onPublic, method: "HEAD", path: settingsPath + "Profile.mobileNumber", header: http.Header{"Authorization": {"Bearer " + narrowTok}}, status: 403})
	// The admin API's evaluation says what the public API answers.
	for _, pair := range [][2]string{{john, narrow}, {sparse, skill}} {
		var eval evaluation
		s.admin("GET", "/admin/v1/evaluate?customerId="+pair[0]+"&skillId="+pair[1], "", 200).decode(t, &eval)
		evalTok, _ := s.token(pair[0], pair[1])
		for _, o := range eval.Operations {
			r := s.get("", o.Operation, evalTok, o.Status)
			if o.Code != "" {
				s.wantError(r, o.Code, "")
			}
		}
	}
	// Revocation takes effect on the very next request, for a token issued before.
	s.admin("DELETE", "/admin/v1/customers/"+john+"/consents/"+narrow, "", 204)
	s.wantError(s.get("", "Profile.name", narrowTok, 403), "ACCESS_DENIED", "ACCESS_NOT_REQUESTED")

	// 404 INVALID_KEY for any other setting, whatever the method.
	s.wantError(s.do(exchange{on: onPublic, method: "GET", path: settingsPath + "Profile.address",
		header: http.Header{"Authorization": {"Bearer " + tok}}, status: 404, invalid: true}), "INVALID_KEY", "Profile.address")
	s.do(exchange{on: onPublic, method: "HEAD", path: settingsPath + "Profile.address", status: 404, invalid: true})
	s.wantError(s.do(exchange{on: onPublic, method: "DELETE", path: settingsPath + "Profile.address", status: 404, invalid: true}), "INVALID_KEY", "")
	// 404 INVALID_KEY for a path that is no resource: NOT_FOUND would say
	// the customer has no value.
	s.wantError(s.do(exchange{on: onPublic, method: "GET", path: "/v2/accounts/~current/other", status: 404, invalid: true}), "INVALID_KEY", "no such resource")
	s.do(exchange{on: onPublic, method: "GET", path: "/admin/v1/skills", header: http.Header{"Authorization": {"Bearer " + adminKey}}, status: 404, invalid: true})

	// 405 with Allow for another method on a known setting.
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		r := s.do(exchange{on: onPublic, method: m, path: settingsPath + "Profile.email",
			header: http.Header{"Authorization": {"Bearer " + tok}}, status: 405, invalid: true})
		s.wantError(r, "METHOD_NOT_ALLOWED", "")
	}

	// 429, 503 and 500, from the guard a rate limiter or a fault would use.
	guarded := map[string]error{
		"amzn1.ask.skill.limited": &profileapi.Error{Kind: profileapi.ERATELIMITED, Message: "rate limit exceeded", RetryAfter: 3 * time.Second},
		"amzn1.ask.skill.down":    profileapi.Unavailable(errors.New("connection refused"), 5*time.Second),
		"amzn1.ask.skill.bug":     errors.New("nil map"),
	}
	statuses := map[string]int{"amzn1.ask.skill.limited": 429, "amzn1.ask.skill.down": 503, "amzn1.ask.skill.bug": 500}
	for id, err := range guarded {
		s.newSkill(id, all...)
		s.grant(john, id, all...)
		s.st.faults.Store(id, err)
		gTok, _ := s.token(john, id)
		r := s.get("", "Profile.email", gTok, statuses[id])
		if code, msg := r.errorBody(t); strings.Contains(msg, "nil map") || strings.Contains(msg, "refused") {
			t.Errorf("%s: the error %s %q leaks its cause", id, code, msg)
		}
		s.do(exchange{on: onPublic, method: "HEAD", path: settingsPath + "Profile.email", header: http.Header{"Authorization": {"Bearer " + gTok}}, status: statuses[id]})
	}

	// A removed customer's tokens stop working.
	s.admin("DELETE", "/admin/v1/customers/"+sparse, "", 204)
	s.get("", "Profile.name", sparseTok, 401)
	// As do a removed skill's.
	s.admin("DELETE", "/admin/v1/skills/"+skill, "", 204)
	s.get("", "Profile.name", tok, 401)
}

// forge alters the token's signature.
func forge(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig := []byte(tok[i+1:])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	return tok[:i+1] + string(sig)
}
