package storetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

func testCustomerProfiles(t *testing.T, s profileapi.Store) {
	profiles := map[string]profileapi.Profile{
		"full":                 newCustomer("").Profile,
		"empty":                {},
		"no mobile number":     {Name: "Jane Smith", GivenName: "Jane", Email: "jsmith@example.com"},
		"only a mobile number": {MobileNumber: &profileapi.PhoneNumber{CountryCode: "001", PhoneNumber: "+1 (206) 555-0100"}},
		"unicode": {
			Name:         "山田 太郎 👩🏽‍💻 Zoë Łukasz-Ó'Brien",
			GivenName:    "Ελένη",
			Email:        "zoë@例え.jp",
			MobileNumber: &profileapi.PhoneNumber{CountryCode: "91", PhoneNumber: "+91 7799-82-77-11"},
		},
		"longest name": {Name: strings.Repeat("ü", 128), GivenName: strings.Repeat("x", 256)},
		"quotes":       {Name: `Robert'); DROP TABLE customers;--`, GivenName: `"Bobby" \ %_`},
	}
	want := map[string]*profileapi.Customer{}
	i := 0
	for what, p := range profiles {
		c := newCustomer(profileapi.NewCustomerID())
		c.Region = profileapi.Regions[i%len(profileapi.Regions)]
		c.Profile = p
		createCustomer(t, s, c)
		want[what] = c
		i++
	}
	for what, w := range want {
		got, err := s.Customer(t.Context(), w.ID)
		if err != nil {
			t.Fatalf("Customer(%s) with a %s profile: %v", w.ID, what, err)
		}
		t.Logf("a %s profile", what)
		checkCustomer(t, got, w)
	}
}

