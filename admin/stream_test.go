package admin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
	"github.com/profileapi/profileapi/sqlite"
)

// postStream posts what lines sends, one line at a time with pause
// between them, and the response; with stall, the body then stays open,
// sending nothing, until the response has come.
func postStream(t *testing.T, url string, lines []string, pause time.Duration, stall bool) (*http.Response, string) {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		for _, l := range lines {
			if _, err := io.WriteString(pw, l+"\n"); err != nil {
				return
			}
			time.Sleep(pause)
		}
		if !stall {
			pw.Close()
		}
	}()
	// A server that never answers fails the test, rather than hangs it.
	giveUp := time.AfterFunc(10*time.Second, func() { pw.CloseWithError(errors.New("no answer within 10 s")) })
	defer giveUp.Stop()
	defer pw.Close()
	req, err := http.NewRequestWithContext(context.Background(), "POST", url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func slowLines(n int) []string {
	var lines []string
	for i := 1; i <= n; i++ {
		lines = append(lines, fmt.Sprintf(`{"id":"amzn1.ask.account.SLOW%d","region":"NA","profile":{"name":"Slow %d"}}`, i, i))
	}
	return lines
}

// A producer slower than the deadline in all, but never silent for as long,
// imports everything: the deadline is since the last line, not the start.
//
// Ten lines 250 ms apart take 2.5 s, more than the 2 s deadline, and each
// gap leaves 1.75 s to spare: a loaded machine (go test ./... runs packages
// side by side on two cores) once stretched a gap of 300 ms past 1 s.
func TestImportFromASlowProducer(t *testing.T) {
	admin.SetStreamDeadline(t, 2*time.Second)
	st := newImportStack(t, nil)
	srv := httptest.NewServer(st.h)
	defer srv.Close()
	const n, gap = 10, 250 * time.Millisecond
	resp, body := postStream(t, srv.URL+"/admin/v1/import", slowLines(n), gap, false)
	if resp.StatusCode != 200 || strings.TrimSpace(body) != fmt.Sprintf(`{"imported":%d}`, n) {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}

	var tokens []string
	for i := 1; i <= n; i++ {
		tokens = append(tokens, fmt.Sprintf(`{"customerId":"amzn1.ask.account.SLOW%d","skillId":"amzn1.ask.skill.imp"}`, i))
	}
	resp, body = postStream(t, srv.URL+"/admin/v1/tokens/batch", tokens, gap, false)
	if got := strings.Count(body, `"apiAccessToken"`); resp.StatusCode != 200 || got != n {
		t.Fatalf("tokens/batch: %d, %d tokens: %s", resp.StatusCode, got, body)
	}
}

// A body that stops sending is cut off at the deadline: the lines it sent
// are stored, and the answer, a 400, says where it stopped and what was
// stored.
func TestImportStalled(t *testing.T) {
	admin.SetStreamDeadline(t, 300*time.Millisecond)
	st := newImportStack(t, nil)
	srv := httptest.NewServer(st.h)
	defer srv.Close()
	resp, body := postStream(t, srv.URL+"/admin/v1/import", slowLines(3), 0, true)
	want := `line 4: no line arrived for 300ms: the body was cut off there (3 customers from the lines before line 4 were imported`
	if resp.StatusCode != 400 || !strings.Contains(body, want) {
		t.Fatalf("import: %d %s, want 400 and %q", resp.StatusCode, body, want)
	}
	for i := 1; i <= 3; i++ {
		if _, err := st.store.Customer(context.Background(), fmt.Sprintf("amzn1.ask.account.SLOW%d", i)); err != nil {
			t.Errorf("customer %d: %v", i, err)
		}
	}
}

// A token batch that stops sending before its first token is answered is
// answered as any bad line: a 400 that says where it stopped.
func TestTokenBatchStalled(t *testing.T) {
	admin.SetStreamDeadline(t, 300*time.Millisecond)
	st := newImportStack(t, nil)
	st.mustSend(t, "POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.T1","region":"NA"}`, 201)
	srv := httptest.NewServer(st.h)
	defer srv.Close()
	line := `{"customerId":"amzn1.ask.account.T1","skillId":"amzn1.ask.skill.imp"}`
	resp, body := postStream(t, srv.URL+"/admin/v1/tokens/batch", []string{line, line}, 0, true)
	if want := `{"code":"INVALID_REQUEST","message":"line 3: no line arrived for 300ms: the body was cut off there"}`; resp.StatusCode != 400 || strings.TrimSpace(body) != want {
		t.Fatalf("tokens/batch: %d %s, want 400 %s", resp.StatusCode, body, want)
	}
}

// slowImporter takes a while over every batch.
type slowImporter struct {
	profileapi.Store
	db *sqlite.DB
}

func (s slowImporter) ImportCustomers(ctx context.Context, cs []*profileapi.Customer, gs []*profileapi.Consent) error {
	time.Sleep(1500 * time.Millisecond)
	return s.db.ImportCustomers(ctx, cs, gs)
}

// The answer to a stalled body comes once what was sent is stored, however
// long that takes: the write deadline is not the one the stall left.
func TestImportStalledSlowStore(t *testing.T) {
	admin.SetStreamDeadline(t, 300*time.Millisecond)
	st := newImportStack(t, func(s profileapi.Store) profileapi.Store { return slowImporter{s, s.(*sqlite.DB)} })
	srv := httptest.NewServer(st.h)
	defer srv.Close()
	resp, body := postStream(t, srv.URL+"/admin/v1/import", slowLines(3), 0, true)
	if resp.StatusCode != 400 || !strings.Contains(body, "3 customers from the lines before line 4 were imported") {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
}

// A token batch whose body stalls before its first line: the 400 must
// arrive, though the write deadline passed with the read's. Several times:
// the answer raced the request's end.
func TestTokenBatchStalledAtOnce(t *testing.T) {
	admin.SetStreamDeadline(t, 300*time.Millisecond)
	st := newImportStack(t, nil)
	srv := httptest.NewServer(st.h)
	defer srv.Close()
	for i := range 5 {
		resp, body := postStream(t, srv.URL+"/admin/v1/tokens/batch", nil, 0, true)
		if resp.StatusCode != 400 || !strings.Contains(body, "line 1: no line arrived for 300ms") {
			t.Fatalf("try %d: tokens/batch: %d %s", i, resp.StatusCode, body)
		}
	}
}

// skewedSkills lists the skills as they were when a batch began, not as
// they are: a skill deleted since is still listed, one made since is not.
type skewedSkills struct{ profileapi.Store }

func (s skewedSkills) Skills(ctx context.Context) ([]*profileapi.Skill, error) {
	return []*profileapi.Skill{{ID: "amzn1.ask.skill.gone", Name: "Gone", Permissions: profileapi.AllScopes}}, nil
}

// A skill deleted while a token batch runs is named as missing, not the
// customer; one made since it began is found.
func TestTokenBatchSkillsChangedMeanwhile(t *testing.T) {
	st := newImportStack(t, func(s profileapi.Store) profileapi.Store { return skewedSkills{s} })
	st.mustSend(t, "POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.T1","region":"NA"}`, 201)
	r := st.send("POST", "/admin/v1/tokens/batch", "application/x-ndjson",
		`{"customerId":"amzn1.ask.account.T1","skillId":"amzn1.ask.skill.imp"}`+"\n"+
			`{"customerId":"amzn1.ask.account.T1","skillId":"amzn1.ask.skill.gone"}`+"\n")
	// Line 1 passes (a bad line before the first token is the answer, so
	// the batch is refused at line 2, not 1); line 2 names the skill.
	if want := "line 2: skill amzn1.ask.skill.gone does not exist"; r.Code != 404 || !strings.Contains(r.Body.String(), want) {
		t.Errorf("%d %s, want 404 %q", r.Code, r.Body, want)
	}
}
