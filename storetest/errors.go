package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/profileapi/profileapi"
)

// testErrorsNameNoCustomer: an error a store call fails with (here a
// canceled context, as a client gone or a database away would make it) is
// logged whole when it is answered with a 5xx. A customer id is personal
// data, kept out of the logs: the error must not name it.
func testErrorsNameNoCustomer(t *testing.T, s profileapi.Store) {
	c, sk := fixture(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fresh := newCustomer(profileapi.NewCustomerID())
	for name, call := range map[string]func() error{
		"CreateCustomer": func() error { return s.CreateCustomer(ctx, fresh) },
		"Customer":       func() error { _, err := s.Customer(ctx, c.ID); return err },
		"UpdateCustomer": func() error {
			_, err := s.UpdateCustomer(ctx, c.ID, func(*profileapi.Customer) error { return nil })
			return err
		},
		"UpdateCustomer midway": func() error {
			// Canceled once the customer is read: the write fails.
			ctx, cancel := context.WithCancel(context.Background())
			_, err := s.UpdateCustomer(ctx, c.ID, func(c *profileapi.Customer) error {
				cancel()
				c.Profile.GivenName = "Changed"
				return nil
			})
			return err
		},
		"DeleteCustomer": func() error { return s.DeleteCustomer(ctx, c.ID) },
		"PutConsent": func() error {
			return s.PutConsent(ctx, &profileapi.Consent{CustomerID: c.ID, SkillID: sk.ID, Scopes: profileapi.AllScopes})
		},
		"Consent":       func() error { _, err := s.Consent(ctx, c.ID, sk.ID); return err },
		"DeleteConsent": func() error { return s.DeleteConsent(ctx, c.ID, sk.ID) },
		"Access":        func() error { _, err := s.Access(ctx, c.ID, sk.ID); return err },
	} {
		err := call()
		switch {
		case err == nil:
			t.Errorf("%s with a canceled context: no error", name)
		case strings.Contains(err.Error(), c.ID) || strings.Contains(err.Error(), fresh.ID):
			t.Errorf("%s: the error names the customer: %v", name, err)
		}
	}
}
