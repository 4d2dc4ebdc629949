package admin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
	"github.com/profileapi/profileapi/postgres"
	"github.com/profileapi/profileapi/postgres/pgtest"
	"github.com/profileapi/profileapi/token"
)

// TestTokensBatchFrozenDatabase freezes PostgreSQL in the middle of a
// token batch: the stream ends with the error line about one call timeout
// later, not one call timeout per line of the chunk (1024 lines ÷ cores ×
// 2 s), which the stream's deadline would cut short.
func TestTokensBatchFrozenDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a call timeout")
	}
	cluster := pgtest.StartCluster(t)
	db, err := postgres.Open(t.Context(), cluster.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, err := token.NewKeyring(t.Context(), db, token.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.NewServer(admin.Config{Store: db, Tokens: keys,
		Endpoints: profileapi.LoopbackEndpoints("http", "127.0.0.1:8080"), Key: testKey, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	call := func(path, contentType, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", contentType)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
	}
	const n = 2 * admin.ChunkLines // one chunk before the freeze, one after
	call("/admin/v1/skills", "application/json", `{"id":"amzn1.ask.skill.imp","name":"Import","permissions":["alexa::profile:email:read"]}`)
	call("/admin/v1/import", "application/x-ndjson", customerLines(1, n))

	// The body streams in: the first chunk is minted and answered while
	// the server is up; the second is read once it is frozen.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	defer pw.Close()
	send := func(from, to int) {
		for i := from; i <= to; i++ {
			fmt.Fprintf(pw, `{"customerId":"amzn1.ask.account.IMP%d","skillId":"amzn1.ask.skill.imp","ttlSeconds":600}`+"\n", i)
		}
	}
	go send(1, admin.ChunkLines)
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/admin/v1/tokens/batch", pr)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("tokens/batch: %d %s", resp.StatusCode, b)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	// next is the next line of the answer, or "" at its end or after wait.
	next := func(wait time.Duration) string {
		select {
		case line := <-lines:
			return line
		case <-time.After(wait):
			return ""
		}
	}
	for i := 1; i <= admin.ChunkLines; i++ {
		if line := next(30 * time.Second); !strings.Contains(line, `"apiAccessToken"`) {
			t.Fatalf("line %d, before the freeze: %q, want a token", i, line)
		}
	}

	cluster.Freeze(t)
	defer cluster.Thaw(t) // before the server and the store close, which wait for the handler
	frozen := time.Now()
	go func() {
		send(admin.ChunkLines+1, n)
		pw.Close()
	}()
	// A call times out after postgres.DefaultCallTimeout; allow a slow
	// machine several. Without the stop, this chunk takes minutes.
	const limit = 10 * time.Second
	line := next(limit)
	took := time.Since(frozen)
	if line == "" {
		t.Fatalf("no answer within %v of the freeze: the batch goes on minting a chunk against a frozen database", limit)
	}
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(line), &e); err != nil || e.Code != "SERVICE_UNAVAILABLE" || !strings.HasPrefix(e.Message, fmt.Sprintf("line %d: ", admin.ChunkLines+1)) {
		t.Fatalf("after the freeze: %s, want the SERVICE_UNAVAILABLE error of line %d", line, admin.ChunkLines+1)
	}
	t.Logf("%v after the freeze: %q", took.Round(time.Millisecond), e.Message)
	if line, ok := <-lines; ok {
		t.Fatalf("after the error line: %q, want the end of the stream", line)
	}
}
