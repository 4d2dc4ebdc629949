package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestMain lets a test start this very binary as a real `profileapi`
// process, to kill it or signal it like an operator would.
func TestMain(m *testing.M) {
	if os.Getenv("PROFILEAPI_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const processAdminKey = "process-test-admin-key-0123456789"

type process struct {
	cmd       *exec.Cmd
	stderr    *syncBuffer
	publicURL string
	adminURL  string
	exited    chan error
}

// startProcess runs `profileapi serve` as a child process.
func startProcess(t *testing.T, dataDir string, args ...string) *process {
	t.Helper()
	return startProcessUnder(t, nil, dataDir, args...)
}

// startProcessUnder is startProcess with the command run by wrapper, such
// as nohup.
func startProcessUnder(t *testing.T, wrapper []string, dataDir string, args ...string) *process {
	t.Helper()
	argv := append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", dataDir, "--admin-key", processAdminKey}, args...)
	argv = append(append(slices.Clone(wrapper), os.Args[0]), argv...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "PROFILEAPI_TEST_AS_MAIN=1")
	p := &process{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	timeout := time.After(20 * time.Second)
	for p.publicURL == "" || p.adminURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited early: %s", p.stderr.String())
			}
			if m := naLine.FindStringSubmatch(l); m != nil {
				p.publicURL = m[1]
			}
			if m := adminLine.FindStringSubmatch(l); m != nil {
				p.adminURL = m[1]
			}
		case <-timeout:
			t.Fatalf("serve did not start: %s", p.stderr.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

func (p *process) admin(method, path, body string) (int, string, error) {
	req, err := http.NewRequest(method, p.adminURL+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+processAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestKill9LosesNoAcknowledgedWrite streams admin writes from several
// clients, kills the server with SIGKILL mid-stream, restarts it and
// finds every write that was acknowledged, in an intact database.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	p := startProcess(t, dir)
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("amzn1.ask.account.K%dN%d", w, i)
				code, _, err := p.admin("POST", "/admin/v1/customers", `{"id":"`+id+`","region":"NA","profile":{"name":"Kill Test","email":"k@example.com"}}`)
				if err != nil {
					return // the server is gone
				}
				if code == 201 {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stop)
	wg.Wait()

	db, err := sql.Open("sqlite", filepath.Join(dir, "profileapi.db"))
	if err != nil {
		t.Fatal(err)
	}
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q %v", integrity, err)
	}
	db.Close()

	again := startProcess(t, dir)
	for _, id := range acked {
		code, body, err := again.admin("GET", "/admin/v1/customers/"+id, "")
		if err != nil || code != 200 {
			t.Fatalf("acknowledged customer %s lost after kill -9: %d %s %v", id, code, body, err)
		}
	}
	t.Logf("%d acknowledged writes, all found after kill -9", len(acked))
}

var requestIDLine = regexp.MustCompile(`request_id=`)

// TestLogsHoldNoPersonalData runs a whole session through a real process
// and searches everything it logged for the profile values it served.
func TestLogsHoldNoPersonalData(t *testing.T) {
	p := startProcess(t, t.TempDir(), "--log-level", "debug", "--demo")
	pii := []string{"jsmith@example.com", "John Smith", "7799-82-77-11", "secret.person@example.org", "Secret Person", "7799827711"}
	for _, call := range []struct{ method, path, body string }{
		{"POST", "/admin/v1/skills", `{"id":"amzn1.ask.skill.pii","name":"PII","permissions":["alexa::profile:email:read","alexa::profile:name:read"]}`},
		{"POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.PII","region":"NA","profile":{"name":"Secret Person","email":"secret.person@example.org","mobileNumber":{"countryCode":"+91","phoneNumber":"7799827711"}}}`},
		{"POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.BAD","region":"NA","profile":{"email":"not an email secret.person@example.org"}}`},
		{"PUT", "/admin/v1/customers/amzn1.ask.account.PII/consents/amzn1.ask.skill.pii", `{"scopes":["alexa::profile:email:read"]}`},
		{"PATCH", "/admin/v1/customers/amzn1.ask.account.PII", `{"profile":{"mobileNumber":{"countryCode":"+91","phoneNumber":"12"}}}`},
	} {
		if _, _, err := p.admin(call.method, call.path, call.body); err != nil {
			t.Fatal(err)
		}
	}
	_, tokBody, _ := p.admin("POST", "/admin/v1/tokens", `{"customerId":"amzn1.ask.account.PII","skillId":"amzn1.ask.skill.pii"}`)
	tok := regexp.MustCompile(`"apiAccessToken":"([^"]+)"`).FindStringSubmatch(tokBody)[1]
	for _, f := range []string{"Profile.email", "Profile.name", "Profile.mobileNumber"} {
		req, _ := http.NewRequest("GET", p.publicURL+"/v2/accounts/~current/settings/"+f, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited
	logs := p.stderr.String()
	if !requestIDLine.MatchString(logs) {
		t.Fatalf("no request log lines at all:\n%s", logs)
	}
	for _, v := range pii {
		if strings.Contains(logs, v) {
			t.Errorf("the logs hold %q", v)
		}
	}
	if bytes.Contains([]byte(logs), []byte(tok)) {
		t.Error("the logs hold a token")
	}
}

// exitsZero waits up to within for p to exit, and fails the test unless it
// exits 0, as it should because of why.
func (p *process) exitsZero(t *testing.T, within time.Duration, why string) {
	t.Helper()
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("exit: %v, want 0: %s\n%s", err, why, p.stderr.String())
		}
	case <-time.After(within):
		t.Fatalf("still running %v after SIGTERM", within)
	}
}

// slowCalls makes Terry's given name readable by a skill, every public
// call take latencyMs (an injected fault), and returns a token for them.
func (p *process) slowCalls(t *testing.T, latencyMs int) string {
	t.Helper()
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/admin/v1/skills", `{"id":"amzn1.ask.skill.t","name":"T","permissions":["alexa::profile:given_name:read"]}`},
		{"POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.T","region":"NA","profile":{"givenName":"Terry"}}`},
		{"PUT", "/admin/v1/customers/amzn1.ask.account.T/consents/amzn1.ask.skill.t", `{"scopes":["alexa::profile:given_name:read"]}`},
		{"POST", "/admin/v1/faults", fmt.Sprintf(`{"latencyMs":%d}`, latencyMs)},
	} {
		if code, body, err := p.admin(c.method, c.path, c.body); err != nil || code >= 300 {
			t.Fatalf("%s %s: %d %s %v", c.method, c.path, code, body, err)
		}
	}
	_, tokBody, _ := p.admin("POST", "/admin/v1/tokens", `{"customerId":"amzn1.ask.account.T","skillId":"amzn1.ask.skill.t"}`)
	return regexp.MustCompile(`"apiAccessToken":"([^"]+)"`).FindStringSubmatch(tokBody)[1]
}

// TestClientGivesUpDuringLatency: a call held by an injected latency ends
// soon after its client gives up, not when the latency has passed: the
// public listener's sweeper (a tick of 100 ms here) sees the client gone.
func TestClientGivesUpDuringLatency(t *testing.T) {
	p := startProcess(t, t.TempDir(), "--read-header-timeout", "400ms")
	tok := p.slowCalls(t, 20000)
	req, _ := http.NewRequest("GET", p.publicURL+"/v2/accounts/~current/settings/Profile.givenName", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := (&http.Client{Timeout: 300 * time.Millisecond}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %s within the client's timeout, despite a latency of 20 s", resp.Status)
	}
	var entry struct {
		Status    int     `json:"status"`
		Code      string  `json:"code"`
		LatencyMS float64 `json:"latencyMs"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, body, err := p.admin("GET", "/admin/v1/journal", "")
		var j struct{ Entries []json.RawMessage }
		if err == nil && json.Unmarshal([]byte(body), &j) == nil && len(j.Entries) > 0 {
			if err := json.Unmarshal(j.Entries[0], &entry); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call in the journal 10 s after the client gave up: %s %v", body, err)
		}
	}
	if entry.Status != http.StatusServiceUnavailable || entry.Code != "SERVICE_UNAVAILABLE" || entry.LatencyMS > 5000 {
		t.Errorf("the call given up on: %+v, want a 503 SERVICE_UNAVAILABLE within 5 s", entry)
	}
}

// TestShutdownCutsImport: an import still sending when the shutdown
// timeout passes is answered 503, saying how many customers it stored.
func TestShutdownCutsImport(t *testing.T) {
	p := startProcess(t, t.TempDir(), "--shutdown-timeout", "300ms")
	if code, body, err := p.admin("POST", "/admin/v1/skills", `{"id":"amzn1.ask.skill.t","name":"T","permissions":["alexa::profile:given_name:read"]}`); err != nil || code != 201 {
		t.Fatalf("create the skill: %d %s %v", code, body, err)
	}
	body, send := io.Pipe()
	defer send.Close()
	go func() {
		var b strings.Builder
		for i := 1; i <= 6000; i++ {
			fmt.Fprintf(&b, `{"id":"amzn1.ask.account.L%d","region":"NA","profile":{"givenName":"L"},"consents":{"amzn1.ask.skill.t":["alexa::profile:given_name:read"]}}`+"\n", i)
		}
		io.WriteString(send, b.String()) // then nothing, the body still open
	}()
	req, _ := http.NewRequest("POST", p.adminURL+"/admin/v1/import", body)
	req.Header.Set("Authorization", "Bearer "+processAdminKey)
	req.Header.Set("Content-Type", "application/x-ndjson")
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			t.Error(err)
		}
		answered <- resp
	}()
	// The first batch, 5000 lines, is stored; the import waits for more.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _, _ := p.admin("GET", "/admin/v1/customers/amzn1.ask.account.L5000", ""); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first batch was not stored within 10 s")
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	resp := <-answered
	if resp == nil {
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !bytes.Contains(b, []byte(`"code":"SERVICE_UNAVAILABLE"`)) ||
		!bytes.Contains(b, []byte("at least 5000 customers, from the lines up to line 5000, were imported")) {
		t.Errorf("answered %s (Retry-After %q) %s, want 503 saying that 5000 customers were imported", resp.Status, resp.Header.Get("Retry-After"), b)
	}
	p.exitsZero(t, 10*time.Second, "the import was answered")
}

// TestSIGTERMDrainsInFlightRequests: requests in flight when SIGTERM
// arrives all finish, new ones are refused, and the process exits in time.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	p := startProcess(t, t.TempDir(), "--shutdown-timeout", "10s")
	tok := p.slowCalls(t, 1500)

	const inFlight = 32
	results := make(chan string, inFlight)
	for range inFlight {
		go func() {
			req, _ := http.NewRequest("GET", p.publicURL+"/v2/accounts/~current/settings/Profile.givenName", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
			if err != nil {
				results <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- fmt.Sprintf("%d %s", resp.StatusCode, b)
		}()
	}
	// Let every request reach the server and start its 1.5 s delay.
	time.Sleep(500 * time.Millisecond)
	signalled := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := http.Get(p.publicURL + "/v2/accounts/~current/settings/Profile.givenName"); err == nil {
		t.Error("a new connection was accepted after SIGTERM")
	}
	// The admin listener too, while the public one drains.
	if _, err := (&http.Client{Transport: &http.Transport{}}).Get(p.adminURL + "/healthz"); err == nil {
		t.Error("a new admin connection was accepted after SIGTERM")
	}
	failed := 0
	for range inFlight {
		if r := <-results; r != `200 {"name":"Terry"}` {
			failed++
			t.Errorf("in-flight request: %s", r)
		}
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not exit within the shutdown timeout")
	}
	t.Logf("%d in-flight requests, %d failed; exited %s after SIGTERM", inFlight, failed, time.Since(signalled).Round(time.Millisecond))
}

// TestShutdownTimeoutAnswers503: a request still running when the shutdown
// timeout passes is answered 503 with Retry-After, as the contract says of
// a server shutting down, not cut off without an answer.
func TestShutdownTimeoutAnswers503(t *testing.T) {
	p := startProcess(t, t.TempDir(), "--shutdown-timeout", "500ms")
	tok := p.slowCalls(t, 20000)
	type result struct {
		resp *http.Response
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", p.publicURL+"/v2/accounts/~current/settings/Profile.givenName", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{resp, string(b), err}
	}()
	// Time for the request to reach the server and start its 20 s delay.
	time.Sleep(time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("in-flight request: %v, want a 503", r.err)
		}
		if r.resp.StatusCode != http.StatusServiceUnavailable || r.resp.Header.Get("Retry-After") != "1" ||
			!strings.Contains(r.body, `"code":"SERVICE_UNAVAILABLE"`) || !strings.Contains(r.body, "shutting down") {
			t.Errorf("in-flight request: %d Retry-After %q %s; want 503 SERVICE_UNAVAILABLE, shutting down, Retry-After 1",
				r.resp.StatusCode, r.resp.Header.Get("Retry-After"), r.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer 5 s after SIGTERM, with a 500ms shutdown timeout")
	}
	p.exitsZero(t, 5*time.Second, "every request was answered")
}

// TestShutdownEndsStreams: a tokens/batch stream still under way when the
// shutdown timeout passes ends with the 503 line, whether its client has
// paused (its body read would otherwise hold the handler until the
// connection is cut) or keeps sending (its last line would be lost to a
// reset).
func TestShutdownEndsStreams(t *testing.T) {
	const line = `{"customerId":"amzn1.ask.account.T","skillId":"amzn1.ask.skill.t"}` + "\n"
	for _, tc := range []struct {
		name string
		send func(w io.Writer)
	}{
		// A chunk's worth of lines, whose tokens come back, then nothing.
		{"paused", func(w io.Writer) { _, _ = io.WriteString(w, strings.Repeat(line, 1024)) }},
		// A chunk's worth, then a line every 5 ms or so: still sending, at
		// a pace the test can read the answers at on a busy machine (a
		// firehose's answers can outlast the drain, and the last line's
		// write gets a second: at one line a millisecond, CI once cut the
		// stream mid-token).
		{"sending", func(w io.Writer) {
			if _, err := io.WriteString(w, strings.Repeat(line, 1024)); err != nil {
				return
			}
			for {
				time.Sleep(5 * time.Millisecond)
				if _, err := io.WriteString(w, line); err != nil {
					return
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProcess(t, t.TempDir(), "--shutdown-timeout", "300ms")
			p.slowCalls(t, 1) // the skill and customer (the fault slows the public API only)
			body, send := io.Pipe()
			defer send.Close()
			req, _ := http.NewRequest("POST", p.adminURL+"/admin/v1/tokens/batch", body)
			req.Header.Set("Authorization", "Bearer "+processAdminKey)
			req.Header.Set("Content-Type", "application/x-ndjson")
			go tc.send(send)
			resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for range 1024 {
				if !sc.Scan() || !strings.Contains(sc.Text(), `"apiAccessToken"`) {
					t.Fatalf("line: %q %v, want a token", sc.Text(), sc.Err())
				}
			}
			// The stream is under way.
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			last := ""
			for sc.Scan() {
				last = sc.Text()
			}
			if !strings.Contains(last, `"code":"SERVICE_UNAVAILABLE"`) || !strings.Contains(last, "shutting down") {
				t.Errorf("last line: %q (%v), want SERVICE_UNAVAILABLE, shutting down", last, sc.Err())
			}
			p.exitsZero(t, 10*time.Second, "the stream was answered")
		})
	}
}

// TestSecondSignalEndsDrain: the first SIGTERM drains; a second one, an
// operator out of patience, ends the process at once.
func TestSecondSignalEndsDrain(t *testing.T) {
	p := startProcess(t, t.TempDir(), "--shutdown-timeout", "20s")
	tok := p.slowCalls(t, 15000)
	go func() { // in flight for 15 s, holding the drain
		req, _ := http.NewRequest("GET", p.publicURL+"/v2/accounts/~current/settings/Profile.givenName", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		t.Fatalf("exited at the first signal, with a request in flight: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err == nil {
			t.Error("exited cleanly, want the signal's exit")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still draining 5 s after the second signal")
	}
}

// SIGHUP, which a terminal that closes sends, shuts serve down as SIGTERM
// does: it drains and exits 0, rather than dying with the calls in flight.
func TestSIGHUPShutsDownGracefully(t *testing.T) {
	p := startProcess(t, t.TempDir())
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.exitsZero(t, 10*time.Second, "SIGHUP shuts down gracefully")
	if !strings.Contains(p.stderr.String(), "shutting down") {
		t.Errorf("no shutdown logged:\n%s", p.stderr.String())
	}
}

// Under nohup, SIGHUP stays ignored: serve must not listen for a signal
// its starter chose to ignore, as signal.Notify would have it.
func TestNohupIgnoresSIGHUP(t *testing.T) {
	p := startProcessUnder(t, []string{"nohup"}, t.TempDir())
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		t.Fatalf("exited at SIGHUP under nohup: %v\n%s", err, p.stderr.String())
	case <-time.After(500 * time.Millisecond):
	}
	resp, err := http.Get(p.adminURL + "/healthz")
	if err != nil {
		t.Fatalf("no answer after SIGHUP: %v", err)
	}
	resp.Body.Close()
	if strings.Contains(p.stderr.String(), "shutting down") {
		t.Errorf("shutting down after SIGHUP under nohup:\n%s", p.stderr.String())
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.exitsZero(t, 10*time.Second, "SIGTERM still shuts down")
}

// An import whose server dies midway says it was cut off and what to do,
// not only the socket's error.
func TestImportCutOff(t *testing.T) {
	p := startProcess(t, t.TempDir())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		errc <- run(context.Background(), []string{"import", "-", "--admin-url", p.adminURL, "--admin-key", processAdminKey},
			func(string) string { return "" }, pr, &stdout, &stderr)
	}()
	for i := range 3000 {
		if _, err := fmt.Fprintf(pw, `{"id":"amzn1.ask.account.CUT%d","region":"NA","profile":{"name":"N"}}`+"\n", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	go func() { // until the CLI notices
		for {
			if _, err := fmt.Fprintf(pw, `{"id":"amzn1.ask.account.LATE","region":"NA","profile":{"name":"N"}}`+"\n"); err != nil {
				return
			}
		}
	}()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "the import was cut off") {
			t.Errorf("import cut off by the server's death: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the CLI did not notice the server's death")
	}
	pr.Close()
}

// With fewer open files allowed than --max-conns needs, serve lowers the
// cap, saying so, rather than fail to accept at the limit; it never raises
// one that fits.
func TestMaxConnsBelowOpenFilesLimit(t *testing.T) {
	for _, c := range []struct {
		limit   int
		args    []string
		lowered string // "" if not lowered
	}{
		{1024, nil, "lowered_to=768"},
		{300, nil, "lowered_to=150"},
		{300, []string{"--max-conns", "100"}, ""},
	} {
		ulimit := fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, c.limit)
		p := startProcessUnder(t, []string{"sh", "-c", ulimit}, t.TempDir(), c.args...)
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.stderr.String(), "msg=serving"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("limit %d: no serving line:\n%s", c.limit, p.stderr.String())
			}
		}
		logs := p.stderr.String()
		switch {
		case c.lowered != "" && !strings.Contains(logs, c.lowered):
			t.Errorf("limit %d %v: want %s logged:\n%s", c.limit, c.args, c.lowered, logs)
		case c.lowered == "" && strings.Contains(logs, "lowered"):
			t.Errorf("limit %d %v: lowered a cap that fits:\n%s", c.limit, c.args, logs)
		}
		resp, err := http.Get(p.adminURL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}
