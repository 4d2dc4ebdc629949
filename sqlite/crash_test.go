package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

// crashDBEnv names the database file TestKill9 runs its writer process on.
const crashDBEnv = "PROFILEAPI_SQLITE_CRASH_DB"

// TestKill9 kills a process that is writing, with SIGKILL, and checks that
// every write it acknowledged is in the file and the file is intact.
func TestKill9(t *testing.T) {
	if path := os.Getenv(crashDBEnv); path != "" {
		writeUntilKilled(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "profileapi.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	var acknowledged []string
	for len(acknowledged) < 300 && lines.Scan() {
		acknowledged = append(acknowledged, lines.Text())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // acknowledged before the kill, read after it
		acknowledged = append(acknowledged, lines.Text())
	}
	cmd.Wait()
	if len(acknowledged) < 300 {
		t.Fatalf("the writer acknowledged only %d writes before it stopped", len(acknowledged))
	}

	db := openPath(t, path)
	var check string
	if err := db.read.QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after kill -9: %q, %v", check, err)
	}
	for i, id := range acknowledged {
		c, err := db.Customer(t.Context(), id)
		if err != nil {
			t.Fatalf("acknowledged write %d of %d lost after kill -9: %v", i, len(acknowledged), err)
		}
		if c.Profile.Name != fmt.Sprint(i) {
			t.Fatalf("acknowledged write %d: customer named %q, want %q", i, c.Profile.Name, fmt.Sprint(i))
		}
	}
	t.Logf("%d acknowledged writes survived kill -9", len(acknowledged))
}

// writeUntilKilled creates customers, writing each id to stdout once
// CreateCustomer has returned, and then a consent, so that the process dies
// at a random point of a write. It gives up after a minute.
func writeUntilKilled(path string) {
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Crash", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(ctx, sk); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i, start := 0, time.Now(); time.Since(start) < time.Minute; i++ {
		c := &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: fmt.Sprint(i)}}
		if err := db.CreateCustomer(ctx, c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(c.ID)
		if err := db.PutConsent(ctx, &profileapi.Consent{CustomerID: c.ID, SkillID: sk.ID, Scopes: profileapi.AllScopes}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(1)
}
