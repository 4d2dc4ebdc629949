package api_test

import (
	"encoding/json"
	"testing"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
)

// The bodies are written by hand; they are what encoding/json wrote
// before, for values that need escaping too.
func TestValueBodiesMatchEncodingJSON(t *testing.T) {
	for _, wire := range []api.Wire{api.WireDocumented, api.WireAlexa} {
		f := newFixture(t, wire)
		f.skill("amzn1.ask.skill.v", profileapi.AllScopes)
		p := profileapi.Profile{
			Name:         `Zoë "Z" <O'Brien> & Müller`,
			GivenName:    "Zoë\u2028",
			Email:        "z<o>&e@example.com",
			MobileNumber: &profileapi.PhoneNumber{CountryCode: "+91", PhoneNumber: "+91 7799-82-77-11"},
		}
		f.customer("amzn1.ask.account.V", profileapi.RegionNA, p)
		f.grant("amzn1.ask.account.V", "amzn1.ask.skill.v", profileapi.AllScopes)
		tok := f.mint("amzn1.ask.account.V", "amzn1.ask.skill.v", profileapi.RegionNA, 0)
		for field, want := range map[string]any{
			"Profile.name":         map[string]string{"name": p.Name},
			"Profile.givenName":    map[string]string{"name": p.GivenName},
			"Profile.email":        map[string]string{"email": p.Email},
			"Profile.mobileNumber": p.MobileNumber,
		} {
			if m, ok := want.(map[string]string); ok && wire == api.WireAlexa {
				for _, v := range m {
					want = v
				}
			}
			b, _ := json.Marshal(want)
			if r := f.get(settings+field, tok); r.status != 200 || r.body != string(b) {
				t.Errorf("%s %s: %d %s, want %s", wire, field, r.status, r.body, b)
			}
		}
	}
}
