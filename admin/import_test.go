package admin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
	"github.com/profileapi/profileapi/sqlite"
	"github.com/profileapi/profileapi/token"
)

type importStack struct {
	h     http.Handler
	store *sqlite.DB
	keys  *token.Keyring
}

func newImportStack(t *testing.T, wrap func(profileapi.Store) profileapi.Store) *importStack {
	t.Helper()
	return newImportStackWith(t, wrap, nil)
}

// newImportStackWith is newImportStack with configure's changes to the
// admin server's Config.
func newImportStackWith(t *testing.T, wrap func(profileapi.Store) profileapi.Store, configure func(*admin.Config)) *importStack {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "import.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := token.NewKeyring(ctx, store, token.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var s profileapi.Store = store
	if wrap != nil {
		s = wrap(store)
	}
	cfg := admin.Config{Store: s, Tokens: keys, Endpoints: profileapi.LoopbackEndpoints("http", "127.0.0.1:8080"), Key: testKey, Logger: slog.New(slog.DiscardHandler)}
	if configure != nil {
		configure(&cfg)
	}
	st := &importStack{h: admin.NewServer(cfg), store: store, keys: keys}
	st.mustSend(t, "POST", "/admin/v1/skills", `{"id":"amzn1.ask.skill.imp","name":"Import","permissions":["alexa::profile:name:read","alexa::profile:email:read"]}`, 201)
	return st
}

func (st *importStack) send(method, path, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	st.h.ServeHTTP(rec, req)
	return rec
}

func (st *importStack) mustSend(t *testing.T, method, path, body string, status int) *httptest.ResponseRecorder {
	t.Helper()
	rec := st.send(method, path, "application/json", body)
	if rec.Code != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, rec.Code, rec.Body, status)
	}
	return rec
}

// customerLine is line i of a generated import.
func customerLine(i int) string {
	return fmt.Sprintf(`{"id":"amzn1.ask.account.IMP%d","region":"EU","profile":{"name":"Person %d","givenName":"Person","email":"p%d@example.com","mobileNumber":{"countryCode":"+91","phoneNumber":"7799-82-77-11"}},"consents":{"amzn1.ask.skill.imp":["alexa::profile:email:read"]}}`, i, i, i)
}

func customerLines(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(customerLine(i))
		b.WriteByte('\n')
	}
	return b.String()
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) (code, message string) {
	t.Helper()
	var e struct{ Code, Message string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("not an error body: %s", rec.Body)
	}
	return e.Code, e.Message
}

