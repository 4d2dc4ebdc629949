package admin_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/profileapi/profileapi"
)

// TestPatchCustomerMergesMobileNumber: a PATCH is a JSON merge patch (RFC
// 7396) down to the mobile number's members: a member left out keeps its
// value, null removes it, and the merged customer is validated whole. The
// steps run in order, each on what the one before left.
func TestPatchCustomerMergesMobileNumber(t *testing.T) {
	adm := newAdmin(t)
	const path = "/admin/v1/customers/amzn1.ask.account.MERGE"
	seed(t, adm, "/admin/v1/customers", `{"id":"amzn1.ask.account.MERGE","region":"EU","profile":{"name":"John Smith","email":"j@example.com","mobileNumber":{"countryCode":"+91","phoneNumber":"7799827710"}}}`)
	number := func(cc, n string) *profileapi.PhoneNumber {
		return &profileapi.PhoneNumber{CountryCode: cc, PhoneNumber: n}
	}
	profile := func(n *profileapi.PhoneNumber) profileapi.Profile {
		return profileapi.Profile{Name: "John Smith", Email: "j@example.com", MobileNumber: n}
	}
	for _, step := range []struct {
		name, patch string
		want        profileapi.Profile // after the step; unchanged if it is refused
		message     string             // the start of the 400's message, if refused
	}{
		{"the phone number alone keeps the country code", `{"profile":{"mobileNumber":{"phoneNumber":"7799827711"}}}`, profile(number("+91", "7799827711")), ""},
		{"the country code alone keeps the phone number", `{"profile":{"mobileNumber":{"countryCode":"0091"}}}`, profile(number("0091", "7799827711")), ""},
		{"the merged number is validated", `{"profile":{"mobileNumber":{"countryCode":"+49"}}}`, profile(number("0091", "7799827711")), `mobileNumber.phoneNumber "7799827711" is not a valid number for country code +49`},
		{"both members", `{"profile":{"mobileNumber":{"countryCode":"+1","phoneNumber":"(415) 555-0132"}}}`, profile(number("+1", "(415) 555-0132")), ""},
		{"null removes a member", `{"profile":{"mobileNumber":{"countryCode":null}}}`, profile(number("+1", "(415) 555-0132")), `mobileNumber.countryCode "" is not a country calling code`},
		{"an unknown member", `{"profile":{"mobileNumber":{"number":"1"}}}`, profile(number("+1", "(415) 555-0132")), `unknown field "number"`},
		{"other members leave the number", `{"profile":{"email":"new@example.com"}}`, profileapi.Profile{Name: "John Smith", Email: "new@example.com", MobileNumber: number("+1", "(415) 555-0132")}, ""},
		{"null removes the number", `{"profile":{"mobileNumber":null,"email":"j@example.com"}}`, profile(nil), ""},
		{"a number cannot start without its country code", `{"profile":{"mobileNumber":{"phoneNumber":"7799827711"}}}`, profile(nil), `mobileNumber.countryCode "" is not a country calling code`},
		{"a new number", `{"profile":{"mobileNumber":{"countryCode":"+44","phoneNumber":"07911 123456"}}}`, profile(number("+44", "07911 123456")), ""},
	} {
		rec := send(t, adm, "PATCH", path, step.patch)
		if step.message == "" && rec.Status != 200 || step.message != "" && (rec.Status != 400 || !strings.HasPrefix(rec.Error.Message, step.message)) {
			t.Fatalf("%s: PATCH %s: %d %s", step.name, step.patch, rec.Status, rec.Body)
		}
		var c profileapi.Customer
		if err := json.Unmarshal([]byte(send(t, adm, "GET", path, "").Body), &c); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Profile, step.want) {
			t.Fatalf("%s: after PATCH %s the profile is %+v (mobile %+v), want %+v (mobile %+v)", step.name, step.patch, c.Profile, c.Profile.MobileNumber, step.want, step.want.MobileNumber)
		}
	}
}
