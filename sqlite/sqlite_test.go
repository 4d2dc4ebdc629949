package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/storetest"
)

// openDB opens a new database file under t.TempDir and closes it when the
// test ends.
func openDB(t testing.TB) *DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "profileapi.db"))
}

func openPath(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) profileapi.Store { return openDB(t) })
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Kept", Permissions: profileapi.AllScopes}
	c := &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.RegionFE, Profile: profileapi.Profile{
		Name: "佐藤 花子", MobileNumber: &profileapi.PhoneNumber{CountryCode: "+81", PhoneNumber: "090-1234-5678"},
	}}
	key := &profileapi.SigningKey{ID: "k1", Secret: []byte{0, 1, 2}}
	for _, err := range []error{
		db.CreateSkill(ctx, sk),
		db.CreateCustomer(ctx, c),
		db.PutConsent(ctx, &profileapi.Consent{CustomerID: c.ID, SkillID: sk.ID, Scopes: profileapi.NewScopeSet(profileapi.ScopeMobileNumber)}),
		db.AddSigningKey(ctx, key),
		db.Close(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	db = openPath(t, path)
	a, err := db.Access(ctx, c.ID, sk.ID)
	if err != nil {
		t.Fatalf("Access after reopening: %v", err)
	}
	if a.Customer.Profile.Name != c.Profile.Name || *a.Customer.Profile.MobileNumber != *c.Profile.MobileNumber ||
		!a.Customer.CreatedAt.Equal(c.CreatedAt) || a.Declared != sk.Permissions || a.Granted != profileapi.NewScopeSet(profileapi.ScopeMobileNumber) {
		t.Fatalf("Access after reopening = %+v, want customer %+v with skill %+v and mobile number granted", a, c, sk)
	}
	keys, err := db.SigningKeys(ctx)
	if err != nil || len(keys) != 1 || string(keys[0].Secret) != string(key.Secret) {
		t.Fatalf("SigningKeys after reopening = %v, %v; want %v", keys, err, key)
	}
}

func TestMigrations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	names, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	for range 2 { // the second Open finds nothing to do
		db := openPath(t, path)
		var n, latest int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &latest); err != nil {
			t.Fatal(err)
		}
		if n != len(names) || latest != len(names) {
			t.Fatalf("schema_migrations has %d rows up to version %d, want %d up to %d", n, latest, len(names), len(names))
		}
		db.Close()
	}

	t.Log("a database from a newer program is refused")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(ctx, path); err == nil {
		db.Close()
		t.Fatal("Open of a database at a newer schema version succeeded")
	}
}

// TestPragmas checks the settings on several connections of each pool at
// once: a pragma set on one connection only would show here.
func TestPragmas(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	type settings struct {
		journalMode                               string
		foreignKeys, synchronous, busy, queryOnly int
	}
	check := func(pool string, conn *sql.Conn, want settings) {
		t.Helper()
		var got settings
		for _, q := range []struct {
			pragma string
			dest   any
		}{
			{"journal_mode", &got.journalMode},
			{"foreign_keys", &got.foreignKeys},
			{"synchronous", &got.synchronous},
			{"busy_timeout", &got.busy},
			{"query_only", &got.queryOnly},
		} {
			if err := conn.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.dest); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", pool, q.pragma, err)
			}
		}
		if got != want {
			t.Errorf("%s connection: %+v, want %+v", pool, got, want)
		}
	}
	writes := settings{journalMode: "wal", foreignKeys: 1, synchronous: 2, busy: 5000}
	reads := writes
	reads.queryOnly = 1

	conn, err := db.write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("write", conn, writes)
	conn.Close()
	var conns []*sql.Conn
	for range 4 {
		conn, err := db.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		check("read", conn, reads)
	}
}

func TestOpenBadPath(t *testing.T) {
	for _, path := range []string{"", ":memory:"} { // a '?': TestOpenPathWithURICharacters
		if db, err := Open(t.Context(), path); profileapi.ErrorKind(err) != profileapi.EINVALID {
			if err == nil {
				db.Close()
			}
			t.Errorf("Open(%q): %v, want EINVALID", path, err)
		}
	}
	// A missing directory: TestOpenUnusablePath.
}

