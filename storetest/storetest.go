// Package storetest is the conformance suite that every profileapi.Store
// runs unchanged, so that the SQLite and PostgreSQL stores cannot drift
// apart: what the rest of the service relies on is pinned down here once.
//
// Beyond what the Store interface documents, the suite holds a store to this:
//
//   - Times come back in UTC and within a millisecond of what was stored.
//   - A zero CreatedAt (of a skill, customer or signing key) or UpdatedAt (of
//     a customer or consent) is set by the store's clock, and written back
//     into the value passed in.
//   - UpdateCustomer sets UpdatedAt by the store's clock unless fn changed
//     it, and refuses to change a customer's id with EINVALID.
//   - A customer without a mobile number reads back with a nil MobileNumber.
//   - UpdateSkill keeps a consent it narrows to no scope, granting none.
//   - DeleteSigningKeys removes only keys created strictly before its time.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

// Run runs the suite. open must return a new, empty store for each subtest
// and close it when the subtest ends (t.Cleanup). The store's clock must read
// the present, or at least a time after March 2024.
func Run(t *testing.T, open func(t *testing.T) profileapi.Store) {
	tests := []struct {
		name string
		test func(*testing.T, profileapi.Store)
	}{
		{"Ping", testPing},

		{"Skill/CreateAndRead", testSkillCreateAndRead},
		{"Skill/ZeroCreatedAt", testSkillZeroCreatedAt},
		{"Skill/Duplicate", testSkillDuplicate},
		{"Skill/Missing", testSkillMissing},
		{"Skill/List", testSkillList},
		{"Skill/Delete", testSkillDelete},
		{"Skill/Update", testSkillUpdate},
		{"Skill/ConcurrentCreate", testSkillConcurrentCreate},

		{"Customer/Profiles", testCustomerProfiles},
		{"Customer/Times", testCustomerTimes},
		{"Customer/ZeroTimes", testCustomerZeroTimes},
		{"Customer/Duplicate", testCustomerDuplicate},
		{"Customer/Missing", testCustomerMissing},
		{"Customer/Update", testCustomerUpdate},
		{"Customer/UpdateMobileNumber", testCustomerUpdateMobileNumber},
		{"Customer/UpdateUpdatedAt", testCustomerUpdateUpdatedAt},
		{"Customer/UpdateAborted", testCustomerUpdateAborted},
		{"Customer/UpdateID", testCustomerUpdateID},
		{"Customer/UpdateMissing", testCustomerUpdateMissing},
		{"Customer/ConcurrentUpdates", testCustomerConcurrentUpdates},
		{"Customer/Delete", testCustomerDelete},

		{"Consent/PutAndRead", testConsentPutAndRead},
		{"Consent/Replace", testConsentReplace},
		{"Consent/UnknownCustomerOrSkill", testConsentUnknownCustomerOrSkill},
		{"Consent/PerPair", testConsentPerPair},
		{"Consent/Delete", testConsentDelete},
		{"Consent/DeleteCustomerCascades", testConsentDeleteCustomerCascades},
		{"Consent/DeleteSkillCascades", testConsentDeleteSkillCascades},

		{"Access/NoConsent", testAccessNoConsent},
		{"Access/Granted", testAccessGranted},
		{"Access/Missing", testAccessMissing},
		{"Access/PerPair", testAccessPerPair},
		{"Access/AfterRevoke", testAccessAfterRevoke},
		{"Access/AfterUpdate", testAccessAfterUpdate},

		{"Errors/NameNoCustomer", testErrorsNameNoCustomer},

		{"List/EachCustomer", testEachCustomer},

		{"Import/ReplacesConsents", testImportReplacesConsents},

		{"SigningKey/AddAndList", testSigningKeyAddAndList},
		{"SigningKey/ZeroCreatedAt", testSigningKeyZeroCreatedAt},
		{"SigningKey/Duplicate", testSigningKeyDuplicate},
		{"SigningKey/DeleteBefore", testSigningKeyDeleteBefore},

		{"ConcurrentWriters", testConcurrentWriters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open(t)) })
	}
}

