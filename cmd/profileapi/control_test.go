package main

import (
	"encoding/json"
	"testing"
)

// TestCustomersUpdateSendsOnlyWhatWasGiven: `customers update` patches only
// the mobile number's members given as flags, so a new phone number keeps
// the country code stored, and an empty value removes the number.
func TestCustomersUpdateSendsOnlyWhatWasGiven(t *testing.T) {
	in := start(t, t.TempDir())
	const id = "amzn1.ask.account.UPDATE"
	type mobile struct{ CountryCode, PhoneNumber string }
	number := func(args ...string) *mobile {
		t.Helper()
		out, err := in.cli(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var c struct {
			Profile struct {
				MobileNumber *mobile
			}
		}
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
		return c.Profile.MobileNumber
	}
	number("customers", "create", "--id", id, "--region", "FE", "--country-code", "+91", "--phone-number", "7799827710")
	if n := number("customers", "update", id, "--phone-number", "7799827711"); n == nil || *n != (mobile{"+91", "7799827711"}) {
		t.Fatalf("after --phone-number: %+v, want +91 7799827711", n)
	}
	if n := number("customers", "update", id, "--country-code", "0091"); n == nil || *n != (mobile{"0091", "7799827711"}) {
		t.Fatalf("after --country-code: %+v, want 0091 7799827711", n)
	}
	if n := number("customers", "update", id, "--phone-number", ""); n != nil {
		t.Fatalf("after --phone-number \"\": %+v, want no number", n)
	}
}