func TestImport(t *testing.T) {
	st := newImportStack(t, nil)
	body := customerLine(1) + "\r\n\n   \n" + customerLine(2) + "\n" + `{"id":"amzn1.ask.account.IMP3","region":"NA","profile":{}}` // no final newline
	rec := st.send("POST", "/admin/v1/import", "application/x-ndjson", body)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"imported":3}` {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	var c profileapi.Customer
	if err := json.Unmarshal(st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP2", "", 200).Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Region != profileapi.RegionEU || c.Profile.Email != "p2@example.com" || c.Profile.MobileNumber == nil || c.Profile.MobileNumber.PhoneNumber != "7799-82-77-11" {
		t.Fatalf("imported customer %+v", c)
	}
	if rec := st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP2/consents/amzn1.ask.skill.imp", "", 200); !strings.Contains(rec.Body.String(), `"scopes":["alexa::profile:email:read"]`) {
		t.Fatalf("imported consent: %s", rec.Body)
	}
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP3/consents/amzn1.ask.skill.imp", "", 404)

	t.Log("a line imported again without its consent revokes it, as the old node's export does after a revocation")
	if rec := st.send("POST", "/admin/v1/import", "application/x-ndjson", `{"id":"amzn1.ask.account.IMP2","region":"EU","profile":{"name":"Person 2"}}`); rec.Code != 200 {
		t.Fatalf("import again: %d %s", rec.Code, rec.Body)
	}
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP2/consents/amzn1.ask.skill.imp", "", 404)
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP1/consents/amzn1.ask.skill.imp", "", 200) // not in that import

	t.Log("a byte-order mark before the first line is skipped, as editors on Windows write one")
	if rec := st.send("POST", "/admin/v1/import", "application/x-ndjson", "\uFEFF"+customerLine(4)+"\n"); rec.Code != 200 {
		t.Fatalf("import with a BOM: %d %s", rec.Code, rec.Body)
	}
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP4", "", 200)

	t.Log("importing again updates: idempotent")
	again := strings.Replace(customerLine(2), "p2@example.com", "new@example.com", 1)
	if rec := st.send("POST", "/admin/v1/import", "application/json", again); rec.Code != 200 {
		t.Fatalf("import again: %d %s", rec.Code, rec.Body)
	}
	if rec := st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP2", "", 200); !strings.Contains(rec.Body.String(), "new@example.com") {
		t.Fatalf("re-imported customer: %s", rec.Body)
	}
}

// A bad line: the lines before it are stored, in whole batches and the
// part of the batch before it, and the message says so.
func TestImportStopsAtBadLine(t *testing.T) {
	st := newImportStack(t, nil)
	const bad = 5003
	body := customerLines(1, bad-1) + strings.Replace(customerLine(bad), "p5003@example.com", "not an email", 1) + "\n" + customerLines(bad+1, bad+10)
	rec := st.send("POST", "/admin/v1/import", "application/x-ndjson", body)
	code, msg := errorOf(t, rec)
	if rec.Code != 400 || code != "INVALID_REQUEST" || !strings.HasPrefix(msg, "line 5003: profile.email") || !strings.Contains(msg, "5002 customers from the lines before line 5003 were imported") {
		t.Fatalf("bad line: %d %s %q", rec.Code, code, msg)
	}
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP1", "", 200)
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP5002", "", 200)
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP5003", "", 404)
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP5004", "", 404)
}

// fullAfter is a store whose disk fills after its first n imports: the
// fault a full disk gives, which a test cannot make without mounting one.
type fullAfter struct {
	*sqlite.DB
	n int
}

func (f *fullAfter) ImportCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error {
	if f.n == 0 {
		return profileapi.Unavailable(errors.New("sqlite: database or disk is full (13)"), time.Second)
	}
	f.n--
	return f.DB.ImportCustomers(ctx, customers, consents)
}

// An import the database cannot finish (503) says what it stored.
func TestImportStoreUnavailable(t *testing.T) {
	st := newImportStack(t, func(s profileapi.Store) profileapi.Store { return &fullAfter{DB: s.(*sqlite.DB), n: 1} })
	rec := st.send("POST", "/admin/v1/import", "application/x-ndjson", customerLines(1, 12000))
	code, msg := errorOf(t, rec)
	if rec.Code != 503 || code != "SERVICE_UNAVAILABLE" || rec.Header().Get("Retry-After") == "" ||
		!strings.HasPrefix(msg, "lines 5001 to 10000: the database is unavailable") ||
		!strings.Contains(msg, "at least 5000 customers, from the lines before line 5001, were imported") ||
		!strings.Contains(msg, "import the file again once the database is back") {
		t.Fatalf("%d %s %q", rec.Code, code, msg)
	}
	if strings.Contains(msg, "disk is full") {
		t.Errorf("the cause is for the log, not the answer: %q", msg)
	}
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP5000", "", 200)
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP5001", "", 404)
}

func TestImportRefuses(t *testing.T) {
	st := newImportStack(t, nil)
	for _, c := range []struct {
		name, contentType, body string
		status                  int
		code, message           string
	}{
		{"unknown skill", "", strings.Replace(customerLine(1), "skill.imp", "skill.other", 1), 400, "INVALID_REQUEST", "line 1: skill amzn1.ask.skill.other does not exist"},
		{"undeclared scope", "", strings.Replace(customerLine(1), "email:read", "mobile_number:read", 1), 400, "INVALID_REQUEST", "line 1: skill amzn1.ask.skill.imp does not declare alexa::profile:mobile_number:read"},
		{"unknown scope", "", strings.Replace(customerLine(1), "email:read", "nope", 1), 400, "INVALID_REQUEST", `line 1: unknown scope "alexa::profile:nope"`},
		{"no id", "", `{"region":"NA","profile":{}}`, 400, "INVALID_REQUEST", "line 1: id is required"},
		{"no region", "", `{"id":"amzn1.ask.account.X","profile":{}}`, 400, "INVALID_REQUEST", "line 1: region is required"},
		{"bad id", "", `{"id":"x","region":"NA","profile":{}}`, 400, "INVALID_REQUEST", `line 1: customer id "x"`},
		{"unknown field", "", "\n" + `{"id":"amzn1.ask.account.X","region":"NA","profile":{},"extra":1}`, 400, "INVALID_REQUEST", `line 2: unknown field "extra"`},
		{"not JSON", "", customerLine(1) + "\n{", 400, "INVALID_REQUEST", "line 2: the line is truncated JSON (1 customer from the lines before line 2 was imported"},
		{"two values", "", `{"id":"amzn1.ask.account.X","region":"NA","profile":{}} {}`, 400, "INVALID_REQUEST", "line 1: the line must hold a single JSON value"},
		{"twice", "", customerLine(1) + "\n" + customerLine(1), 400, "INVALID_REQUEST", "line 2: customer amzn1.ask.account.IMP1 appears on lines 1 and 2"},
		{"twice, later", "", customerLines(1, 3) + customerLine(3), 400, "INVALID_REQUEST", "line 4: customer amzn1.ask.account.IMP3 appears on lines 3 and 4"},
		// Wherever the batches of 5,000 split: caught within a batch's length.
		{"twice, across batches", "", customerLines(1, 5000) + customerLine(5000), 400, "INVALID_REQUEST", "line 5001: customer amzn1.ask.account.IMP5000 appears on lines 5000 and 5001"},
		{"twice, a batch apart", "", customerLines(1, 5001) + customerLine(1), 400, "INVALID_REQUEST", "line 5002: customer amzn1.ask.account.IMP1 appears on lines 1 and 5002"},
		{"bad phone", "", strings.Replace(customerLine(1), "7799-82-77-11", "12", 1), 400, "INVALID_REQUEST", "line 1: mobileNumber.phoneNumber"},
		{"long line", "", `{"id":"amzn1.ask.account.X","region":"NA","profile":{"name":"` + strings.Repeat("a", 1<<20) + `"}}`, 413, "REQUEST_TOO_LARGE", "line 1: the line is longer than 1048576 bytes (nothing was imported"},
		{"content type", "text/csv", customerLine(1), 400, "INVALID_REQUEST", "Content-Type must be application/x-ndjson"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := st.send("POST", "/admin/v1/import", c.contentType, c.body)
			code, msg := errorOf(t, rec)
			if rec.Code != c.status || code != c.code || !strings.HasPrefix(msg, c.message) && !strings.Contains(msg, c.message) {
				t.Fatalf("%d %s %q, want %d %s %q", rec.Code, code, msg, c.status, c.code, c.message)
			}
		})
	}
	// A compressed body is refused for what it is, not as bytes that are
	// no JSON; on the single-customer calls too.
	for _, path := range []string{"/admin/v1/import", "/admin/v1/tokens/batch", "/admin/v1/customers"} {
		req := httptest.NewRequest("POST", path, strings.NewReader(customerLine(900001)))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Encoding", "gzip")
		rec := httptest.NewRecorder()
		st.h.ServeHTTP(rec, req)
		if code, msg := errorOf(t, rec); rec.Code != 400 || code != "INVALID_REQUEST" || !strings.Contains(msg, `Content-Encoding "gzip" is not supported`) {
			t.Errorf("%s with Content-Encoding gzip: %d %s %q", path, rec.Code, code, msg)
		}
	}
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP900001", "", 404)
	if rec := st.send("POST", "/admin/v1/import", "", ""); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"imported":0}` {
		t.Fatalf("empty import: %d %s", rec.Code, rec.Body)
	}
}

