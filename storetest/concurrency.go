package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/profileapi/profileapi"
)

// testConcurrentWriters runs every kind of write from several goroutines at
// once, with reads in between: none may fail, nor any be lost.
func testConcurrentWriters(t *testing.T, s profileapi.Store) {
	const n = 8
	shared := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	createSkill(t, s, shared)
	customers := make([]*profileapi.Customer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		customers[i] = newCustomer(profileapi.NewCustomerID())
		wg.Go(func() { errs[i] = writeEverything(t, s, i, customers[i], shared) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent writers: %v", err)
	}

	skills, err := s.Skills(t.Context())
	if err != nil {
		t.Fatalf("Skills: %v", err)
	}
	if len(skills) != n+1 {
		t.Errorf("Skills: got %d, want %d", len(skills), n+1)
	}
	keys, err := s.SigningKeys(t.Context())
	if err != nil {
		t.Fatalf("SigningKeys: %v", err)
	}
	if len(keys) != n {
		t.Errorf("SigningKeys: got %d, want %d", len(keys), n)
	}
	for i, c := range customers {
		a := access(t, s, c.ID, shared.ID)
		if want := fmt.Sprintf("Writer %d", i); a.Customer.Profile.Name != want {
			t.Errorf("customer %d: name %q, want %q", i, a.Customer.Profile.Name, want)
		}
		checkScopes(t, fmt.Sprintf("customer %d: Granted", i), a.Granted, scopeOf(i))
	}
}

func scopeOf(i int) profileapi.ScopeSet { return 1 << (i % 4) }

func writeEverything(t *testing.T, s profileapi.Store, i int, c *profileapi.Customer, shared *profileapi.Skill) error {
	ctx := t.Context()
	own := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	steps := []func() error{
		func() error { return s.CreateCustomer(ctx, c) },
		func() error { return s.CreateSkill(ctx, own) },
		func() error {
			return s.PutConsent(ctx, &profileapi.Consent{CustomerID: c.ID, SkillID: own.ID, Scopes: profileapi.AllScopes})
		},
		func() error {
			return s.PutConsent(ctx, &profileapi.Consent{CustomerID: c.ID, SkillID: shared.ID, Scopes: scopeOf(i)})
		},
		func() error {
			_, err := s.UpdateCustomer(ctx, c.ID, func(c *profileapi.Customer) error {
				c.Profile.Name = fmt.Sprintf("Writer %d", i)
				return nil
			})
			return err
		},
		func() error {
			return s.AddSigningKey(ctx, &profileapi.SigningKey{ID: fmt.Sprintf("key-%d", i), Secret: []byte{byte(i)}})
		},
		func() error {
			a, err := s.Access(ctx, c.ID, own.ID)
			if err == nil && a.Granted != profileapi.AllScopes {
				err = fmt.Errorf("access granted [%v], want every scope", a.Granted)
			}
			return err
		},
		func() error { return s.DeleteConsent(ctx, c.ID, own.ID) },
	}
	for step, do := range steps {
		if err := do(); err != nil {
			return fmt.Errorf("writer %d, step %d: %w", i, step, err)
		}
	}
	return nil
}
