package admin_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/servertest"
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
		{"a null body", `null`, profile(number("+1", "(415) 555-0132")), `the body must be a JSON object, not null`},
		{"an unknown member", `{"profile":{"mobileNumber":{"number":"1"}}}`, profile(number("+1", "(415) 555-0132")), `unknown field "number"`},
		// encoding/json would take these for "email" and "phoneNumber".
		{"names are case-sensitive", `{"profile":{"Email":null}}`, profile(number("+1", "(415) 555-0132")), `unknown field "Email" in profile: names are case-sensitive; did you mean "email"?`},
		{"in the number too", `{"Profile":{"mobileNumber":{"PhoneNumber":"1"}}}`, profile(number("+1", "(415) 555-0132")), `unknown field "Profile"`},
		{"and its members", `{"profile":{"mobileNumber":{"PHONENUMBER":"1"}}}`, profile(number("+1", "(415) 555-0132")), `unknown field "PHONENUMBER" in profile.mobileNumber`},
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

// TestTextStoredAsSent: a name in invalid UTF-8, or with half a surrogate
// pair, is refused rather than stored with U+FFFD in its place, through
// POST and the NDJSON import alike.
func TestTextStoredAsSent(t *testing.T) {
	adm := newAdmin(t)
	for _, body := range []string{
		"{\"id\":\"amzn1.ask.account.UTF\",\"region\":\"NA\",\"profile\":{\"name\":\"A\xff\xfeB\"}}",
		`{"id":"amzn1.ask.account.UTF","region":"NA","profile":{"name":"A\ud800B"}}`,
	} {
		if r := send(t, adm, "POST", "/admin/v1/customers", body); r.Status != 400 || !strings.Contains(r.Body, "INVALID_REQUEST") {
			t.Errorf("POST %q: %d %s, want 400", body, r.Status, r.Body)
		}
		if r := send(t, adm, "POST", "/admin/v1/import", body+"\n"); r.Status != 400 || !strings.Contains(r.Body, "line 1") {
			t.Errorf("import %q: %d %s, want 400 naming line 1", body, r.Status, r.Body)
		}
		if r := send(t, adm, "GET", "/admin/v1/customers/amzn1.ask.account.UTF", ""); r.Status != 404 {
			t.Fatalf("the customer was stored: %d %s", r.Status, r.Body)
		}
	}
	if r := send(t, adm, "POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.UTF","region":"NA","profile":{"name":"Zo\u00eb \ud83d\ude00"}}`); r.Status != 201 || !strings.Contains(r.Body, "Zoë 😀") {
		t.Errorf("a valid pair: %d %s", r.Status, r.Body)
	}
}

// TestPatchMemberTwice: a member given twice in a PATCH is the last one, as
// encoding/json takes every other field, never a removal and a value
// merged into one.
func TestPatchMemberTwice(t *testing.T) {
	adm := newAdmin(t)
	const path = "/admin/v1/customers/amzn1.ask.account.TWICE"
	seed(t, adm, "/admin/v1/customers", `{"id":"amzn1.ask.account.TWICE","region":"NA","profile":{"name":"Ann Lee","givenName":"Ann","email":"ann@example.com","mobileNumber":{"countryCode":"+1","phoneNumber":"2015550123"}}}`)
	for _, c := range []struct{ patch, want string }{
		{`{"profile":null,"profile":{"email":"new@example.com"}}`, `{"name":"Ann Lee","givenName":"Ann","email":"new@example.com","mobileNumber":{"countryCode":"+1","phoneNumber":"2015550123"}}`},
		{`{"profile":{"mobileNumber":null,"mobileNumber":{"phoneNumber":"2015550124"}}}`, `{"name":"Ann Lee","givenName":"Ann","email":"new@example.com","mobileNumber":{"countryCode":"+1","phoneNumber":"2015550124"}}`},
		{`{"profile":{"email":"x@example.com","email":null}}`, `{"name":"Ann Lee","givenName":"Ann","mobileNumber":{"countryCode":"+1","phoneNumber":"2015550124"}}`},
	} {
		r := send(t, adm, "PATCH", path, c.patch)
		if r.Status != 200 {
			t.Fatalf("PATCH %s: %d %s", c.patch, r.Status, r.Body)
		}
		var got struct{ Profile json.RawMessage }
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil || string(got.Profile) != c.want {
			t.Errorf("PATCH %s: profile %s, want %s", c.patch, got.Profile, c.want)
		}
	}
}

// TestPatchUpdatedAt: updatedAt says when the customer last changed, so a
// PATCH that changes nothing (an empty one, or one of the values stored)
// leaves it, and one that changes a value moves it.
func TestPatchUpdatedAt(t *testing.T) {
	clock := servertest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := servertest.Start(t, servertest.Options{AdminKey: testKey, Now: clock.Now})
	srv.Store.Now = clock.Now // which stamps updatedAt
	adm := srv.AdminURL
	const path = "/admin/v1/customers/amzn1.ask.account.STAMP"
	seed(t, adm, "/admin/v1/customers", `{"id":"amzn1.ask.account.STAMP","region":"NA","profile":{"name":"Ann Lee","email":"ann@example.com"}}`)
	updatedAt := func(r servertest.Response) string {
		t.Helper()
		var c struct{ UpdatedAt string }
		if err := json.Unmarshal([]byte(r.Body), &c); err != nil || r.Status != 200 || c.UpdatedAt == "" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		return c.UpdatedAt
	}
	created := updatedAt(send(t, adm, "GET", path, ""))
	clock.Add(time.Second)
	for _, patch := range []string{`{}`, `{"profile":{}}`, `{"region":"NA","profile":{"name":"Ann Lee"}}`, `{"profile":{"givenName":null}}`} {
		if got := updatedAt(send(t, adm, "PATCH", path, patch)); got != created {
			t.Errorf("PATCH %s: updatedAt %s, want %s as before", patch, got, created)
		}
	}
	if got := updatedAt(send(t, adm, "PATCH", path, `{"profile":{"givenName":"Ann"}}`)); got != "2026-03-01T12:00:01Z" {
		t.Errorf("a PATCH that changed the given name: updatedAt %s, want the clock's 2026-03-01T12:00:01Z (created %s)", got, created)
	}
}
