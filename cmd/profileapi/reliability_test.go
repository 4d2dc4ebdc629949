package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// httpReply is an answer, read whole.
type httpReply struct {
	status int
	header http.Header
	body   string
}

// reliabilityClient gives up on an answer that takes longer than any of
// these tests allows: a hang is a failure, not a wait.
var reliabilityClient = &http.Client{Timeout: 5 * time.Second}

func sendHTTP(t *testing.T, method, url, bearer, body string) httpReply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := reliabilityClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return httpReply{resp.StatusCode, resp.Header, string(b)}
}

// wantErrorJSON checks an error answer: its status, the JSON body with its
// code, and Retry-After where the status calls for one.
func wantErrorJSON(t *testing.T, what string, r httpReply, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: %d %s, want %d %s", what, r.status, r.body, status, code)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want JSON", what, ct)
	}
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Code != code || e.Message == "" {
		t.Errorf("%s: body %s, want {\"code\":%q,\"message\":...}", what, r.body, code)
	}
	if status == http.StatusServiceUnavailable && r.header.Get("Retry-After") != "1" {
		t.Errorf("%s: Retry-After %q, want 1", what, r.header.Get("Retry-After"))
	}
}

// TestConnectionLimits: a client that sends its headers slowly is
// dropped after --read-header-timeout, headers over 16 KiB get 431, and an
// admin body over 64 KiB gets a JSON 413; the server serves on.
func TestConnectionLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	const timeout = time.Second
	p := startProcess(t, t.TempDir(), "--read-header-timeout", timeout.String())

	t.Run("SlowHeaders", func(t *testing.T) {
		for name, base := range map[string]string{"public": p.publicURL, "admin": p.adminURL} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				held, answer := slowloris(t, base)
				// The default timeout is 5 s: closing well before that shows
				// the flag took effect, and not at once that it was the timeout.
				if held < timeout/2 || held > 4*timeout {
					t.Errorf("the connection was closed after %v, want about %v", held, timeout)
				}
				if answer != "" {
					t.Errorf("the server answered the slow client: %q", answer)
				}
				t.Logf("a client sending a header line every 100 ms was dropped after %v", held.Round(time.Millisecond))
			})
		}
	})
	if r := sendHTTP(t, "GET", p.adminURL+"/healthz", "", ""); r.status != 200 {
		t.Fatalf("healthz after the slow clients: %d %s", r.status, r.body)
	}

	t.Run("HeadersOver16KiB", func(t *testing.T) {
		host := hostPortOf(t, p.adminURL)
		// The request line and headers, up to the blank line, exactly
		// n bytes long.
		request := func(n int) string {
			head := "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\nX-Pad: "
			const tail = "\r\n\r\n"
			return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
		}
		if status, _ := sendRawRequest(t, host, request(16<<10)); status != 200 {
			t.Errorf("16 KiB of headers: %d, want 200", status)
		}
		status, answer := sendRawRequest(t, host, request(16<<10+1))
		if status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("16 KiB + 1 byte of headers: %d, want 431", status)
		}
		// net/http answers this itself, before any handler: in plain text.
		t.Logf("431 answer: %q", answer)
		if status, _ := sendRawRequest(t, host, request(1<<20)); status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("1 MiB of headers: %d, want 431", status)
		}
	})

	t.Run("AdminBodyOver64KiB", func(t *testing.T) {
		body := func(n int) string {
			head, tail := `{"region":"NA","profile":{"name":"`, `"}}`
			return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
		}
		// At the cap the body is read, and refused for what it says.
		if r := sendHTTP(t, "POST", p.adminURL+"/admin/v1/customers", processAdminKey, body(64<<10)); r.status != http.StatusBadRequest {
			t.Errorf("a 64 KiB body: %d %s, want 400 for the long name", r.status, r.body)
		}
		for _, n := range []int{64<<10 + 1, 1 << 20} {
			r := sendHTTP(t, "POST", p.adminURL+"/admin/v1/customers", processAdminKey, body(n))
			wantErrorJSON(t, fmt.Sprintf("a body of %d bytes", n), r, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE")
		}
	})
	if r := sendHTTP(t, "GET", p.adminURL+"/admin/v1/skills", processAdminKey, ""); r.status != 200 {
		t.Fatalf("the admin API after the limits: %d %s", r.status, r.body)
	}
}

