package profileapi_test

import (
	"testing"

	"github.com/profileapi/profileapi"
)

// FuzzPhoneNumber feeds arbitrary country codes and numbers to the write-time
// check: it must never panic, and what it accepts must be plain.
func FuzzPhoneNumber(f *testing.F) {
	for _, seed := range [][2]string{
		{"+91", "+917799827710"}, {"+91", "7799827710"}, {"+91", "+91 7799 82 77 11"}, {"+91", "+91 7799-82-77-11"},
		{"+1", "(415) 555-0132"}, {"001", "4155550132"}, {"1", "415.555.0132"}, {"+44", "07911 123456"},
		{"", ""}, {"+", "+"}, {"+999", "1"}, {"91", "++91"}, {"+91", "7799827710\x00"}, {"+49", "0151 23456789 ext 5"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, cc, number string) {
		n := profileapi.PhoneNumber{CountryCode: cc, PhoneNumber: number}
		if err := n.Validate(); err != nil {
			if profileapi.ErrorKind(err) != profileapi.EINVALID {
				t.Fatalf("rejection of kind %s: %v", profileapi.ErrorKind(err), err)
			}
			return
		}
		for _, r := range number {
			if !(r >= '0' && r <= '9' || r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '+') {
				t.Fatalf("accepted %q with %q", number, r)
			}
		}
	})
}

// FuzzProfile checks names and emails: never a panic, always EINVALID.
func FuzzProfile(f *testing.F) {
	f.Add("John Smith", "John", "jsmith@example.com")
	f.Add(" John", "\x00", "John <j@example.com>")
	f.Add("Zoë", "Łukasz", "a+b@example.co.uk")
	f.Fuzz(func(t *testing.T, name, given, email string) {
		err := profileapi.Profile{Name: name, GivenName: given, Email: email}.Validate()
		if err != nil && profileapi.ErrorKind(err) != profileapi.EINVALID {
			t.Fatalf("kind %s: %v", profileapi.ErrorKind(err), err)
		}
	})
}

func TestPhoneNumberVariants(t *testing.T) {
	valid := [][2]string{
		{"+91", "+917799827710"}, {"+91", "7799827710"}, {"+91", "+91 7799 82 77 11"}, {"+91", "+91 7799-82-77-11"},
		{"91", "7799-82-77-11"}, {"0091", "7799827710"}, {"+1", "(415) 555-0132"}, {"001", "415-555-0132"}, {"1", "4155550132"},
		{"+1", "+1 (415) 555-0132"}, {"+1", "415.555.0132"}, {"+44", "(+44) 20 7946 0958"}, {"+1", " +1 201 555 0123"},
	}
	for _, v := range valid {
		if err := (profileapi.PhoneNumber{CountryCode: v[0], PhoneNumber: v[1]}).Validate(); err != nil {
			t.Errorf("%q %q: %v", v[0], v[1], err)
		}
	}
	invalid := [][2]string{
		{"+91", "12"}, {"+91", "+1 415 555 0132"}, {"+999", "7799827710"}, {"", "7799827710"}, {"+91", ""},
		{"+91", "7799827710x"}, {"++91", "7799827710"}, {"+1", "555-0132"}, {"+91", "0000000000"},
		// libphonenumber reads past these to the digits.
		{"+1", "++12015550123"}, {"+1", "((((2015550123"}, {"+1", "(201))555-0123"}, {"+1", ")201(555-0123"},
		{"+1", "((201)) 555-0123"}, {"+1", "2015550123+"}, {"+1", "1+2015550123"}, {"+1", "(201 555-0123"},
		// Separators around nothing.
		{"+1", "( )2015550123"}, {"+1", "()2015550123"}, {"+1", "201 - - - 555 0123"}, {"+1", "201-555-0123."},
		{"+1", "-2015550123"}, {"+1", "201--555-0123"}, {"+1", "(201-)555-0123"},
	}
	for _, v := range invalid {
		if err := (profileapi.PhoneNumber{CountryCode: v[0], PhoneNumber: v[1]}).Validate(); err == nil {
			t.Errorf("%q %q: accepted", v[0], v[1])
		}
	}
}

// What a customer could not have, though the standards parse it: a name
// of nothing visible, or that turns the text around it; an address at a
// host without a dot, an IP literal or a label that cannot be; a calling
// code written with both + and 00.
func TestProfileRefusesTheInvisible(t *testing.T) {
	for _, name := range []string{"\u200b\u200b", "\u202e\u2066", "Ann\u202eA", "Ann\u2028Lee", "\ufeffAnn", "\u200c"} {
		if err := (profileapi.Profile{Name: name}).Validate(); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	for _, name := range []string{"John Smith", "Zoë", "می\u200cخواهم", "👩\u200d💻 Ada", "李"} {
		if err := (profileapi.Profile{Name: name}).Validate(); err != nil {
			t.Errorf("name %q: %v", name, err)
		}
	}
	for _, email := range []string{"a@b", "a@[127.0.0.1]", "a@-ex.com", "a@ex-.com", "a@ex_com", "a@ex..com", "a@.ex.com"} {
		if err := profileapi.ValidateEmail(email); err == nil {
			t.Errorf("email %q accepted", email)
		}
	}
	for _, email := range []string{"jsmith@example.com", "a+b@mail.example.co.uk", "x@müller.de", "x@xn--mller-kva.de", "x@1example.com"} {
		if err := profileapi.ValidateEmail(email); err != nil {
			t.Errorf("email %q: %v", email, err)
		}
	}
	for _, cc := range []string{"+001", "0001", "+01", "00"} {
		if err := (profileapi.PhoneNumber{CountryCode: cc, PhoneNumber: "2015550123"}).Validate(); err == nil {
			t.Errorf("country code %q accepted", cc)
		}
	}
}
