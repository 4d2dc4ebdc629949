package sqlite

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/profileapi/profileapi"
)

// TestFileMode: a database file Open creates holds personal data, so it and
// the -wal and -shm files SQLite makes beside it are for their owner only,
// whatever the umask. A file already there keeps its mode.
func TestFileMode(t *testing.T) {
	old := syscall.Umask(0o022) // the usual one: it lets everyone read
	t.Cleanup(func() { syscall.Umask(old) })

	t.Run("New", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "profileapi.db")
		db := openPath(t, path)
		addFixture(t, db, "Private")
		for _, name := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err) // the store holds all three open
			}
			if fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s is %v, want it readable by its owner only", filepath.Base(name), fi.Mode().Perm())
			}
		}
	})
	t.Run("Existing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "profileapi.db")
		if err := os.WriteFile(path, nil, 0o640); err != nil { // an empty database
			t.Fatal(err)
		}
		db := openPath(t, path)
		addFixture(t, db, "Shared with the group")
		for _, name := range []string{path, path + "-wal"} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o640 {
				t.Errorf("%s is %v, want the 0640 the operator chose", filepath.Base(name), fi.Mode().Perm())
			}
		}
	})
}

// makeReadOnly makes the file read-only for this process until the
// function it returns is called: chmod 0444, or, as root, whom permissions
// do not stop, chattr +i (the test skips where chattr is refused). Either
// way SQLite, failing to open the file for writing, opens it read-only.
func makeReadOnly(t *testing.T, path string) (undo func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		return func() {
			// SQLite gave the -wal and -shm files it made meanwhile the
			// database file's mode: they need the fix too.
			for _, s := range []string{"", "-wal", "-shm"} {
				if err := os.Chmod(path+s, 0o600); err != nil && (s == "" || !errors.Is(err, os.ErrNotExist)) {
					t.Fatal(err)
				}
			}
		}
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("root ignores file modes, and chattr +i is refused: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() }) // before TempDir's removal
	return func() {
		if out, err := exec.Command("chattr", "-i", path).CombinedOutput(); err != nil {
			t.Fatalf("chattr -i: %v: %s", err, out)
		}
	}
}

// wantReadOnly checks that err says the database is read-only, and is not
// taken for an outage to wait out.
func wantReadOnly(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded on a read-only database file", what)
	}
	if kind := profileapi.ErrorKind(err); kind == profileapi.EUNAVAILABLE {
		t.Fatalf("%s: %v: EUNAVAILABLE, but waiting will not make the file writable", what, err)
	}
	if !strings.Contains(err.Error(), "read-only for this process") {
		t.Fatalf("%s: %v, want it to say the file is read-only", what, err)
	}
}

// TestReadOnly: a database file the process may only read is refused at
// Open, where it used to open and then fail every write with a 503.
func TestReadOnly(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	db := openPath(t, path)
	f := addFixture(t, db, "Kept")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, path)

	undo := makeReadOnly(t, path)
	ro, err := Open(ctx, path)
	if err == nil {
		ro.Close()
	}
	t.Logf("Open: %v", err)
	wantReadOnly(t, "Open", err)
	if !strings.HasPrefix(err.Error(), "sqlite: open "+path+": ") {
		t.Errorf("Open: %v, want it to name the file", err)
	}
	if string(mustRead(t, path)) != string(before) {
		t.Error("the failed Open changed the database file")
	}

	undo()
	db = openPath(t, path)
	if name, err := f.access(db); err != nil || name != "Kept" {
		t.Fatalf("Access once writable: %q, %v", name, err)
	}
	addFixture(t, db, "Written once writable")
}

// TestReadOnlyConnection: the file becomes read-only for the process after
// Open, before the write pool opens its connection (at the first write).
// Writes fail as an outage with Retry-After, whose logged cause says the
// file is read-only; reads go on; and once the file is writable again, so
// are writes: the pool kept no read-only connection.
func TestReadOnlyConnection(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	db := openPath(t, path)
	addFixture(t, db, "Kept")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openManual(t, path)
	skills, err := db.Skills(ctx)
	if err != nil || len(skills) != 1 {
		t.Fatalf("Skills: %v, %v", skills, err)
	}
	if n := db.write.Stats().OpenConnections; n != 0 {
		t.Fatalf("the write pool has %d connections before the first write; the test needs none", n)
	}
	undo := makeReadOnly(t, path)

	for i := range 2 {
		err := db.CreateSkill(ctx, &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "No", Permissions: profileapi.AllScopes})
		t.Logf("CreateSkill: %v", err)
		var e *profileapi.Error
		if !errors.As(err, &e) || e.Kind != profileapi.EUNAVAILABLE || e.RetryAfter <= 0 {
			t.Fatalf("write %d on a read-only file: %v, want EUNAVAILABLE with Retry-After", i, err)
		}
		if !strings.Contains(err.Error(), "read-only for this process") {
			t.Fatalf("write %d: %v, want it to say the file is read-only", i, err)
		}
	}
	if skills, err := db.Skills(ctx); err != nil || len(skills) != 1 {
		t.Fatalf("Skills while read-only: %v, %v", skills, err)
	}

	undo()
	if err := db.CreateSkill(ctx, &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Yes", Permissions: profileapi.AllScopes}); err != nil {
		t.Fatalf("CreateSkill once writable: %v", err)
	}
}

// TestReadOnlyReplacement: a read-only file put at the path while the store
// runs is not reopened on: the store stays unavailable, and Ping (/readyz)
// says why, until the file is writable.
func TestReadOnlyReplacement(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	db := openManual(t, path)
	f := addFixture(t, db, "Kept")
	saved := backup(t, db)
	// VACUUM INTO writes a rollback-journal database, which a read-only
	// connection fails to switch to WAL: make it WAL already, as a copy of
	// the live database is, so that only the write check can refuse it.
	if err := openPath(t, saved).Close(); err != nil {
		t.Fatal(err)
	}

	removeFiles(t, path)
	copyFile(t, saved, path)
	undo := makeReadOnly(t, path)
	for range 5 {
		db.check(ctx)
	}
	err := db.Ping(ctx)
	t.Logf("Ping: %v", err)
	wantUnavailable(t, "Ping on a read-only replacement", err)
	if !strings.Contains(err.Error(), "read-only for this process") {
		t.Fatalf("Ping: %v, want it to say the file is read-only", err)
	}

	undo()
	checkUntilUp(t, db)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping once writable: %v", err)
	}
	if name, err := f.access(db); err != nil || name != "Kept" {
		t.Fatalf("Access once writable: %q, %v", name, err)
	}
	addFixture(t, db, "Written once writable")
}

// TestOpenUnusablePath: a path Open cannot use is an error that says what
// to check, not an outage to wait out.
func TestOpenUnusablePath(t *testing.T) {
	for _, tt := range []struct {
		name, path, want string
	}{
		{"MissingDirectory", filepath.Join(t.TempDir(), "missing", "profileapi.db"), "does its directory exist"},
		{"Directory", t.TempDir(), "is it a file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(t.Context(), tt.path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", tt.path)
			}
			t.Logf("Open: %v", err)
			if kind := profileapi.ErrorKind(err); kind == profileapi.EUNAVAILABLE {
				t.Errorf("Open(%q): %v: EUNAVAILABLE, want a configuration error", tt.path, err)
			}
			if strings.Contains(err.Error(), "temporarily") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%q): %v, want it to ask %q", tt.path, err, tt.want)
			}
			if _, err := os.Stat(tt.path); tt.name == "MissingDirectory" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Open created %s: %v", tt.path, err)
			}
		})
	}
}
