package profileapi

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Profile is a customer's contact information: the account's active default
// profile, which may not be the person speaking. An empty value is absent.
type Profile struct {
	Name         string       `json:"name,omitempty"`
	GivenName    string       `json:"givenName,omitempty"`
	Email        string       `json:"email,omitempty"`
	MobileNumber *PhoneNumber `json:"mobileNumber,omitempty"`
}

// Equal reports whether p and q hold the same values.
func (p Profile) Equal(q Profile) bool {
	if (p.MobileNumber == nil) != (q.MobileNumber == nil) || p.MobileNumber != nil && *p.MobileNumber != *q.MobileNumber {
		return false
	}
	return p.Name == q.Name && p.GivenName == q.GivenName && p.Email == q.Email
}

// PhoneNumber is a mobile number as the customer entered it. The number may
// itself carry the country code; by itself it is a valid number for dialing.
type PhoneNumber struct {
	CountryCode string `json:"countryCode"`
	PhoneNumber string `json:"phoneNumber"`
}

const (
	maxNameLen  = 256
	maxEmailLen = 254 // RFC 5321's limit on a forward path
	maxPhoneLen = 32
)

// Validate reports the first invalid value of the profile as EINVALID.
func (p Profile) Validate() error {
	if err := validateName("profile.name", p.Name); err != nil {
		return err
	}
	if err := validateName("profile.givenName", p.GivenName); err != nil {
		return err
	}
	if err := ValidateEmail(p.Email); err != nil {
		return err
	}
	if p.MobileNumber != nil {
		return p.MobileNumber.Validate()
	}
	return nil
}

// validateName checks a name; field is where the body holds it (a
// customer's profile.name, a skill's name), for the message to point at.
func validateName(field, s string) error {
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) || len(s) > maxNameLen {
		return Errorf(EINVALID, "%s must be valid UTF-8 of at most %d bytes", field, maxNameLen)
	}
	if strings.TrimSpace(s) != s {
		return Errorf(EINVALID, "%s must not start or end with white space", field)
	}
	visible := false
	for _, r := range s {
		if unicode.IsControl(r) {
			return Errorf(EINVALID, "%s must not contain control characters", field)
		}
		if invisibleMark(r) {
			return Errorf(EINVALID, "%s must not contain text-direction overrides, line separators, zero-width spaces or byte order marks", field)
		}
		visible = visible || unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r)
	}
	if !visible {
		// A skill would greet the customer by nothing, taking it for a name.
		return Errorf(EINVALID, "%s must have a visible character", field)
	}
	return nil
}

// invisibleMark reports whether r changes how the text around it shows, or
// shows nothing, in a way no name needs: the bidirectional embeddings,
// overrides and isolates, line and paragraph separators, the zero-width
// space and the byte order mark. The joiners (U+200C, U+200D) stay: Persian
// names and emoji need them.
func invisibleMark(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
		r == 0x2028, r == 0x2029, r == 0x200B, r == 0xFEFF:
		return true
	}
	return false
}

// ValidateEmail accepts a bare RFC 5322 address, such as jsmith@example.com,
// without a display name; the empty string means absent and is accepted.
func ValidateEmail(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > maxEmailLen {
		return Errorf(EINVALID, "profile.email must be at most %d bytes", maxEmailLen)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || !mailDomain(s[strings.LastIndexByte(s, '@')+1:]) {
		return Errorf(EINVALID, "profile.email %q is not a plain email address such as jsmith@example.com", s)
	}
	return nil
}

// mailDomain reports whether d is a domain name mail can go to: dotted
// labels of letters, digits and hyphens, none at a label's ends. RFC 5322
// also takes "b" and "[127.0.0.1]", which no customer's address has.
func mailDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
				return false
			}
		}
	}
	return true
}

// Validate checks that the country code is a real calling code, written as
// "+91", "0091" or "91", and that the phone number is a valid number for it,
// whether or not the number repeats the country code ("+917799827710",
// "7799827710", "+91 7799-82-77-11"). The values are kept as entered.
func (n PhoneNumber) Validate() error {
	cc, ok := callingCode(n.CountryCode)
	if !ok {
		return Errorf(EINVALID, "mobileNumber.countryCode %q is not a country calling code such as +1, 001 or 1", n.CountryCode)
	}
	num := n.PhoneNumber
	if num == "" || len(num) > maxPhoneLen || !phoneShape(num) {
		return Errorf(EINVALID, "mobileNumber.phoneNumber must be 1 to %d digits, spaces, dashes, dots or parentheses in pairs, optionally starting with +", maxPhoneLen)
	}
	region := phonenumbers.GetRegionCodeForCountryCode(cc)
	if strings.HasPrefix(num, "+") {
		region = "ZZ" // the number names its own country code
	}
	parsed, err := phonenumbers.Parse(num, region)
	if err != nil || int(parsed.GetCountryCode()) != cc || !phonenumbers.IsValidNumber(parsed) {
		return Errorf(EINVALID, "mobileNumber.phoneNumber %q is not a valid number for country code %s", num, n.CountryCode)
	}
	return nil
}

// phoneShape reports whether num is written as a number is dialled: digits,
// spaces, dashes and dots, one + before the first digit ("+44 20…",
// "(+44) 20…"), parentheses in pairs around something, none in another, a
// dash or dot only between digits or parentheses ("206 - 555" is fine,
// "206 - - 555" and "555-0100." are not). libphonenumber reads past "++1",
// "((((" and "( )" to the digits, and would let them be stored and served
// as entered.
func phoneShape(num string) bool {
	open, plus, digits := false, false, false
	inside := false // something in the open parentheses
	mark := false   // a dash or dot since the last digit or parenthesis
	for _, r := range num {
		switch {
		case r >= '0' && r <= '9':
			digits, inside, mark = true, true, false
		case r == ' ':
		case r == '-' || r == '.':
			if mark || !digits && !plus && !open {
				return false
			}
			mark = true
		case r == '+' && !plus && !digits:
			plus, inside = true, true
		case r == '(' && !open:
			open, inside, mark = true, false, false
		case r == ')' && open && inside && !mark:
			open = false
		default:
			return false
		}
	}
	return !open && !mark
}

// callingCode parses "+91", "0091" or "91" into 91, if it is assigned.
func callingCode(s string) (int, bool) {
	digits := strings.TrimPrefix(s, "+")
	if digits == s {
		digits = strings.TrimPrefix(s, "00")
	}
	// No calling code starts with 0: "+001" and "0001" are no way of
	// writing +1.
	if len(digits) == 0 || len(digits) > 3 || digits[0] == '0' {
		return 0, false
	}
	cc := 0
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, false
		}
		cc = cc*10 + int(r-'0')
	}
	if phonenumbers.GetRegionCodeForCountryCode(cc) == "ZZ" {
		return 0, false
	}
	return cc, true
}
