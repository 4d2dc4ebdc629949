// Package pgtest gives tests a real PostgreSQL: a fresh database on the
// server that PROFILEAPI_TEST_POSTGRES names, or a throwaway cluster of the
// test's own, which it may stop, freeze and start again to see what an
// outage does to the service.
//
// Tests skip, saying why, when PROFILEAPI_TEST_POSTGRES is unset; when it
// is set (as in CI) and the server or PostgreSQL's programs are missing,
// they fail rather than skip.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable holding the test server's URL,
// such as postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable. Its
// user must be allowed to create databases.
const EnvURL = "PROFILEAPI_TEST_POSTGRES"

// ServerURL returns the test server's URL. It skips the test if EnvURL is
// unset, and fails it if the server does not answer.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skipf("%s is not set: set it to a PostgreSQL URL whose user may create databases to run this test", EnvURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("%s is set, but its server does not answer: %v", EnvURL, err)
	}
	conn.Close(ctx)
	return u
}

// NewDatabase creates an empty database on the test server (see ServerURL),
// drops it when the test ends, and returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return CreateDatabase(t, ServerURL(t), "")
}

// CreateDatabase creates a database on the server at serverURL, as a copy
// of the database template unless that is "", drops it when the test ends,
// and returns its URL. Nothing may be connected to template meanwhile.
func CreateDatabase(t testing.TB, serverURL, template string) string {
	t.Helper()
	name := "profileapi_test_" + randomHex(6)
	stmt := `CREATE DATABASE ` + pgx.Identifier{name}.Sanitize()
	if template != "" {
		stmt += ` TEMPLATE ` + pgx.Identifier{template}.Sanitize()
	}
	if err := Exec(serverURL, stmt); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := Exec(serverURL, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return DatabaseURL(t, serverURL, name)
}

// DatabaseURL returns serverURL with the database replaced by name.
func DatabaseURL(t testing.TB, serverURL, name string) string {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// Exec runs one statement on its own connection to the database at url.
func Exec(url, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