// TestPing documents what Ping reports when the file is taken away from
// under an open database.
func TestPing(t *testing.T) {
	t.Run("Removed", func(t *testing.T) {
		db := openDB(t)
		if err := os.Remove(db.path); err != nil {
			t.Fatal(err)
		}
		// Open connections would go on using the unlinked file, and lose
		// everything at the next start: Ping says so.
		if err := db.Ping(t.Context()); profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE {
			t.Fatalf("Ping after the file was removed: %v, want EUNAVAILABLE", err)
		}
	})
	t.Run("Replaced", func(t *testing.T) {
		db := openDB(t)
		other := openDB(t)
		if err := os.Rename(other.path, db.path); err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(t.Context()); profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE {
			t.Fatalf("Ping after the file was replaced: %v, want EUNAVAILABLE", err)
		}
	})
	t.Run("Unreadable", func(t *testing.T) {
		db := openDB(t)
		if err := os.Chmod(db.path, 0); err != nil {
			t.Fatal(err)
		}
		// The pool's connections hold the file open, and permissions are
		// checked only at open: Ping, like reads and writes on those
		// connections, goes on working. A connection the pool opens later
		// would fail (EUNAVAILABLE), unless the process runs as root.
		if err := db.Ping(t.Context()); err != nil {
			t.Fatalf("Ping after chmod 0: %v", err)
		}
	})
}

// Processes opening a new file together (several serve --cache off on one
// file, started by a script) race to set it up; SQLite answered the loser
// "database is locked" at once. Open waits for the other, as for a lock.
func TestOpenedTogether(t *testing.T) {
	for round := range 60 {
		path := filepath.Join(t.TempDir(), "profileapi.db")
		const n = 4
		dbs := make([]*DB, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { dbs[i], errs[i] = Open(context.Background(), path) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d: Open %d of %d at once: %v", round, i, n, errs[i])
			}
			dbs[i].Close()
		}
	}
}

// Open refuses another program's database, and leaves it as it was: no
// tables of its own added, the journal mode not switched to WAL.
func TestOpenRefusesForeignDatabase(t *testing.T) {
	for name, schema := range map[string]string{
		"other tables": `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'x')`,
		// golang-migrate's, with a table that profileapi's schema has too.
		"golang-migrate": `CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, dirty INTEGER NOT NULL);
			CREATE TABLE customers (id TEXT PRIMARY KEY)`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.db")
			other, err := sql.Open("sqlite", path+"?_pragma=journal_mode(DELETE)")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.Exec(schema); err != nil {
				t.Fatal(err)
			}
			other.Close()
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			db, err := Open(t.Context(), path)
			if err == nil {
				db.Close()
				t.Fatal("Open took another program's database")
			}
			if !strings.Contains(err.Error(), "not a profileapi database") {
				t.Errorf("Open: %v, want it to say whose it is not", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Error("the file was changed")
			}
			for _, suffix := range []string{"-wal", "-shm"} {
				if _, err := os.Stat(path + suffix); err == nil {
					t.Errorf("a %s file was left", suffix)
				}
			}
		})
	}
	// An empty database (a file of no tables) is profileapi's to set up.
	path := filepath.Join(t.TempDir(), "empty.db")
	empty, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Exec(`PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	empty.Close()
	openPath(t, path)
}

// A path may hold the characters a file: URI gives a meaning.
func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "profileapi.db")
	db := openPath(t, path)
	if err := db.CreateSkill(t.Context(), &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "S", Permissions: profileapi.AllScopes}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
}

// A file that is not a SQLite database is a wrong path, which waiting does
// not fix: not EUNAVAILABLE.
func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database, only some notes\n"), 20), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.Context(), path)
	if err == nil {
		db.Close()
		t.Fatal("Open took a text file")
	}
	if profileapi.ErrorKind(err) == profileapi.EUNAVAILABLE || !strings.Contains(err.Error(), "not a SQLite database") {
		t.Errorf("Open: %v (kind %q), want it to say the file is not a database", err, profileapi.ErrorKind(err))
	}
}
