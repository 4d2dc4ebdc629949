package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi/postgres/pgtest"
)

// The advertised endpoints every node of a test shares, as behind one load
// balancer: a token is bound to its region's endpoint, so every node must
// advertise the same ones for a token minted on one to be good on all.
// Requests go to each node's own address; the path prefix tells the region.
const (
	lbNA = "http://lb.test"
	lbEU = "http://lb.test/eu"
	lbFE = "http://lb.test/fe"
)

// node is one profileapi process of several sharing a database.
type node struct {
	*process
	addr string // the public listener, host:port
}

var servingLine = regexp.MustCompile(`msg=serving addr=(\S+)`)

// startNode starts a process that advertises the shared endpoints and
// finds its public address in its log.
func startNode(t *testing.T, args ...string) *node {
	t.Helper()
	args = append([]string{"--endpoint-na", lbNA, "--endpoint-eu", lbEU, "--endpoint-fe", lbFE}, args...)
	p := startProcess(t, t.TempDir(), args...)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(p.stderr.String()); m != nil {
			return &node{process: p, addr: m[1]}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no serving line in the log: %s", p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mustAdmin makes an admin call and fails the test unless it succeeds.
func (n *node) mustAdmin(t *testing.T, method, path, body string) string {
	t.Helper()
	code, resp, err := n.admin(method, path, body)
	if err != nil || code >= 300 {
		t.Fatalf("%s %s: %d %s %v", method, path, code, resp, err)
	}
	return resp
}

var tokenFields = regexp.MustCompile(`"apiAccessToken":"([^"]+)","apiEndpoint":"([^"]+)"`)

// mint issues a token on n and returns it with the path prefix of its
// endpoint.
func (n *node) mint(t *testing.T, customerID, skillID string) (token, prefix string) {
	t.Helper()
	resp := n.mustAdmin(t, "POST", "/admin/v1/tokens", `{"customerId":"`+customerID+`","skillId":"`+skillID+`"}`)
	m := tokenFields.FindStringSubmatch(resp)
	if m == nil {
		t.Fatalf("no token in %s", resp)
	}
	return m[1], strings.TrimPrefix(m[2], lbNA)
}

// nodeReply is what a node's public API answered.
type nodeReply struct {
	status     int
	body       string
	retryAfter string
	took       time.Duration
	err        error
}

// nodeClient gives up on a node that does not answer: a hang is a failure.
var nodeClient = &http.Client{Timeout: 10 * time.Second}

// get reads a profile field from n, with the token of an endpoint under prefix.
func (n *node) get(token, prefix, field string) nodeReply {
	req, err := http.NewRequest("GET", "http://"+n.addr+prefix+"/v2/accounts/~current/settings/"+field, nil)
	if err != nil {
		return nodeReply{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := nodeClient.Do(req)
	if err != nil {
		return nodeReply{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return nodeReply{status: resp.StatusCode, body: string(b), retryAfter: resp.Header.Get("Retry-After"), took: time.Since(start), err: err}
}

// expect fails the test unless the nodeReply has the status and holds want.
func expect(t *testing.T, what string, r nodeReply, status int, want string) {
	t.Helper()
	if r.err != nil || r.status != status || !strings.Contains(r.body, want) {
		t.Fatalf("%s: %d %s %v; want %d with %s", what, r.status, r.body, r.err, status, want)
	}
}

// sharedServices returns a new, empty database on the test PostgreSQL and
// the test Redis, skipping the test unless both are configured.
func sharedServices(t *testing.T) (db, redis string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts processes")
	}
	redis = os.Getenv("PROFILEAPI_TEST_REDIS")
	if os.Getenv(pgtest.EnvURL) == "" || redis == "" {
		t.Skipf("runs several nodes on a shared PostgreSQL and Redis: set %s and PROFILEAPI_TEST_REDIS to run it", pgtest.EnvURL)
	}
	return pgtest.NewDatabase(t), redis
}

// TestMultiNode runs three nodes on one PostgreSQL database and one Redis,
// as behind a load balancer, and checks that they act as one service: a
// token minted on one is good on all, a revocation or a profile change
// made through one is seen by the next request to any other, and a skill's
// rate limit holds across all of them.
func TestMultiNode(t *testing.T) {
	db, redis := sharedServices(t)
	const rate, burst = 10, 10
	var nodes []*node
	for range 3 {
		nodes = append(nodes, startNode(t, "--db", db, "--redis", redis,
			"--skill-rate", fmt.Sprint(rate), "--skill-burst", fmt.Sprint(burst)))
	}
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	suffix := strings.ToUpper(nodeSuffix())
	skill := "amzn1.ask.skill.multi-" + suffix
	customer := "amzn1.ask.account.MULTI" + suffix
	n1.mustAdmin(t, "POST", "/admin/v1/skills", `{"id":"`+skill+`","name":"Multi","permissions":["alexa::profile:email:read","alexa::profile:name:read"]}`)
	n2.mustAdmin(t, "POST", "/admin/v1/customers", `{"id":"`+customer+`","region":"NA","profile":{"name":"Multi Node","email":"multi@example.com"}}`)
	n3.mustAdmin(t, "PUT", "/admin/v1/customers/"+customer+"/consents/"+skill, `{"scopes":["alexa::profile:email:read"]}`)

	t.Log("a token minted on node 1 is good on nodes 2 and 3")
	tok, prefix := n1.mint(t, customer, skill)
	if prefix != "" {
		t.Fatalf("NA token's endpoint has prefix %q, want the shared %s", prefix, lbNA)
	}
	for i, n := range nodes {
		expect(t, fmt.Sprintf("node %d", i+1), n.get(tok, prefix, "Profile.email"), 200, `"multi@example.com"`)
	}

	t.Log("an EU customer made on node 2, granted on node 3, minted on node 3, read on node 1 under /eu")
	eu := "amzn1.ask.account.EU" + suffix
	n2.mustAdmin(t, "POST", "/admin/v1/customers", `{"id":"`+eu+`","region":"EU","profile":{"name":"Eu Ropa"}}`)
	n3.mustAdmin(t, "PUT", "/admin/v1/customers/"+eu+"/consents/"+skill, `{"scopes":["alexa::profile:name:read"]}`)
	euTok, euPrefix := n3.mint(t, eu, skill)
	if euPrefix != "/eu" {
		t.Fatalf("EU token's endpoint has prefix %q, want /eu", euPrefix)
	}
	expect(t, "node 1, EU", n1.get(euTok, euPrefix, "Profile.name"), 200, `"Eu Ropa"`)

	t.Log("revoked on node 2, refused by node 3 at the next request")
	n2.mustAdmin(t, "DELETE", "/admin/v1/customers/"+customer+"/consents/"+skill, "")
	expect(t, "node 3 after the revocation", n3.get(tok, prefix, "Profile.email"), 403, "")
	expect(t, "node 1 after the revocation", n1.get(tok, prefix, "Profile.email"), 403, "")

	t.Log("granted again on node 3 and changed on node 1, seen by node 3 at the next request")
	n3.mustAdmin(t, "PUT", "/admin/v1/customers/"+customer+"/consents/"+skill, `{"scopes":["alexa::profile:email:read"]}`)
	n1.mustAdmin(t, "PATCH", "/admin/v1/customers/"+customer, `{"profile":{"email":"changed@example.com"}}`)
	expect(t, "node 3 after the change", n3.get(tok, prefix, "Profile.email"), 200, `"changed@example.com"`)
	expect(t, "node 2 after the change", n2.get(tok, prefix, "Profile.email"), 200, `"changed@example.com"`)

	t.Log("one skill's rate limit holds across the three nodes")
	hammered := "amzn1.ask.skill.hammer-" + suffix
	n1.mustAdmin(t, "POST", "/admin/v1/skills", `{"id":"`+hammered+`","name":"Hammer","permissions":["alexa::profile:email:read"]}`)
	n1.mustAdmin(t, "PUT", "/admin/v1/customers/"+customer+"/consents/"+hammered, `{"scopes":["alexa::profile:email:read"]}`)
	hammerTok, _ := n2.mint(t, customer, hammered)
	const calls = 60
	replies := make([]nodeReply, calls)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() { replies[i] = nodes[i%len(nodes)].get(hammerTok, "", "Profile.email") })
	}
	wg.Wait()
	elapsed := time.Since(start)
	ok, limited := 0, 0
	for i, r := range replies {
		switch {
		case r.err == nil && r.status == 200:
			ok++
		case r.err == nil && r.status == 429:
			limited++
			if r.retryAfter == "" || r.retryAfter == "0" {
				t.Errorf("call %d: 429 with Retry-After %q", i, r.retryAfter)
			}
		default:
			t.Errorf("call %d to node %d: %d %s %v; want 200 or 429", i, i%len(nodes)+1, r.status, r.body, r.err)
		}
	}
	// The burst, and what the rate refills while the calls are made.
	most := burst + int(elapsed.Seconds()*rate) + 1
	t.Logf("%d calls over three nodes in %v: %d answered, %d refused with 429", calls, elapsed.Round(time.Millisecond), ok, limited)
	if ok < burst || ok > most {
		t.Errorf("%d calls answered, want from %d (the burst) to %d (the burst and %v at %d per second)", ok, burst, most, elapsed.Round(time.Millisecond), rate)
	}
}

// TestMultiNodeKeyRotation has one node rotate its signing key: a token it
// signs with the new key is good at once on a node that has not seen the
// key, and tokens of the old key stay good everywhere.
func TestMultiNodeKeyRotation(t *testing.T) {
	db, redis := sharedServices(t)
	const rotation = time.Second
	n1 := startNode(t, "--db", db, "--redis", redis, "--key-rotation", rotation.String())
	n2 := startNode(t, "--db", db, "--redis", redis, "--key-rotation", rotation.String())
	suffix := strings.ToUpper(nodeSuffix())
	skill := "amzn1.ask.skill.rotate-" + suffix
	customer := "amzn1.ask.account.ROTATE" + suffix
	n1.mustAdmin(t, "POST", "/admin/v1/skills", `{"id":"`+skill+`","name":"Rotate","permissions":["alexa::profile:name:read"]}`)
	n1.mustAdmin(t, "POST", "/admin/v1/customers", `{"id":"`+customer+`","region":"FE","profile":{"name":"Ro Tate"}}`)
	n1.mustAdmin(t, "PUT", "/admin/v1/customers/"+customer+"/consents/"+skill, `{"scopes":["alexa::profile:name:read"]}`)
	old, prefix := n1.mint(t, customer, skill)
	if prefix != "/fe" {
		t.Fatalf("FE token's endpoint has prefix %q, want /fe", prefix)
	}
	expect(t, "node 2, old key", n2.get(old, prefix, "Profile.name"), 200, `"Ro Tate"`)

	time.Sleep(rotation + 100*time.Millisecond) // the key is due for rotation
	fresh, _ := n1.mint(t, customer, skill)
	if kid(t, fresh) == kid(t, old) {
		t.Fatalf("node 1 still signs with key %s after its rotation period", kid(t, old))
	}
	expect(t, "node 2, new key", n2.get(fresh, prefix, "Profile.name"), 200, `"Ro Tate"`)
	expect(t, "node 2, old key after the rotation", n2.get(old, prefix, "Profile.name"), 200, `"Ro Tate"`)
	expect(t, "node 1, old key after the rotation", n1.get(old, prefix, "Profile.name"), 200, `"Ro Tate"`)
}

// nodeSuffix returns a random suffix for ids, so that runs sharing a
// Redis do not share rate limit keys.
func nodeSuffix() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var kidField = regexp.MustCompile(`"kid":"([^"]+)"`)

// kid returns the key id in a token's header.
func kid(t *testing.T, token string) string {
	t.Helper()
	header, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	m := kidField.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no kid in the token header %s", b)
	}
	return string(m[1])
}

// TestMultiNodePostgresOutage stops PostgreSQL under two nodes serving a
// steady load: every answer during the outage is a prompt 503 with
// Retry-After, never a 500 nor a hang, and both nodes answer 200 again once
// PostgreSQL is back, without a restart.
func TestMultiNodePostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	cluster := pgtest.StartCluster(t)
	nodes := []*node{startNode(t, "--db", cluster.URL), startNode(t, "--db", cluster.URL)}
	skill, customer := "amzn1.ask.skill.outage", "amzn1.ask.account.OUTAGE"
	nodes[0].mustAdmin(t, "POST", "/admin/v1/skills", `{"id":"`+skill+`","name":"Outage","permissions":["alexa::profile:given_name:read"]}`)
	nodes[1].mustAdmin(t, "POST", "/admin/v1/customers", `{"id":"`+customer+`","region":"NA","profile":{"givenName":"Otto"}}`)
	nodes[0].mustAdmin(t, "PUT", "/admin/v1/customers/"+customer+"/consents/"+skill, `{"scopes":["alexa::profile:given_name:read"]}`)
	tok, prefix := nodes[1].mint(t, customer, skill)

	type sample struct {
		nodeReply
		node  int
		start time.Time
	}
	var (
		mu      sync.Mutex
		samples []sample
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 4 { // a steady load on both nodes
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				r := nodes[w%2].get(tok, prefix, "Profile.givenName")
				mu.Lock()
				samples = append(samples, sample{r, w % 2, start})
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	cluster.Stop(t)
	down := time.Now()
	time.Sleep(1500 * time.Millisecond)
	for i, n := range nodes {
		if code, body, err := n.admin("GET", "/readyz", ""); err != nil || code != 503 {
			t.Errorf("node %d: /readyz during the outage: %d %s %v, want 503", i+1, code, body, err)
		}
	}
	up := time.Now()
	cluster.Start(t)

	// Wait for a 200 from each node, started after PostgreSQL came back.
	deadline := time.Now().Add(15 * time.Second)
	for recovered := false; !recovered; {
		if time.Now().After(deadline) {
			t.Fatal("the nodes did not answer 200 within 15s of PostgreSQL's return")
		}
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		seen := [2]bool{}
		for _, s := range samples {
			if s.start.After(up) && s.status == 200 {
				seen[s.node] = true
			}
		}
		mu.Unlock()
		recovered = seen[0] && seen[1]
	}
	close(stop)
	wg.Wait()

	counts := map[string]int{}
	for _, s := range samples {
		when := "around" // started before PostgreSQL stopped, or ended after it was back
		if s.start.After(down) && s.start.Add(s.took).Before(up) {
			when = "during"
		}
		switch {
		case s.err != nil:
			t.Errorf("node %d: %v after %v", s.node+1, s.err, s.took)
		case s.status == 503:
			if s.retryAfter == "" {
				t.Errorf("node %d: 503 without Retry-After", s.node+1)
			}
		case s.status == 200 && when == "around":
		default:
			t.Errorf("node %d, %s the outage: %d %s", s.node+1, when, s.status, s.body)
		}
		if s.took > 3*time.Second {
			t.Errorf("node %d: an answer took %v", s.node+1, s.took)
		}
		counts[fmt.Sprintf("%s %d", when, s.status)]++
	}
	t.Logf("answers: %v", counts)
	if counts["during 503"] == 0 {
		t.Error("no 503 during the outage")
	}
}