// plainStore hides the store's ImportCustomers.
type plainStore struct{ profileapi.Store }

func TestImportNeedsAnImporter(t *testing.T) {
	st := newImportStack(t, func(s profileapi.Store) profileapi.Store { return plainStore{s} })
	rec := st.send("POST", "/admin/v1/import", "", customerLine(1))
	if code, msg := errorOf(t, rec); rec.Code != 400 || !strings.Contains(msg, "cannot import in bulk") {
		t.Fatalf("%d %s %q", rec.Code, code, msg)
	}
}

func TestTokensBatch(t *testing.T) {
	st := newImportStack(t, nil)
	const n = 2500 // more than one chunk
	if rec := st.send("POST", "/admin/v1/import", "", customerLines(1, n)); rec.Code != 200 {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	var req strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&req, `{"customerId":"amzn1.ask.account.IMP%d","skillId":"amzn1.ask.skill.imp","ttlSeconds":600}`+"\n", i)
	}
	// Through a real listener, where the body streams in while tokens
	// stream out.
	srv := httptest.NewServer(st.h)
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() {
		for _, line := range strings.SplitAfter(req.String(), "\n") {
			if _, err := pw.Write([]byte(line)); err != nil {
				return
			}
		}
		pw.Close()
	}()
	hreq, _ := http.NewRequest("POST", srv.URL+"/admin/v1/tokens/batch", pr)
	hreq.Header.Set("Authorization", "Bearer "+testKey)
	hreq.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := srv.Client().Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("tokens/batch: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	i := 0
	for sc.Scan() {
		i++
		var tok struct {
			CustomerID, SkillID, APIAccessToken, APIEndpoint, ExpiresAt string
		}
		if err := json.Unmarshal(sc.Bytes(), &tok); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, sc.Bytes())
		}
		if want := fmt.Sprintf("amzn1.ask.account.IMP%d", i); tok.CustomerID != want || tok.SkillID != "amzn1.ask.skill.imp" || tok.APIEndpoint != "http://127.0.0.1:8080/eu" || tok.ExpiresAt == "" {
			t.Fatalf("line %d: %+v, want customer %s", i, tok, want)
		}
		claims, err := st.keys.Verify(context.Background(), tok.APIAccessToken)
		if err != nil || claims.CustomerID != tok.CustomerID || claims.Region != profileapi.RegionEU || (claims.ExpiresAt.Sub(claims.IssuedAt) < 600*time.Second || claims.ExpiresAt.Sub(claims.IssuedAt) > 601*time.Second) {
			t.Fatalf("line %d: token claims %+v, %v", i, claims, err)
		}
	}
	if i != n {
		t.Fatalf("%d tokens, want %d", i, n)
	}

	t.Log("an error in the first chunk is the answer")
	rec := st.send("POST", "/admin/v1/tokens/batch", "", `{"customerId":"amzn1.ask.account.IMP1","skillId":"amzn1.ask.skill.imp"}`+"\n"+`{"customerId":"amzn1.ask.account.NOPE","skillId":"amzn1.ask.skill.imp"}`)
	if code, msg := errorOf(t, rec); rec.Code != 404 || code != "NOT_FOUND" || !strings.HasPrefix(msg, "line 2: ") {
		t.Fatalf("unknown customer: %d %s %q", rec.Code, code, msg)
	}
	// Through the listener: a line too long is an error like any other.
	hreq, _ = http.NewRequest("POST", srv.URL+"/admin/v1/tokens/batch", strings.NewReader(`{"customerId":"amzn1.ask.account.IMP1","skillId":"amzn1.ask.skill.imp"}`+"\n"+`{"customerId":"`+strings.Repeat("A", 1<<20)+`"}`))
	hreq.Header.Set("Authorization", "Bearer "+testKey)
	long, err := srv.Client().Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(long.Body)
	long.Body.Close()
	if e := (struct{ Code, Message string }{}); long.StatusCode != 413 || json.Unmarshal(body, &e) != nil || e.Code != "REQUEST_TOO_LARGE" || e.Message != "line 2: the line is longer than 1048576 bytes" {
		t.Fatalf("a long line 2: %d %s", long.StatusCode, body)
	}
	rec = st.send("POST", "/admin/v1/tokens/batch", "", `{"customerId":"amzn1.ask.account.IMP1","skillId":"amzn1.ask.skill.nope"}`)
	if code, msg := errorOf(t, rec); rec.Code != 404 || !strings.HasPrefix(msg, "line 1: skill amzn1.ask.skill.nope does not exist") {
		t.Fatalf("unknown skill: %d %s %q", rec.Code, code, msg)
	}
	rec = st.send("POST", "/admin/v1/tokens/batch", "", `{"customerId":"amzn1.ask.account.IMP1","skillId":"amzn1.ask.skill.imp","ttlSeconds":0}`)
	if code, msg := errorOf(t, rec); rec.Code != 400 || !strings.HasPrefix(msg, "line 1: ttlSeconds must be") {
		t.Fatalf("bad ttl: %d %s %q", rec.Code, code, msg)
	}

	t.Log("an error after tokens were streamed: the tokens before it, then the error body")
	lines := strings.Split(strings.TrimSpace(req.String()), "\n")
	lines[1500] = `{"customerId":"amzn1.ask.account.NOPE","skillId":"amzn1.ask.skill.imp"}`
	rec = st.send("POST", "/admin/v1/tokens/batch", "", strings.Join(lines, "\n"))
	got := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
	if rec.Code != 200 || len(got) != 1501 {
		t.Fatalf("error mid-stream: %d, %d lines", rec.Code, len(got))
	}
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(got[len(got)-1]), &e); err != nil || e.Code != "NOT_FOUND" || !strings.HasPrefix(e.Message, "line 1501: ") {
		t.Fatalf("last line %s", got[len(got)-1])
	}
}