func testPing(t *testing.T, s profileapi.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// t0 is a fixed time to store, chosen off the millisecond and outside UTC so
// that a store must convert and keep at least milliseconds.
var t0 = time.Date(2024, 3, 1, 12, 30, 45, 123_456_789, time.FixedZone("IST", 5*3600+1800))

// wantKind fails the test unless err is a profileapi error of the kind.
func wantKind(t *testing.T, what string, err error, kind string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want %s", what, kind)
	}
	if got := profileapi.ErrorKind(err); got != kind {
		t.Fatalf("%s: got %v (kind %s), want kind %s", what, err, got, kind)
	}
}

// checkTime reports got unless it is in UTC and within a millisecond of want.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d <= -time.Millisecond || d >= time.Millisecond {
		t.Errorf("%s = %v, want %v to the millisecond", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s = %v, want it in UTC", what, got)
	}
}

func checkSkill(t *testing.T, got, want *profileapi.Skill) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Permissions != want.Permissions {
		t.Errorf("skill = {%q %q %v}, want {%q %q %v}", got.ID, got.Name, got.Permissions, want.ID, want.Name, want.Permissions)
	}
	checkTime(t, "skill.CreatedAt", got.CreatedAt, want.CreatedAt)
}

func checkCustomer(t *testing.T, got, want *profileapi.Customer) {
	t.Helper()
	if got.ID != want.ID || got.Region != want.Region {
		t.Errorf("customer = {%q %q}, want {%q %q}", got.ID, got.Region, want.ID, want.Region)
	}
	checkProfile(t, got.Profile, want.Profile)
	checkTime(t, "customer.CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "customer.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkProfile(t *testing.T, got, want profileapi.Profile) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile = %s, want %s", showProfile(got), showProfile(want))
	}
}

func showProfile(p profileapi.Profile) string {
	mobile := "nil"
	if p.MobileNumber != nil {
		mobile = fmt.Sprintf("{%q %q}", p.MobileNumber.CountryCode, p.MobileNumber.PhoneNumber)
	}
	return fmt.Sprintf("{name %q, givenName %q, email %q, mobileNumber %s}", p.Name, p.GivenName, p.Email, mobile)
}

func newSkill(id string, permissions profileapi.ScopeSet) *profileapi.Skill {
	return &profileapi.Skill{ID: id, Name: "Daily Horoscopes", Permissions: permissions, CreatedAt: t0}
}

func newCustomer(id string) *profileapi.Customer {
	return &profileapi.Customer{
		ID:     id,
		Region: profileapi.RegionEU,
		Profile: profileapi.Profile{
			Name:         "Renée Müller",
			GivenName:    "Renée",
			Email:        "renee@example.com",
			MobileNumber: &profileapi.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799827710"},
		},
		CreatedAt: t0,
		UpdatedAt: t0.Add(time.Hour),
	}
}

func createSkill(t *testing.T, s profileapi.Store, sk *profileapi.Skill) {
	t.Helper()
	if err := s.CreateSkill(t.Context(), sk); err != nil {
		t.Fatalf("CreateSkill(%s): %v", sk.ID, err)
	}
}

func createCustomer(t *testing.T, s profileapi.Store, c *profileapi.Customer) {
	t.Helper()
	if err := s.CreateCustomer(t.Context(), c); err != nil {
		t.Fatalf("CreateCustomer(%s): %v", c.ID, err)
	}
}

func putConsent(t *testing.T, s profileapi.Store, customerID, skillID string, scopes profileapi.ScopeSet) {
	t.Helper()
	if err := s.PutConsent(t.Context(), &profileapi.Consent{CustomerID: customerID, SkillID: skillID, Scopes: scopes}); err != nil {
		t.Fatalf("PutConsent(%s, %s): %v", customerID, skillID, err)
	}
}

// checkNotFound fails the test unless err is ENOTFOUND.
func checkNotFound(t *testing.T, what string, err error) {
	t.Helper()
	wantKind(t, what, err, profileapi.ENOTFOUND)
}

// errAbort is what a test's update function returns to abort the update.
var errAbort = errors.New("storetest: abort the update")
