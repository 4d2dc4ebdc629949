package sqlite

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

// TestFormatError feeds formatError errors the driver really returns.
func TestFormatError(t *testing.T) {
	ctx := t.Context()
	scratch, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "scratch.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Close()
	scratch.SetMaxOpenConns(1) // the pragmas below hold for the one connection
	if _, err := scratch.ExecContext(ctx, `
		CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT UNIQUE, n INTEGER NOT NULL CHECK (n > 0));
		CREATE TABLE child (parent_id INTEGER REFERENCES parent (id));
		INSERT INTO parent VALUES (1, 'a', 1);
	`); err != nil {
		t.Fatal(err)
	}
	exec := func(query string) error {
		_, err := scratch.ExecContext(ctx, query)
		if err == nil {
			t.Fatalf("%s succeeded", query)
		}
		return err
	}

	domain := profileapi.Errorf(profileapi.EINVALID, "already a domain error")
	other := errors.New("something else")
	for _, tt := range []struct {
		name string
		err  error
		kind string // "" means returned as is
	}{
		{"no rows", sql.ErrNoRows, profileapi.ENOTFOUND},
		{"wrapped no rows", fmt.Errorf("find: %w", sql.ErrNoRows), profileapi.ENOTFOUND},
		{"primary key", exec(`INSERT INTO parent VALUES (1, 'b', 1)`), profileapi.ECONFLICT},
		{"unique", exec(`INSERT INTO parent VALUES (2, 'a', 1)`), profileapi.ECONFLICT},
		{"foreign key", exec(`INSERT INTO child VALUES (2)`), profileapi.ENOTFOUND},
		{"check", exec(`INSERT INTO parent VALUES (3, 'c', 0)`), ""},
		{"not null", exec(`INSERT INTO parent VALUES (3, 'c', NULL)`), ""},
		{"syntax", exec(`INSERT INTO`), ""},
		{"full", func() error {
			if _, err := scratch.ExecContext(ctx, `PRAGMA max_page_count = 4`); err != nil {
				t.Fatal(err)
			}
			return exec(`WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
				INSERT INTO parent SELECT i, hex(randomblob(64)), i FROM n`)
		}(), profileapi.EUNAVAILABLE},
		{"busy", busyError(t), profileapi.EUNAVAILABLE},
		{"read-only", readOnlyError(t), profileapi.EUNAVAILABLE},
		{"moved", movedError(t), profileapi.EUNAVAILABLE},
		{"corrupt", corruptError(t), profileapi.EUNAVAILABLE},
		{"domain", domain, profileapi.EINVALID},
		{"other", other, ""},
	} {
		t.Logf("%s: %v", tt.name, tt.err)
		got := formatError(tt.err)
		if tt.kind == "" {
			if got != tt.err {
				t.Errorf("%s: formatError(%v) = %v, want it unchanged", tt.name, tt.err, got)
			}
			continue
		}
		if kind := profileapi.ErrorKind(got); kind != tt.kind {
			t.Errorf("%s: formatError(%v) is %s, want %s", tt.name, tt.err, kind, tt.kind)
		}
		if !errors.Is(got, tt.err) {
			t.Errorf("%s: formatError(%v) = %v, which lost the cause", tt.name, tt.err, got)
		}
		var e *profileapi.Error
		if errors.As(got, &e) && tt.kind == profileapi.EUNAVAILABLE && e.RetryAfter != time.Second {
			t.Errorf("%s: RetryAfter %v, want 1s", tt.name, e.RetryAfter)
		}
	}
	if formatError(nil) != nil {
		t.Error("formatError(nil) is not nil")
	}
}

// busyError returns the error of a write that finds the database locked by
// the DB's writer, from a connection that does not wait.
func busyError(t *testing.T) error {
	db := openDB(t)
	tx, err := db.write.BeginTx(t.Context(), nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	impatient, err := sql.Open("sqlite", db.path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	_, err = impatient.ExecContext(t.Context(), `DELETE FROM skills`)
	if err == nil {
		t.Fatal("a second writer did not find the database busy")
	}
	return err
}

// readOnlyError returns the error of a write on the DB's read pool.
func readOnlyError(t *testing.T) error {
	db := openDB(t)
	_, err := db.read.ExecContext(t.Context(), `DELETE FROM skills`)
	if err == nil {
		t.Fatal("a write on the read pool succeeded")
	}
	return err
}

// movedError returns the error of a write to a database file removed while
// open, which SQLite detects in rollback-journal mode.
func movedError(t *testing.T) error {
	path := filepath.Join(t.TempDir(), "moved.db")
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(DELETE)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(t.Context(), `INSERT INTO t VALUES (1)`)
	if err == nil {
		t.Fatal("a write to a removed file succeeded")
	}
	return err
}

// corruptError is the error of a read of a database whose pages were
// overwritten, as a disk fault would.
func corruptError(t *testing.T) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "corrupt.db")
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(DELETE)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
		INSERT INTO t SELECT i, hex(randomblob(100)) FROM n`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 16<<10), 8<<10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT count(v) FROM t`).Scan(&n)
	if err == nil {
		t.Fatal("a damaged database read without error")
	}
	return err
}
