package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/token"
)

// openManual opens a store with no watchdog: the test runs its rounds
// itself, with db.check.
func openManual(t testing.TB, path string) *DB {
	t.Helper()
	db, err := open(context.Background(), path, 0)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	db.SetLogger(testLogger(t))
	t.Cleanup(func() { db.Close() })
	return db
}

// testLogger logs to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// fixture is a skill, a customer and a consent, as Access sees them.
type fixture struct {
	skill    *profileapi.Skill
	customer *profileapi.Customer
}

func addFixture(t testing.TB, db *DB, name string) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{
		skill:    &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Health", Permissions: profileapi.AllScopes},
		customer: &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: name}},
	}
	for _, err := range []error{
		db.CreateSkill(ctx, f.skill),
		db.CreateCustomer(ctx, f.customer),
		db.PutConsent(ctx, &profileapi.Consent{CustomerID: f.customer.ID, SkillID: f.skill.ID, Scopes: profileapi.AllScopes}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// access reads the fixture's customer name through the public API's query.
func (f fixture) access(db *DB) (string, error) {
	a, err := db.Access(context.Background(), f.customer.ID, f.skill.ID)
	if err != nil {
		return "", err
	}
	return a.Customer.Profile.Name, nil
}

// backup writes a consistent copy of the database, as an operator would
// take one of a live database.
func backup(t testing.TB, db *DB) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "backup.db")
	if _, err := db.write.ExecContext(context.Background(), `VACUUM INTO ?`, to); err != nil {
		t.Fatalf("VACUUM INTO: %v", err)
	}
	return to
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// removeFiles removes the database, its WAL and its index.
func removeFiles(t testing.TB, path string) {
	t.Helper()
	for _, s := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + s); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

func wantUnavailable(t testing.TB, what string, err error) {
	t.Helper()
	var e *profileapi.Error
	if !errors.As(err, &e) || e.Kind != profileapi.EUNAVAILABLE {
		t.Fatalf("%s: %v, want EUNAVAILABLE", what, err)
	}
	if e.RetryAfter != time.Second {
		t.Fatalf("%s: RetryAfter %v, want 1s", what, e.RetryAfter)
	}
}

// checkUntilUp runs watchdog rounds until the store is back, or fails.
func checkUntilUp(t testing.TB, db *DB) {
	t.Helper()
	for range 5 {
		db.check(context.Background())
		if db.unavailable() == nil {
			return
		}
	}
	t.Fatalf("still unavailable after 5 rounds: %v", db.unavailable())
}

// TestRemovedFile removes the database and its WAL from under an open
// store, then restores a backup: writes are never acknowledged into the
// removed file, every call is EUNAVAILABLE meanwhile, nothing is created at
// the path, and the store serves the restored file without reopening.
func TestRemovedFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	db := openManual(t, path)
	kept := addFixture(t, db, "Kept")
	saved := backup(t, db)
	lost := addFixture(t, db, "Written after the backup")

	removeFiles(t, path)
	// Reads are served from the removed file until the check runs; a
	// write finds it gone as it commits, and is not acknowledged.
	if name, err := kept.access(db); err != nil || name != "Kept" {
		t.Fatalf("Access before the check: %q, %v", name, err)
	}
	void := &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.RegionNA}
	wantUnavailable(t, "CreateCustomer into the removed file", db.CreateCustomer(ctx, void))

	_, err := kept.access(db)
	wantUnavailable(t, "Access", err)
	wantUnavailable(t, "Ping", db.Ping(ctx))
	_, err = db.Customer(ctx, kept.customer.ID)
	wantUnavailable(t, "Customer", err)
	_, err = db.Skills(ctx)
	wantUnavailable(t, "Skills", err)
	wantUnavailable(t, "CreateSkill", db.CreateSkill(ctx, &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "No"}))
	_, err = db.UpdateCustomer(ctx, kept.customer.ID, func(*profileapi.Customer) error { return nil })
	wantUnavailable(t, "UpdateCustomer", err)
	wantUnavailable(t, "ImportCustomers", db.ImportCustomers(ctx, []*profileapi.Customer{void}, nil))
	for range 3 {
		db.check(ctx)
	}
	if err := db.Ping(ctx); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Ping while the file is missing: %v, want it to say so", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file appeared at the path while it was missing: %v", err)
	}

	t.Log("the operator restores the backup")
	copyFile(t, saved, path)
	checkUntilUp(t, db)
	if name, err := kept.access(db); err != nil || name != "Kept" {
		t.Fatalf("Access after the restore: %q, %v", name, err)
	}
	if _, err := lost.access(db); !profileapi.IsNotFound(err) {
		t.Fatalf("Access to what the backup does not hold: %v, want ENOTFOUND", err)
	}
	after := addFixture(t, db, "Written after the restore")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// What was acknowledged after the restore is in the file at the path.
	again := openPath(t, path)
	for _, f := range []fixture{kept, after} {
		if _, err := f.access(again); err != nil {
			t.Fatalf("after reopening: %v", err)
		}
	}
	if _, err := again.Customer(ctx, void.ID); !profileapi.IsNotFound(err) {
		t.Fatalf("the write refused while the file was gone is there: %v", err)
	}
}

