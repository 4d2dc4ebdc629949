package postgres

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/postgres/pgtest"
	"github.com/profileapi/profileapi/storetest"
)

// template is a database migrated once per test binary, which each test
// clones: a clone is much faster than migrating a new database.
var template struct {
	once   sync.Once
	server string
	name   string
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if template.name != "" {
		if err := pgtest.Exec(template.server, `DROP DATABASE IF EXISTS `+pgx.Identifier{template.name}.Sanitize()+` WITH (FORCE)`); err != nil {
			println("postgres: drop the template database:", err.Error())
		}
	}
	os.Exit(code)
}

// openDB opens a new database, cloned from the migrated template, and
// closes and drops it when the test ends. It skips the test if
// PROFILEAPI_TEST_POSTGRES is unset.
func openDB(t testing.TB) *DB {
	t.Helper()
	server := pgtest.ServerURL(t)
	template.once.Do(func() {
		template.server = server
		template.name = fmt.Sprintf("profileapi_template_%d_%d", os.Getpid(), time.Now().UnixNano())
		if template.err = pgtest.Exec(server, `CREATE DATABASE `+pgx.Identifier{template.name}.Sanitize()); template.err != nil {
			return
		}
		var db *DB
		if db, template.err = Open(context.Background(), pgtest.DatabaseURL(t, server, template.name)); template.err == nil {
			db.Close()
		}
	})
	if template.err != nil {
		t.Fatalf("create the template database: %v", template.err)
	}
	return openURL(t, pgtest.CreateDatabase(t, server, template.name))
}

func openURL(t testing.TB, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) profileapi.Store { return openDB(t) })
}

func count(t testing.TB, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func migrationCount(t *testing.T) int {
	t.Helper()
	names, err := migrations.ReadDir("migrations")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	return len(names)
}

func TestMigrations(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	want := migrationCount(t)
	for range 2 { // the second Open finds nothing to do
		db := openURL(t, url)
		var n, latest int
		if err := db.pool.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &latest); err != nil {
			t.Fatal(err)
		}
		if n != want || latest != want {
			t.Fatalf("schema_migrations has %d rows up to version %d, want %d up to %d", n, latest, want, want)
		}
		db.Close()
	}

	t.Log("a database from a newer program is refused")
	if err := pgtest.Exec(url, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, now())`); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(ctx, url); err == nil {
		db.Close()
		t.Fatal("Open of a database at a newer schema version succeeded")
	}
}

// A database holding another migration tool's schema_migrations (here
// golang-migrate's) is refused with that said, not taken for migrated.
func TestForeignSchemaMigrations(t *testing.T) {
	url := pgtest.NewDatabase(t)
	if err := pgtest.Exec(url, `CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
		INSERT INTO schema_migrations VALUES (1, false)`); err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.Context(), url)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database with another tool's schema_migrations succeeded")
	}
	if !strings.Contains(err.Error(), "not profileapi's") || profileapi.ErrorKind(err) == profileapi.EUNAVAILABLE {
		t.Errorf("Open: %v; want it to say the table is not profileapi's, and not to retry", err)
	}
}

// TestConcurrentOpen starts several nodes at once on a new database: each
// Open must succeed, and the schema be made once.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const nodes = 8
	dbs := make([]*DB, nodes)
	errs := make([]error, nodes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(t.Context(), url)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Open: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	if n, want := count(t, dbs[0], "schema_migrations"), migrationCount(t); n != want {
		t.Fatalf("schema_migrations has %d rows after %d concurrent opens, want %d", n, nodes, want)
	}
	t.Log("what one node writes, the others read")
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Shared", Permissions: profileapi.AllScopes}
	if err := dbs[0].CreateSkill(t.Context(), sk); err != nil {
		t.Fatal(err)
	}
	for i, db := range dbs {
		if _, err := db.Skill(t.Context(), sk.ID); err != nil {
			t.Fatalf("node %d: Skill: %v", i, err)
		}
	}
}

// TestSkillOrder checks that ids sort by bytes, as in SQLite, whatever the
// database's collation: upper case before lower case, '-' before '.'.
func TestSkillOrder(t *testing.T) {
	db := openDB(t)
	ids := []string{"amzn1.ask.skill.b", "amzn1.ask.skill.B", "amzn1.ask.skill.a.x", "amzn1.ask.skill.a-x", "amzn1.ask.skill._", "amzn1.ask.skill.Z"}
	for _, id := range ids {
		if err := db.CreateSkill(t.Context(), &profileapi.Skill{ID: id, Name: "S"}); err != nil {
			t.Fatal(err)
		}
	}
	skills, err := db.Skills(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"amzn1.ask.skill.B", "amzn1.ask.skill.Z", "amzn1.ask.skill._", "amzn1.ask.skill.a-x", "amzn1.ask.skill.a.x", "amzn1.ask.skill.b"}
	for i, s := range skills {
		if s.ID != want[i] {
			t.Fatalf("Skills()[%d] = %s, want %s (byte order)", i, s.ID, want[i])
		}
	}
}

func TestOpenBadURL(t *testing.T) {
	if db, err := Open(t.Context(), "postgres://[::1"); profileapi.ErrorKind(err) != profileapi.EINVALID {
		if err == nil {
			db.Close()
		}
		t.Errorf("Open of a malformed URL: %v, want EINVALID", err)
	}
	// Nothing listens on port 1 of loopback: refused at once.
	start := time.Now()
	db, err := Open(t.Context(), "postgres://postgres:secret-password@127.0.0.1:1/postgres?sslmode=disable")
	if profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE {
		if err == nil {
			db.Close()
		}
		t.Fatalf("Open of a server that is not there: %v, want EUNAVAILABLE", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Open of a server that is not there took %v", d)
	}
	if err != nil && strings.Contains(err.Error(), "secret-password") {
		t.Errorf("the error shows the password: %v", err)
	}
}
