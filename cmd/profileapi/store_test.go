package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRedactURLHidesEveryPassword(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://app:S3cret@db:5432/profiles?sslmode=disable", "postgres://app:xxxxx@db:5432/profiles?sslmode=disable"},
		{"postgres://app@db/profiles?sslmode=disable&password=S3cret", "postgres://app@db/profiles?sslmode=disable&password=xxxxx"},
		{"postgres://app@db/profiles?sslpassword=S3cret&sslkey=/k.pem", "postgres://app@db/profiles?sslpassword=xxxxx&sslkey=/k.pem"},
		{"postgres://app@db/profiles?Password=S3c;ret", "postgres://app@db/profiles?Password=xxxxx"},
		{"postgres://app@db/profiles?pass%77ord=S3cret", "postgres://app@db/profiles?pass%77ord=xxxxx"},
		{"postgres://app@db/profiles?password=S3c%ret", "postgres://app@db/profiles?password=xxxxx"},
		{"postgres://app@db/profiles?sslmode=disable;password=S3cret", "postgres://app@db/profiles?sslmode=xxxxx"}, // one pair to url.ParseQuery
		{"redis://:S3cret@cache:6379/0", "redis://:xxxxx@cache:6379/0"},
		{"host=db user=app password=S3cret dbname=profiles", "host=db user=app password=xxxxx dbname=profiles"},
		{"host=db password = 'S3 cr\\'et' dbname=profiles", "host=db password = xxxxx dbname=profiles"},
		{"/var/lib/profileapi/profiles.db", "/var/lib/profileapi/profiles.db"},
		{"postgres://app@db/profiles", "postgres://app@db/profiles"},
	} {
		got := redactURL(tc.in)
		if got != tc.want || strings.Contains(got, "S3") {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// stuckCloser is a database that stopped answering: Close returns only
// once the test releases it.
type stuckCloser struct{ release chan struct{} }

func (c stuckCloser) Close() error { <-c.release; return nil }

// TestCloseStoreBoundsPostgres: serve exits without PostgreSQL's pool when
// it hangs in Close, saying so; SQLite's close is waited for.
func TestCloseStoreBoundsPostgres(t *testing.T) {
	defer func(d time.Duration) { closeWait = d }(closeWait)
	closeWait = 10 * time.Millisecond
	stuck := stuckCloser{release: make(chan struct{})}
	defer close(stuck.release)
	var logs syncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		closeStore(stuck, true, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("closeStore waited for a PostgreSQL close that hangs")
	}
	if !strings.Contains(logs.String(), "did not close in time") {
		t.Errorf("no log line about the close: %q", logs.String())
	}

	// SQLite's close, which checkpoints the WAL, is done by the time
	// closeStore returns.
	closed := false
	closeStore(closerFunc(func() error { closed = true; return nil }), false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !closed {
		t.Error("closeStore returned before SQLite's close ran")
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