// TestRestoredBackupLacksSigningKey: a backup restored under a running
// keyring lacks the key made since; the next token is signed with a key
// the restored database has, so it survives a restart.
func TestRestoredBackupLacksSigningKey(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	db := openManual(t, path)
	keys, err := token.NewKeyring(ctx, db, token.Options{})
	if err != nil {
		t.Fatal(err)
	}
	saved := backup(t, db)
	if _, err := keys.Rotate(ctx); err != nil { // a key the backup lacks
		t.Fatal(err)
	}

	removeFiles(t, path)
	copyFile(t, saved, path)
	checkUntilUp(t, db)
	claims := token.Claims{CustomerID: "amzn1.ask.account.A", SkillID: "amzn1.ask.skill.s", Region: profileapi.RegionNA, Audience: "https://api.amazonalexa.com"}
	tok, _, err := keys.Issue(ctx, claims, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	restarted, err := token.NewKeyring(ctx, openPath(t, path), token.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restarted.Verify(ctx, tok); err != nil {
		t.Fatalf("a token minted after the restore, after a restart: %v", err)
	}
}

// TestMovedAwayAndBack moves the files away and back while writers run,
// with the real watchdog: every write acknowledged is in the file. Moved
// back database first, the store may reopen it before its WAL is back: it
// checkpoints what its open WAL holds first, and when the old WAL comes
// back over the new one, it stops and does so again.
func TestMovedAwayAndBack(t *testing.T) {
	for _, tt := range []struct {
		name string
		back []string
	}{
		{"WALFirst", []string{"-wal", "-shm", ""}},
		{"DatabaseFirst", []string{"", "-wal", "-shm"}},
	} {
		t.Run(tt.name, func(t *testing.T) { testMovedAwayAndBack(t, tt.back) })
	}
}

func testMovedAwayAndBack(t *testing.T, back []string) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	db, err := open(ctx, path, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetLogger(testLogger(t))

	var (
		mu      sync.Mutex
		acked   []string
		refused int
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
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
				c := &profileapi.Customer{ID: fmt.Sprintf("amzn1.ask.account.W%dN%d", w, i), Region: profileapi.RegionEU}
				err := db.CreateCustomer(ctx, c)
				mu.Lock()
				switch {
				case err == nil:
					acked = append(acked, c.ID)
				case profileapi.ErrorKind(err) == profileapi.EUNAVAILABLE:
					refused++
				default:
					t.Errorf("CreateCustomer: %v", err)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	count := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return len(acked), refused
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("writes", func() bool { n, _ := count(); return n >= 50 })
	for _, s := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+s, path+s+".away"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("refusals", func() bool { _, r := count(); return r >= 20 })
	before, _ := count()
	for _, s := range back {
		if err := os.Rename(path+s+".away", path+s); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // rounds of the watchdog between each
	}
	waitFor("writes after the files came back", func() bool { n, _ := count(); return n >= before+50 })
	close(stop)
	wg.Wait()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	n, r := count()
	again := openPath(t, path)
	var check string
	if err := again.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	for _, id := range acked {
		if _, err := again.Customer(ctx, id); err != nil {
			t.Fatalf("acknowledged customer %s: %v", id, err)
		}
	}
	t.Logf("%d writes acknowledged, all in the file; %d refused while the files were away", n, r)
}

// TestWALRemoved removes only the WAL, which holds the latest commits:
// the store stops, then checkpoints what its open WAL holds into the
// database file and carries on, losing nothing.
func TestWALRemoved(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	db := openManual(t, path)
	var fs []fixture
	for i := range 10 {
		fs = append(fs, addFixture(t, db, fmt.Sprint(i)))
	}
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	wantUnavailable(t, "a write after the WAL was removed", db.CreateSkill(ctx, &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "No"}))
	checkUntilUp(t, db)
	fs = append(fs, addFixture(t, db, "after"))
	db.Close()

	again := openPath(t, path)
	for _, f := range fs {
		if name, err := f.access(again); err != nil || name != f.customer.Profile.Name {
			t.Fatalf("customer %s after the WAL was removed: %q, %v", f.customer.ID, name, err)
		}
	}
}

// TestReplacedWithLeftovers puts another database in place of the open
// one, leaving the old one's WAL and index: SQLite would apply them to the
// new file, so the store waits until they are removed.
func TestReplacedWithLeftovers(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "profileapi.db")
	db := openManual(t, path)
	old := addFixture(t, db, "Old")

	otherPath := filepath.Join(dir, "other.db")
	other := openPath(t, otherPath)
	replacement := addFixture(t, other, "Replacement")
	other.Close()
	if err := os.Rename(otherPath, path); err != nil {
		t.Fatal(err)
	}

	for range 4 {
		db.check(ctx)
	}
	err := db.Ping(ctx)
	wantUnavailable(t, "Ping with the old WAL beside the new file", err)
	if !strings.Contains(err.Error(), "remove them") {
		t.Fatalf("Ping: %v, want it to say what to remove", err)
	}

	for _, s := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + s); err != nil {
			t.Fatal(err)
		}
	}
	checkUntilUp(t, db)
	if name, err := replacement.access(db); err != nil || name != "Replacement" {
		t.Fatalf("Access to the new file's customer: %q, %v", name, err)
	}
	if _, err := old.access(db); !profileapi.IsNotFound(err) {
		t.Fatalf("Access to the old file's customer: %v, want ENOTFOUND", err)
	}
}

