package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/postgres/pgtest"
	"github.com/profileapi/profileapi/storetest"
)

func TestFormatError(t *testing.T) {
	pgErr := func(code string) error { return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code}) }
	tests := []struct {
		err  error
		kind string
	}{
		{pgx.ErrNoRows, profileapi.ENOTFOUND},
		{pgErr("23505"), profileapi.ECONFLICT},
		{pgErr("23503"), profileapi.ENOTFOUND},
		{pgErr("57P01"), profileapi.EUNAVAILABLE}, // admin_shutdown
		{pgErr("57P03"), profileapi.EUNAVAILABLE}, // cannot_connect_now
		{pgErr("57014"), profileapi.EUNAVAILABLE}, // query_canceled
		{pgErr("08006"), profileapi.EUNAVAILABLE}, // connection_failure
		{pgErr("53300"), profileapi.EUNAVAILABLE}, // too_many_connections
		{pgErr("40001"), profileapi.EUNAVAILABLE}, // serialization_failure
		{pgErr("25006"), profileapi.EUNAVAILABLE}, // read_only_sql_transaction
		{pgErr("42P01"), profileapi.EUNAVAILABLE}, // undefined_table: the schema is gone, until Ping
		{pgErr("42703"), profileapi.EINTERNAL},    // undefined_column: a bug
		{pgErr("22021"), profileapi.EINVALID},     // character_not_in_repertoire
		{pgErr("22008"), profileapi.EINVALID},     // datetime_field_overflow
		{pgErr("23514"), profileapi.EINTERNAL},    // check_violation: a bug
		{context.DeadlineExceeded, profileapi.EUNAVAILABLE},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), profileapi.EUNAVAILABLE},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, profileapi.EUNAVAILABLE},
		{pgconn.ErrConnClosed, profileapi.EUNAVAILABLE},
		{errors.New("something else"), profileapi.EINTERNAL},
		{profileapi.Errorf(profileapi.EINVALID, "kept"), profileapi.EINVALID},
	}
	for _, tt := range tests {
		err := formatError(tt.err)
		if got := profileapi.ErrorKind(err); got != tt.kind {
			t.Errorf("formatError(%v) is %s, want %s", tt.err, got, tt.kind)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("formatError(%v) = %v, which lost the cause", tt.err, err)
		}
		if tt.kind == profileapi.EUNAVAILABLE {
			var e *profileapi.Error
			if errors.As(err, &e); e.RetryAfter <= 0 {
				t.Errorf("formatError(%v) has no RetryAfter", tt.err)
			}
		}
	}
	if formatError(nil) != nil {
		t.Error("formatError(nil) is not nil")
	}
}

// callsUnavailable makes one call of each kind and checks that each fails
// with EUNAVAILABLE within limit.
func callsUnavailable(t *testing.T, db *DB, c *profileapi.Customer, sk *profileapi.Skill, limit time.Duration) {
	t.Helper()
	ctx := context.Background() // no deadline of its own: the store must bound the call
	calls := map[string]func() error{
		"Access": func() error { _, err := db.Access(ctx, c.ID, sk.ID); return err },
		"Ping":   func() error { return db.Ping(ctx) },
		"PutConsent": func() error {
			return db.PutConsent(ctx, &profileapi.Consent{CustomerID: c.ID, SkillID: sk.ID, Scopes: profileapi.AllScopes})
		},
		"UpdateCustomer": func() error {
			_, err := db.UpdateCustomer(ctx, c.ID, func(*profileapi.Customer) error { return nil })
			return err
		},
		"SigningKeys": func() error { _, err := db.SigningKeys(ctx); return err },
		"ImportCustomers": func() error {
			more, consents := storetest.Generate(10, sk.ID)
			return db.ImportCustomers(ctx, more, consents)
		},
	}
	// At once, as requests come to a busy node.
	var wg sync.WaitGroup
	for name, call := range calls {
		wg.Go(func() {
			start := time.Now()
			err := call()
			took := time.Since(start)
			if kind := profileapi.ErrorKind(err); kind != profileapi.EUNAVAILABLE {
				t.Errorf("%s: %v (kind %s), want EUNAVAILABLE", name, err, kind)
				return
			}
			var e *profileapi.Error
			if errors.As(err, &e); e.RetryAfter <= 0 {
				t.Errorf("%s: EUNAVAILABLE without a RetryAfter", name)
			}
			if took > limit {
				t.Errorf("%s failed after %v, want within %v", name, took, limit)
			}
			t.Logf("%s: EUNAVAILABLE after %v", name, took.Round(time.Millisecond))
		})
	}
	wg.Wait()
}

// recovers waits for the same *DB to serve again, without reopening it.
func recovers(t *testing.T, db *DB, c *profileapi.Customer, sk *profileapi.Skill) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		a, err := db.Access(context.Background(), c.ID, sk.ID)
		if err == nil {
			if a.Customer.ID != c.ID {
				t.Fatalf("Access after recovery: customer %s, want %s", a.Customer.ID, c.ID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not recover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Fatalf("Ping after recovery: %v", err)
	}
	if err := db.PutConsent(context.Background(), &profileapi.Consent{CustomerID: c.ID, SkillID: sk.ID, Scopes: profileapi.AllScopes}); err != nil {
		t.Fatalf("PutConsent after recovery: %v", err)
	}
}

func outageFixture(t *testing.T) (*pgtest.Cluster, *DB, *profileapi.Customer, *profileapi.Skill) {
	cluster := pgtest.StartCluster(t)
	db := openURL(t, cluster.URL)
	c := &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "Outage"}}
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Outage", Permissions: profileapi.AllScopes}
	if err := db.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSkill(t.Context(), sk); err != nil {
		t.Fatal(err)
	}
	// Fill the pool with several connections, as a busy node's would be.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := db.Access(t.Context(), c.ID, sk.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return cluster, db, c, sk
}

// TestOutageStopped stops the server under an open store: every call fails
// fast with EUNAVAILABLE, and the same store serves again once the server
// is back.
func TestOutageStopped(t *testing.T) {
	cluster, db, c, sk := outageFixture(t)
	cluster.Stop(t)
	callsUnavailable(t, db, c, sk, 1500*time.Millisecond)
	t.Log("and again, once the pool has no connection left")
	callsUnavailable(t, db, c, sk, 1500*time.Millisecond)
	cluster.Start(t)
	recovers(t, db, c, sk)
}

// TestOutageFrozen freezes the server: connections stay open but nothing
// answers, so only the store's own timeouts can end a call.
func TestOutageFrozen(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for timeouts")
	}
	cluster, db, c, sk := outageFixture(t)
	cluster.Freeze(t)
	thawed := false
	defer func() {
		if !thawed {
			cluster.Thaw(t)
		}
	}()
	callsUnavailable(t, db, c, sk, DefaultCallTimeout+500*time.Millisecond)

	t.Log("a caller's sooner deadline is kept")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.Access(ctx, c.ID, sk.ID)
	if profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE || time.Since(start) > time.Second {
		t.Errorf("Access with a 300ms deadline: %v after %v, want EUNAVAILABLE at once", err, time.Since(start))
	}
	cluster.Thaw(t)
	thawed = true
	recovers(t, db, c, sk)
}