func testCustomerTimes(t *testing.T, s profileapi.Store) {
	c := newCustomer(profileapi.NewCustomerID())
	c.CreatedAt = t0
	c.UpdatedAt = time.Date(2199, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("PST", -8*3600))
	want := *c
	createCustomer(t, s, c)
	got, err := s.Customer(t.Context(), c.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	checkCustomer(t, got, &want)
}

func testCustomerZeroTimes(t *testing.T, s profileapi.Store) {
	c := newCustomer(profileapi.NewCustomerID())
	c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{}
	createCustomer(t, s, c)
	if c.CreatedAt.IsZero() || c.UpdatedAt.IsZero() {
		t.Fatalf("CreateCustomer left zero times zero: CreatedAt %v, UpdatedAt %v", c.CreatedAt, c.UpdatedAt)
	}
	if c.UpdatedAt.Before(c.CreatedAt) {
		t.Fatalf("UpdatedAt %v is before CreatedAt %v", c.UpdatedAt, c.CreatedAt)
	}
	got, err := s.Customer(t.Context(), c.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	checkCustomer(t, got, c)
}

func testCustomerDuplicate(t *testing.T, s profileapi.Store) {
	first := newCustomer(profileapi.NewCustomerID())
	createCustomer(t, s, first)
	second := newCustomer(first.ID)
	second.Region = profileapi.RegionFE
	second.Profile = profileapi.Profile{Name: "Impostor"}
	wantKind(t, "CreateCustomer with a taken id", s.CreateCustomer(t.Context(), second), profileapi.ECONFLICT)
	got, err := s.Customer(t.Context(), first.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	checkCustomer(t, got, first)
}

func testCustomerMissing(t *testing.T, s profileapi.Store) {
	createCustomer(t, s, newCustomer(profileapi.NewCustomerID()))
	id := profileapi.NewCustomerID()
	_, err := s.Customer(t.Context(), id)
	checkNotFound(t, "Customer of a missing customer", err)
	checkNotFound(t, "DeleteCustomer of a missing customer", s.DeleteCustomer(t.Context(), id))
}

// update runs UpdateCustomer, checks that what it returns is what is
// stored, and returns it.
func update(t *testing.T, s profileapi.Store, id string, fn func(*profileapi.Customer)) *profileapi.Customer {
	t.Helper()
	updated, err := s.UpdateCustomer(t.Context(), id, func(c *profileapi.Customer) error {
		fn(c)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	stored, err := s.Customer(t.Context(), id)
	if err != nil {
		t.Fatalf("Customer after UpdateCustomer: %v", err)
	}
	checkCustomer(t, stored, updated)
	return updated
}

func testCustomerUpdate(t *testing.T, s profileapi.Store) {
	c := newCustomer(profileapi.NewCustomerID())
	createCustomer(t, s, c)
	other := newCustomer(profileapi.NewCustomerID())
	createCustomer(t, s, other)

	var seen profileapi.Customer
	got := update(t, s, c.ID, func(c *profileapi.Customer) {
		seen = *c
		c.Region = profileapi.RegionNA
		c.Profile.Name = "José Ñúñez"
		c.Profile.GivenName = "José"
		c.Profile.Email = "jose@example.org"
	})
	t.Log("fn is given the stored customer")
	checkCustomer(t, &seen, c)

	want := *c
	want.Region = profileapi.RegionNA
	want.Profile = profileapi.Profile{Name: "José Ñúñez", GivenName: "José", Email: "jose@example.org", MobileNumber: c.Profile.MobileNumber}
	want.UpdatedAt = got.UpdatedAt // stamped by the store; checked in UpdateUpdatedAt
	checkCustomer(t, got, &want)

	t.Log("the other customer is unchanged")
	stored, err := s.Customer(t.Context(), other.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	checkCustomer(t, stored, other)
}

func testCustomerUpdateMobileNumber(t *testing.T, s profileapi.Store) {
	c := newCustomer(profileapi.NewCustomerID())
	c.Profile.MobileNumber = nil
	createCustomer(t, s, c)
	for _, mobile := range []*profileapi.PhoneNumber{
		{CountryCode: "+1", PhoneNumber: "206-555-0100"},
		nil,
		{CountryCode: "0091", PhoneNumber: "+917799827710"},
		{CountryCode: "+91", PhoneNumber: "7799827710"},
		nil,
	} {
		got := update(t, s, c.ID, func(c *profileapi.Customer) { c.Profile.MobileNumber = mobile })
		want := c.Profile
		want.MobileNumber = mobile
		checkProfile(t, got.Profile, want)
	}
}

func testCustomerUpdateUpdatedAt(t *testing.T, s profileapi.Store) {
	c := newCustomer(profileapi.NewCustomerID())
	c.CreatedAt, c.UpdatedAt = t0, t0
	createCustomer(t, s, c)

	got := update(t, s, c.ID, func(c *profileapi.Customer) { c.Profile.Name = "Renée" })
	if !got.UpdatedAt.After(t0) {
		t.Errorf("UpdatedAt = %v after an update that left it alone, want it set to now", got.UpdatedAt)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, t0)

	t1 := t0.Add(48 * time.Hour)
	got = update(t, s, c.ID, func(c *profileapi.Customer) { c.UpdatedAt = t1 })
	checkTime(t, "UpdatedAt set by fn", got.UpdatedAt, t1)
	checkTime(t, "CreatedAt", got.CreatedAt, t0)

	t.Log("an update that writes the values stored leaves UpdatedAt")
	got = update(t, s, c.ID, func(c *profileapi.Customer) { c.Profile.Name = "Renée" })
	checkTime(t, "UpdatedAt after no change", got.UpdatedAt, t1)

	t.Log("one that changes the mobile number in place is a change")
	got = update(t, s, c.ID, func(c *profileapi.Customer) {
		c.Profile.MobileNumber.CountryCode = "+44"
		c.Profile.MobileNumber.PhoneNumber = "07911 123456"
	})
	if !got.UpdatedAt.After(t1) {
		t.Errorf("UpdatedAt = %v after the mobile number changed in place, want it set to now", got.UpdatedAt)
	}
}

func testCustomerUpdateAborted(t *testing.T, s profileapi.Store) {
	c := newCustomer(profileapi.NewCustomerID())
	createCustomer(t, s, c)
	_, err := s.UpdateCustomer(t.Context(), c.ID, func(c *profileapi.Customer) error {
		c.Region = profileapi.RegionFE
		c.Profile = profileapi.Profile{Name: "Changed"}
		c.UpdatedAt = c.UpdatedAt.Add(time.Hour)
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("UpdateCustomer whose fn fails: got %v, want fn's error", err)
	}
	_, err = s.UpdateCustomer(t.Context(), c.ID, func(c *profileapi.Customer) error {
		c.Profile.Email = "changed@example.com"
		return profileapi.Errorf(profileapi.EINVALID, "no")
	})
	wantKind(t, "UpdateCustomer whose fn fails with EINVALID", err, profileapi.EINVALID)

	got, err := s.Customer(t.Context(), c.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	checkCustomer(t, got, c)
}

func testCustomerUpdateID(t *testing.T, s profileapi.Store) {
	c := newCustomer(profileapi.NewCustomerID())
	createCustomer(t, s, c)
	newID := profileapi.NewCustomerID()
	_, err := s.UpdateCustomer(t.Context(), c.ID, func(c *profileapi.Customer) error {
		c.ID = newID
		c.Profile.Name = "Changed"
		return nil
	})
	wantKind(t, "UpdateCustomer that changes the id", err, profileapi.EINVALID)
	got, err := s.Customer(t.Context(), c.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	checkCustomer(t, got, c)
	_, err = s.Customer(t.Context(), newID)
	checkNotFound(t, "Customer of the id fn set", err)
}

func testCustomerUpdateMissing(t *testing.T, s profileapi.Store) {
	createCustomer(t, s, newCustomer(profileapi.NewCustomerID()))
	called := false
	_, err := s.UpdateCustomer(t.Context(), profileapi.NewCustomerID(), func(*profileapi.Customer) error {
		called = true
		return nil
	})
	checkNotFound(t, "UpdateCustomer of a missing customer", err)
	if called {
		t.Fatal("UpdateCustomer called fn for a missing customer")
	}
}

// testCustomerConcurrentUpdates has n writers each add one letter to the
// name: a lost update drops a letter.
func testCustomerConcurrentUpdates(t *testing.T, s profileapi.Store) {
	const n = 20
	c := newCustomer(profileapi.NewCustomerID())
	c.Profile.Name = ""
	createCustomer(t, s, c)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.UpdateCustomer(t.Context(), c.ID, func(c *profileapi.Customer) error {
				c.Profile.Name += string(rune('a' + i))
				return nil
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent UpdateCustomer: %v", err)
	}
	got, err := s.Customer(t.Context(), c.ID)
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	letters := []rune(got.Profile.Name)
	slices.Sort(letters)
	if want := "abcdefghijklmnopqrst"; string(letters) != want {
		t.Fatalf("after %d concurrent updates, each adding a letter, name is %q (%d letters), want the letters of %q", n, got.Profile.Name, len(letters), want)
	}
}

func testCustomerDelete(t *testing.T, s profileapi.Store) {
	gone := newCustomer(profileapi.NewCustomerID())
	kept := newCustomer(profileapi.NewCustomerID())
	createCustomer(t, s, gone)
	createCustomer(t, s, kept)
	if err := s.DeleteCustomer(t.Context(), gone.ID); err != nil {
		t.Fatalf("DeleteCustomer: %v", err)
	}
	_, err := s.Customer(t.Context(), gone.ID)
	checkNotFound(t, "Customer after DeleteCustomer", err)
	checkNotFound(t, "DeleteCustomer twice", s.DeleteCustomer(t.Context(), gone.ID))
	_, err = s.UpdateCustomer(t.Context(), gone.ID, func(*profileapi.Customer) error { return nil })
	checkNotFound(t, "UpdateCustomer after DeleteCustomer", err)

	got, err := s.Customer(t.Context(), kept.ID)
	if err != nil {
		t.Fatalf("Customer of the other customer: %v", err)
	}
	checkCustomer(t, got, kept)
}