// slowloris opens a connection to base and sends a request line, then a
// header line every 100 ms, never ending the headers. It returns how long
// the server held the connection, and what it answered.
func slowloris(t *testing.T, base string) (time.Duration, string) {
	conn, err := net.Dial("tcp", hostPortOf(t, base))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: slow\r\n"); err != nil {
		t.Fatal(err)
	}
	type result struct {
		answer string
		at     time.Time
	}
	closed := make(chan result, 1)
	go func() {
		b, _ := io.ReadAll(conn) // until the server closes it
		closed <- result{string(b), time.Now()}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case r := <-closed:
			return r.at.Sub(start), r.answer
		case <-tick.C:
			// Writing may fail once the server has closed: the read sees it.
			_, _ = fmt.Fprintf(conn, "X-Slow-%d: 1\r\n", i)
		case <-time.After(15 * time.Second):
			t.Fatal("the server held a slow client for 15 s")
		}
	}
}

// sendRawRequest sends request as is on a new connection and returns the
// status of the answer, and the answer.
func sendRawRequest(t *testing.T, host, request string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(conn, request) // the server may answer before reading it all
	b, err := io.ReadAll(conn)
	if len(b) == 0 {
		t.Fatalf("no answer: %v", err)
	}
	var status int
	if _, err := fmt.Sscanf(string(b), "HTTP/1.1 %d", &status); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return status, string(b)
}

func hostPortOf(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

var mintedToken = regexp.MustCompile(`"apiAccessToken":"([^"]+)"`)

// addReliabilityCustomer creates a skill, a customer with the given name who grants
// it every scope, and a token; it returns the token.
func addReliabilityCustomer(t *testing.T, p *process, id, givenName string) string {
	t.Helper()
	skill := "amzn1.ask.skill.reliability"
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/admin/v1/skills", `{"id":"` + skill + `","name":"Reliability","permissions":["alexa::profile:given_name:read"]}`},
		{"POST", "/admin/v1/customers", `{"id":"` + id + `","region":"NA","profile":{"givenName":"` + givenName + `"}}`},
		{"PUT", "/admin/v1/customers/" + id + "/consents/" + skill, `{"scopes":["alexa::profile:given_name:read"]}`},
	} {
		code, body, err := p.admin(c.method, c.path, c.body)
		if err != nil || code >= 300 && code != http.StatusConflict {
			t.Fatalf("%s %s: %d %s %v", c.method, c.path, code, body, err)
		}
	}
	code, body, err := p.admin("POST", "/admin/v1/tokens", `{"customerId":"`+id+`","skillId":"`+skill+`"}`)
	if err != nil || code != http.StatusCreated {
		t.Fatalf("mint a token: %d %s %v", code, body, err)
	}
	return mintedToken.FindStringSubmatch(body)[1]
}

func (p *process) readGivenName(t *testing.T, tok string) httpReply {
	t.Helper()
	return sendHTTP(t, "GET", p.publicURL+"/v2/accounts/~current/settings/Profile.givenName", tok, "")
}

// vacuumInto takes a consistent copy of a live database, as an operator
// would (sqlite3's .backup or VACUUM INTO), from this process.
func vacuumInto(t *testing.T, path string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "backup.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`VACUUM INTO ?`, to); err != nil {
		t.Fatalf("VACUUM INTO: %v", err)
	}
	return to
}