// TestUnusableReplacement: an empty file, another SQLite database and a
// half-copied backup are not taken for the database, nor changed.
func TestUnusableReplacement(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profileapi.db")
	db := openManual(t, path)
	f := addFixture(t, db, "Kept")
	// Enough rows that the file is many pages long.
	for i := range 200 {
		addFixture(t, db, strings.Repeat(fmt.Sprint(i), 100))
	}
	saved := backup(t, db)
	removeFiles(t, path)
	db.check(ctx)

	foreign := filepath.Join(t.TempDir(), "foreign.db")
	foreignDB := openPath(t, foreign)
	if _, err := foreignDB.write.ExecContext(ctx, `DROP TABLE schema_migrations`); err != nil {
		t.Fatal(err)
	}
	foreignDB.Close()

	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty", nil, "not a SQLite database"},
		{"text", []byte("not a database at all, but long enough to have a header of a hundred bytes......................."), "not a SQLite database"},
		{"half copied", data[:len(data)/2], "still being copied"},
		{"no schema_migrations", mustRead(t, foreign), "not a profileapi database"},
	} {
		if err := os.WriteFile(path, tt.content, 0o600); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			db.check(ctx)
		}
		err := db.Ping(ctx)
		wantUnavailable(t, tt.name, err)
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want it to say %q", tt.name, err, tt.want)
		}
		if got, _ := os.ReadFile(path); string(got) != string(tt.content) {
			t.Errorf("%s: the file was changed", tt.name)
		}
		removeFiles(t, path)
	}

	copyFile(t, saved, path)
	checkUntilUp(t, db)
	if name, err := f.access(db); err != nil || name != "Kept" {
		t.Fatalf("Access after the restore: %q, %v", name, err)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWatchdogStops: Close ends the watchdog's goroutine.
func TestWatchdogStops(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 10 {
		db, err := Open(t.Context(), filepath.Join(t.TempDir(), "profileapi.db"))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after 10 Open/Close, %d before", runtime.NumGoroutine(), before)
		}
	}
}

// TestUnwritable makes the database really unwritable, which chmod does
// not for root: a full disk (a small tmpfs) and an immutable file (chattr
// +i). Writes are EUNAVAILABLE, reads go on, and writes succeed again once
// the disk has room or the file is writable. It needs root; it skips where
// mount or chattr are refused.
func TestUnwritable(t *testing.T) {
	t.Run("DiskFull", func(t *testing.T) {
		dir := mountTmpfs(t, "2m")
		db := openManual(t, filepath.Join(dir, "profileapi.db"))
		f := addFixture(t, db, "Kept")
		filler := filepath.Join(dir, "filler")
		fillDisk(t, filler)
		testUnwritable(t, db, f, func() {
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("Immutable", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "profileapi.db")
		db := openManual(t, path)
		f := addFixture(t, db, "Kept")
		files := []string{path, path + "-wal"}
		if out, err := exec.Command("chattr", append([]string{"+i"}, files...)...).CombinedOutput(); err != nil {
			t.Skipf("chattr +i: %v: %s", err, out)
		}
		undo := func() {
			if out, err := exec.Command("chattr", append([]string{"-i"}, files...)...).CombinedOutput(); err != nil {
				t.Fatalf("chattr -i: %v: %s", err, out)
			}
		}
		t.Cleanup(func() { exec.Command("chattr", append([]string{"-i"}, files...)...).Run() })
		testUnwritable(t, db, f, undo)
	})
}

// testUnwritable writes until a write fails, checks how, then calls fix
// and writes again.
func testUnwritable(t *testing.T, db *DB, f fixture, fix func()) {
	ctx := t.Context()
	var acked []string
	var err error
	for i := 0; i < 10_000 && err == nil; i++ {
		c := &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.RegionFE, Profile: profileapi.Profile{Name: strings.Repeat("x", 500)}}
		if err = db.CreateCustomer(ctx, c); err == nil {
			acked = append(acked, c.ID)
		}
	}
	t.Logf("after %d writes: %v", len(acked), err)
	wantUnavailable(t, "a write that cannot be written", err)
	if name, err := f.access(db); err != nil || name != "Kept" {
		t.Fatalf("Access while unwritable: %q, %v", name, err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping while unwritable: %v (reads work: the store should stay up)", err)
	}

	fix()
	after := &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.RegionFE}
	if err := db.CreateCustomer(ctx, after); err != nil {
		t.Fatalf("a write once writable again: %v", err)
	}
	for _, id := range append(acked, after.ID) {
		if _, err := db.Customer(ctx, id); err != nil {
			t.Fatalf("acknowledged customer %s: %v", id, err)
		}
	}
}

// mountTmpfs mounts a tmpfs of the size for the test, or skips.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount -t tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes to path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
}
