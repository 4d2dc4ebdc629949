package postgres

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/postgres/pgtest"
)

// An operator may run nodes as a role that reads and writes the tables but
// may not create any, not even temporary ones: on a database already
// migrated, it must start, and import.
func TestOpenWithoutCreateRights(t *testing.T) {
	u := pgtest.NewDatabase(t)
	openURL(t, u).Close() // migrated by the owner
	role := "profileapi_app_" + strings.ToLower(profileapi.NewSkillID()[len("amzn1.ask.skill."):][:8])
	server := pgtest.ServerURL(t)
	if err := pgtest.Exec(server, `CREATE ROLE `+pgx.Identifier{role}.Sanitize()+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the role's grants go, in u by DROP OWNED and
	// with the database dropped below, before the role.
	t.Cleanup(func() {
		if err := pgtest.Exec(server, `DROP ROLE IF EXISTS `+pgx.Identifier{role}.Sanitize()); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() { _ = pgtest.Exec(u, `DROP OWNED BY `+pgx.Identifier{role}.Sanitize()) })
	for _, stmt := range []string{
		`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
		`REVOKE TEMPORARY ON DATABASE ` + pgx.Identifier{strings.TrimPrefix(mustParse(t, u).Path, "/")}.Sanitize() + ` FROM PUBLIC`,
		`GRANT USAGE ON SCHEMA public TO ` + pgx.Identifier{role}.Sanitize(),
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ` + pgx.Identifier{role}.Sanitize(),
	} {
		if err := pgtest.Exec(u, stmt); err != nil {
			t.Fatal(err)
		}
	}
	app, _ := url.Parse(u)
	app.User = url.User(role)
	db, err := Open(t.Context(), app.String())
	if err != nil {
		t.Fatalf("Open as a role without CREATE, on a migrated database: %v", err)
	}
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "App", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(t.Context(), sk); err != nil {
		t.Errorf("CreateSkill as the role: %v", err)
	}
	c := &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.RegionNA}
	if err := db.ImportCustomers(t.Context(), []*profileapi.Customer{c}, []*profileapi.Consent{{CustomerID: c.ID, SkillID: sk.ID, Scopes: profileapi.AllScopes}}); err != nil {
		t.Errorf("ImportCustomers as the role: %v", err)
	}
	db.Close()

	// The role cannot migrate: an empty database is refused, not half made.
	empty := pgtest.NewDatabase(t)
	if err := pgtest.Exec(empty, `REVOKE CREATE ON SCHEMA public FROM PUBLIC`); err != nil {
		t.Fatal(err)
	}
	emptyApp, _ := url.Parse(empty)
	emptyApp.User = url.User(role)
	if err := pgtest.Exec(server, `GRANT CONNECT ON DATABASE `+pgx.Identifier{strings.TrimPrefix(emptyApp.Path, "/")}.Sanitize()+` TO `+pgx.Identifier{role}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(t.Context(), emptyApp.String()); err == nil {
		db.Close()
		t.Error("Open as a role without CREATE made the schema of an empty database")
	}
}

// A database dropped and created again under running nodes has no schema:
// calls answer 503, never 500, and the next Ping (GET /readyz) makes the
// schema again, so that the node serves without a restart.
func TestSchemaMadeAgain(t *testing.T) {
	u := pgtest.NewDatabase(t)
	db := openURL(t, u)
	ctx := context.Background()
	c := &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.RegionNA}
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "S", Permissions: profileapi.AllScopes}
	if err := db.CreateCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSkill(ctx, sk); err != nil {
		t.Fatal(err)
	}
	parsed, _ := url.Parse(u)
	name := pgx.Identifier{strings.TrimPrefix(parsed.Path, "/")}.Sanitize()
	server := pgtest.ServerURL(t)
	if err := pgtest.Exec(server, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
		t.Fatal(err)
	}
	if err := pgtest.Exec(server, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}

	// The pool's connections were cut: the first calls may still see
	// that, then each sees the missing tables.
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for {
		_, err = db.Access(ctx, c.ID, sk.ID)
		if schemaGone(err) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !schemaGone(err) || profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE {
		t.Fatalf("Access with the schema gone: %v (kind %s), want EUNAVAILABLE for the missing table", err, profileapi.ErrorKind(err))
	}
	if err := db.CreateSkill(ctx, sk); profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE {
		t.Errorf("CreateSkill with the schema gone: %v, want EUNAVAILABLE", err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping with the schema gone: %v, want it made again", err)
	}
	if err := db.CreateSkill(ctx, sk); err != nil {
		t.Errorf("CreateSkill after Ping: %v", err)
	}
	if _, err := db.Access(ctx, c.ID, sk.ID); !profileapi.IsNotFound(err) {
		t.Errorf("Access of the customer the dropped database held: %v, want ENOTFOUND", err)
	}
}

// What PostgreSQL cannot store, though the admin API refuses it first, is
// a client's mistake (EINVALID), not the service's (EINTERNAL).
func TestWhatTheDatabaseCannotStore(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	for name, c := range map[string]*profileapi.Customer{
		"a NUL byte":      {Profile: profileapi.Profile{Name: "a\x00b"}},
		"invalid UTF-8":   {Profile: profileapi.Profile{Name: "a\xffb"}},
		"year 300000":     {CreatedAt: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"year -5000":      {CreatedAt: time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"NUL in an email": {Profile: profileapi.Profile{Email: "a\x00@example.com"}},
	} {
		c.ID, c.Region = profileapi.NewCustomerID(), profileapi.RegionEU
		if err := db.CreateCustomer(ctx, c); profileapi.ErrorKind(err) != profileapi.EINVALID {
			t.Errorf("CreateCustomer with %s: %v (kind %s), want EINVALID", name, err, profileapi.ErrorKind(err))
		}
		if err := db.ImportCustomers(ctx, []*profileapi.Customer{c}, nil); profileapi.ErrorKind(err) != profileapi.EINVALID {
			t.Errorf("ImportCustomers with %s: %v (kind %s), want EINVALID", name, err, profileapi.ErrorKind(err))
		}
	}
	if n := count(t, db, "customers"); n != 0 {
		t.Errorf("%d customers stored", n)
	}
}

// A database that does not keep text in UTF-8 is refused at Open, with
// what to do: its names would be refused or stored garbled.
func TestOpenRefusesOtherEncodings(t *testing.T) {
	server := pgtest.ServerURL(t)
	name := "profileapi_test_latin1_" + strings.ToLower(profileapi.NewSkillID()[len("amzn1.ask.skill."):][:8])
	if err := pgtest.Exec(server, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = pgtest.Exec(server, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	})
	db, err := Open(t.Context(), pgtest.DatabaseURL(t, server, name))
	if err == nil {
		db.Close()
		t.Fatal("Open of a LATIN1 database succeeded")
	}
	if !strings.Contains(err.Error(), "LATIN1, not UTF8") || profileapi.ErrorKind(err) != profileapi.EINVALID {
		t.Errorf("Open of a LATIN1 database: %v, want EINVALID saying to create it in UTF8", err)
	}
}

func mustParse(t *testing.T, u string) *url.URL {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}