// pollStatus polls until fn answers the status, and returns how long that
// took and the answer.
func pollStatus(t *testing.T, what string, status int, fn func() httpReply) (time.Duration, httpReply) {
	t.Helper()
	start := time.Now()
	for {
		r := fn()
		if r.status == status {
			return time.Since(start), r
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: still %d %s after 10 s, want %d", what, r.status, r.body, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDatabaseRemovedAndRestored removes the database file and its WAL
// and index from under a serving process: the public API and admin writes
// answer 503 with Retry-After within a second, and nothing is created at
// the path; a backup copied back into place is served again, without a
// restart, and a write acknowledged then is in the file.
func TestDatabaseRemovedAndRestored(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	p := startProcess(t, dir)
	path := filepath.Join(dir, "profileapi.db")
	tok := addReliabilityCustomer(t, p, "amzn1.ask.account.RESTORED", "Rita")
	if r := p.readGivenName(t, tok); r.status != 200 || r.body != `{"name":"Rita"}` {
		t.Fatalf("before: %d %s", r.status, r.body)
	}
	saved := vacuumInto(t, path)

	for _, s := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + s); err != nil {
			t.Fatal(err)
		}
	}
	// Reads notice within a round of the store's watchdog (500 ms); a
	// write would notice as it commits (see sqlite's TestRemovedFile).
	took, r := pollStatus(t, "the public API after the removal", http.StatusServiceUnavailable, func() httpReply { return p.readGivenName(t, tok) })
	wantErrorJSON(t, "the public API while the file is gone", r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	t.Logf("the public API answered 503 %v after the removal", took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("the public API took %v to notice, want about 500 ms", took)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.VOID","region":"NA"}`},
		{"PATCH", "/admin/v1/customers/amzn1.ask.account.RESTORED", `{"profile":{"givenName":"Lost"}}`},
		{"GET", "/admin/v1/customers/amzn1.ask.account.RESTORED", ""},
		{"POST", "/admin/v1/tokens", `{"customerId":"amzn1.ask.account.RESTORED","skillId":"amzn1.ask.skill.reliability"}`},
	} {
		r := sendHTTP(t, c.method, p.adminURL+c.path, processAdminKey, c.body)
		wantErrorJSON(t, c.method+" "+c.path+" while the file is gone", r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	}
	wantErrorJSON(t, "readyz while the file is gone", sendHTTP(t, "GET", p.adminURL+"/readyz", "", ""), http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("something created %s while it was gone: %v", path, err)
	}

	// The operator copies the backup into place.
	in, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, in, 0o600); err != nil {
		t.Fatal(err)
	}
	took, _ = pollStatus(t, "the public API after the restore", http.StatusOK, func() httpReply { return p.readGivenName(t, tok) })
	t.Logf("the public API answered 200 again %v after the restore", took.Round(time.Millisecond))
	if r := p.readGivenName(t, tok); r.body != `{"name":"Rita"}` {
		t.Fatalf("after the restore: %d %s", r.status, r.body)
	}
	if code, body, err := p.admin("PATCH", "/admin/v1/customers/amzn1.ask.account.RESTORED", `{"profile":{"givenName":"Rosa"}}`); err != nil || code != 200 {
		t.Fatalf("an admin write after the restore: %d %s %v", code, body, err)
	}
	if r := p.readGivenName(t, tok); r.status != 200 || r.body != `{"name":"Rosa"}` {
		t.Fatalf("after the write: %d %s", r.status, r.body)
	}
	if r := sendHTTP(t, "GET", p.adminURL+"/readyz", "", ""); r.status != 200 {
		t.Fatalf("readyz after the restore: %d %s", r.status, r.body)
	}
	select {
	case err := <-p.exited:
		t.Fatalf("the process exited: %v", err)
	default:
	}

	// Stopped, the file holds the write acknowledged after the restore, and
	// none refused while the file was gone.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRow(`SELECT given_name FROM customers WHERE id = 'amzn1.ask.account.RESTORED'`).Scan(&name); err != nil || name != "Rosa" {
		t.Fatalf("in the file: %q %v, want Rosa", name, err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM customers WHERE id LIKE 'amzn1.ask.account.VOID%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d writes refused while the file was gone are in it (%v)", n, err)
	}
}

// TestDatabaseMovedAwayAndBack moves the database's files away and back
// while clients write through the admin API and read through the public
// API: every answer is 2xx or 503, and every write acknowledged is in the
// file afterwards.
func TestDatabaseMovedAwayAndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	p := startProcess(t, dir)
	path := filepath.Join(dir, "profileapi.db")
	tok := addReliabilityCustomer(t, p, "amzn1.ask.account.READER", "Reed")

	var (
		mu     sync.Mutex
		acked  []string
		counts = map[string]int{}
		wg     sync.WaitGroup
	)
	stop := make(chan struct{})
	count := func(what string, status int, id string) {
		mu.Lock()
		defer mu.Unlock()
		counts[fmt.Sprintf("%s %d", what, status)]++
		if id != "" {
			acked = append(acked, id)
		}
	}
	get := func(key string) int {
		mu.Lock()
		defer mu.Unlock()
		return counts[key]
	}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("amzn1.ask.account.M%dN%d", w, i)
				code, body, err := p.admin("POST", "/admin/v1/customers", `{"id":"`+id+`","region":"NA","profile":{"givenName":"W"}}`)
				switch {
				case err != nil:
					t.Errorf("admin write: %v", err)
					return
				case code == http.StatusCreated:
					count("write", code, id)
				case code == http.StatusServiceUnavailable:
					count("write", code, "")
					time.Sleep(5 * time.Millisecond)
				default:
					t.Errorf("admin write: %d %s", code, body)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			r := p.readGivenName(t, tok)
			if r.status != 200 && r.status != 503 {
				t.Errorf("public read: %d %s", r.status, r.body)
				return
			}
			count("read", r.status, "")
			time.Sleep(2 * time.Millisecond)
		}
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; counts %v", what, counts)
			}
		}
	}

	waitFor("writes", func() bool { return get("write 201") >= 100 })
	for _, s := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+s, path+s+".away"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("503s", func() bool { return get("write 503") >= 20 && get("read 503") >= 5 })
	for _, s := range []string{"-wal", "-shm", ""} {
		if err := os.Rename(path+s+".away", path+s); err != nil {
			t.Fatal(err)
		}
	}
	written := get("write 201")
	waitFor("writes after the files came back", func() bool { return get("write 201") >= written+100 })
	close(stop)
	wg.Wait()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.exited

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q %v", integrity, err)
	}
	for _, id := range acked {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM customers WHERE id = ?`, id).Scan(&n); err != nil || n != 1 {
			t.Fatalf("acknowledged customer %s is not in the file (%v)", id, err)
		}
	}
	t.Logf("answers: %v; all %d acknowledged writes are in the file", counts, len(acked))
}

// TestDiskFull puts the database on a small tmpfs and fills it: admin
// writes answer 503 with Retry-After, reads go on, and writes succeed
// again once there is room. It needs root to mount, and skips without.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount -t tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "--lazy", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	p := startProcess(t, t.TempDir(), "--db", filepath.Join(mnt, "profileapi.db"))
	defer func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.exited
	}()
	tok := addReliabilityCustomer(t, p, "amzn1.ask.account.FULL", "Fay")

	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for buf := make([]byte, 64<<10); ; {
		if _, err := filler.Write(buf); err != nil {
			break
		}
	}
	filler.Close()

	var r httpReply
	for i := 0; i < 1000; i++ {
		r = sendHTTP(t, "POST", p.adminURL+"/admin/v1/customers", processAdminKey,
			fmt.Sprintf(`{"id":"amzn1.ask.account.F%d","region":"NA","profile":{"name":"%s"}}`, i, strings.Repeat("x", 200)))
		if r.status != http.StatusCreated {
			break
		}
	}
	wantErrorJSON(t, "an admin write on a full disk", r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	if r := p.readGivenName(t, tok); r.status != 200 {
		t.Fatalf("a read on a full disk: %d %s", r.status, r.body)
	}

	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	if code, body, err := p.admin("PATCH", "/admin/v1/customers/amzn1.ask.account.FULL", `{"profile":{"givenName":"Faye"}}`); err != nil || code != 200 {
		t.Fatalf("a write once there is room: %d %s %v", code, body, err)
	}
	if r := p.readGivenName(t, tok); r.body != `{"name":"Faye"}` {
		t.Fatalf("after the write: %d %s", r.status, r.body)
	}
}