// TestTokensBatchFailureLogged: a stream that ends with an error line was
// sent with status 200; its log line says it failed, with the error code.
func TestTokensBatchFailureLogged(t *testing.T) {
	var log strings.Builder
	st := newImportStackWith(t, nil, func(c *admin.Config) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
	const n = admin.ChunkLines + 1 // the bad line is in the second chunk
	if rec := st.send("POST", "/admin/v1/import", "", customerLines(1, n)); rec.Code != 200 {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	var req strings.Builder
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("IMP%d", i)
		if i == n {
			id = "NOPE"
		}
		fmt.Fprintf(&req, `{"customerId":"amzn1.ask.account.%s","skillId":"amzn1.ask.skill.imp"}`+"\n", id)
	}
	log.Reset()
	if rec := st.send("POST", "/admin/v1/tokens/batch", "", req.String()); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"code":"NOT_FOUND"`) {
		t.Fatalf("want a stream ending with an error line: %d", rec.Code)
	}
	if line := log.String(); !strings.Contains(line, "route=\"POST /admin/v1/tokens/batch\" status=200") || !strings.Contains(line, "code=NOT_FOUND") {
		t.Errorf("the batch's log line does not tell its failure:\n%s", line)
	}
}

// TestBulkHook: an import and a token batch each tell Bulk when they start
// and end (serve lifts its garbage-collector floor meanwhile); other calls
// do not.
func TestBulkHook(t *testing.T) {
	var started, ended int
	st := newImportStackWith(t, nil, func(cfg *admin.Config) {
		cfg.Bulk = func() func() {
			started++
			return func() { ended++ }
		}
	})
	if started != 0 {
		t.Fatalf("creating a skill is bulk work: %d", started)
	}
	if rec := st.send("POST", "/admin/v1/import", "application/x-ndjson", customerLines(1, 3)); rec.Code != 200 {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	if started != 1 || ended != 1 {
		t.Fatalf("after an import: %d started, %d ended, want 1 and 1", started, ended)
	}
	if rec := st.send("POST", "/admin/v1/tokens/batch", "application/x-ndjson", `{"customerId":"amzn1.ask.account.IMP1","skillId":"amzn1.ask.skill.imp"}`+"\n"); rec.Code != 200 {
		t.Fatalf("tokens/batch: %d %s", rec.Code, rec.Body)
	}
	if started != 2 || ended != 2 {
		t.Fatalf("after a token batch: %d started, %d ended, want 2 and 2", started, ended)
	}
}

// Lines of a thousand consents each (an export's line for a customer who
// granted that many skills) import, over 64 KiB each; the batches they
// make are cut early by their consents, and a customer named twice across
// such a cut is still caught.
func TestImportManyConsents(t *testing.T) {
	var batches recordBatches
	st := newImportStack(t, func(s profileapi.Store) profileapi.Store { batches.DB = s.(*sqlite.DB); return &batches })
	ctx := t.Context()
	const skills = 1200
	scopes := make(map[string][]string, skills)
	for i := range skills {
		id := fmt.Sprintf("amzn1.ask.skill.many-%04d-%s", i, strings.Repeat("x", 20))
		if err := st.store.CreateSkill(ctx, &profileapi.Skill{ID: id, Name: "Many", Permissions: profileapi.AllScopes}); err != nil {
			t.Fatal(err)
		}
		scopes[id] = []string{"alexa::profile:email:read"}
	}
	line := func(i int) string {
		b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("amzn1.ask.account.MANY%d", i), "region": "NA", "profile": map[string]any{"name": "Many"}, "consents": scopes})
		return string(b) + "\n"
	}
	if n := len(line(1)); n <= 64<<10 {
		t.Fatalf("a line of %d bytes: want one over 64 KiB", n)
	}
	var body strings.Builder
	for i := 1; i <= 200; i++ { // 240,000 consents: three batches
		body.WriteString(line(i))
	}
	if rec := st.send("POST", "/admin/v1/import", "", body.String()); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"imported":200`) {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	// 240,000 consents, in batches of at most 100,000 and one line's.
	if len(batches.consents) < 3 || slices.Max(batches.consents) > 100_000+skills {
		t.Errorf("batches of %v consents, want three or more of at most %d", batches.consents, 100_000+skills)
	}
	st.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.MANY200/consents/amzn1.ask.skill.many-1199-"+strings.Repeat("x", 20), "", 200)
	body.WriteString(line(1))
	rec := st.send("POST", "/admin/v1/import", "", body.String())
	if _, msg := errorOf(t, rec); rec.Code != 400 || !strings.Contains(msg, "line 201: customer amzn1.ask.account.MANY1 appears on lines 1 and 201") {
		t.Fatalf("a customer twice, across a batch cut by its consents: %d %s", rec.Code, msg)
	}
}

// recordBatches is a store that notes how many consents each import batch
// gives.
type recordBatches struct {
	*sqlite.DB
	consents []int
}

func (r *recordBatches) ImportCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error {
	r.consents = append(r.consents, len(consents))
	return r.DB.ImportCustomers(ctx, customers, consents)
}
