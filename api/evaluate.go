package api

import (
	"net/http"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

// The messages of the two 403s, as the live service words them.
const (
	reasonNotRequested = "Access denied with reason: ACCESS_NOT_REQUESTED"
	reasonForbidden    = "Access denied with reason: FORBIDDEN"
)

// Decide is the access decision of one request, once the token is
// verified and the access loaded: nil if the skill may read the field at
// the region's endpoint. The handler and Evaluate both use it, so what
// Evaluate says is what a request gets.
func Decide(access *profileapi.Access, region profileapi.Region, field profileapi.Field) error {
	switch {
	case access.Customer.Region != region:
		return profileapi.Errorf(profileapi.EUNAUTHORIZED, "the customer of this token no longer lives in region %s", region)
	case !access.Declared.Has(field.Scope()):
		return &profileapi.Error{Kind: profileapi.EFORBIDDEN, Code: "ACCESS_DENIED", Message: reasonForbidden}
	case !access.Granted.Has(field.Scope()):
		return &profileapi.Error{Kind: profileapi.EFORBIDDEN, Code: "ACCESS_DENIED", Message: reasonNotRequested}
	}
	return nil
}

// Outcome is what one operation would answer, and why.
type Outcome struct {
	Operation string           `json:"operation"`
	Scope     profileapi.Scope `json:"scope"`
	Declared  bool             `json:"declared"`
	Granted   bool             `json:"granted"`
	ValueSet  bool             `json:"valueSet"`
	Status    int              `json:"status"`
	Code      string           `json:"code,omitempty"`
	Why       string           `json:"why"`
}

// Evaluate says what each of the four operations would answer right now
// for a token of this customer and skill at the customer's own endpoint.
func Evaluate(access *profileapi.Access, wire Wire) []Outcome {
	out := make([]Outcome, 0, len(profileapi.Fields))
	for _, f := range profileapi.Fields {
		o := Outcome{
			Operation: f.String(),
			Scope:     f.Scope(),
			Declared:  access.Declared.Has(f.Scope()),
			Granted:   access.Granted.Has(f.Scope()),
			ValueSet:  hasValue(&access.Customer.Profile, f),
		}
		err := Decide(access, access.Customer.Region, f)
		switch {
		case err != nil:
			o.Status, o.Code = web.Status(err)
			if o.Declared {
				o.Why = "the customer has not granted " + string(f.Scope()) + " to this skill (or revoked it)"
			} else {
				o.Why = "the skill does not declare " + string(f.Scope())
			}
		case !o.ValueSet && wire == WireAlexa:
			o.Status, o.Why = http.StatusNoContent, "granted, but the customer has no value for "+f.String()
		case !o.ValueSet:
			o.Status, o.Code, o.Why = http.StatusNotFound, "NOT_FOUND", "granted, but the customer has no value for "+f.String()
		default:
			o.Status, o.Why = http.StatusOK, "declared, granted and set"
		}
		out = append(out, o)
	}
	return out
}

func hasValue(p *profileapi.Profile, f profileapi.Field) bool {
	switch f {
	case profileapi.FieldName:
		return p.Name != ""
	case profileapi.FieldGivenName:
		return p.GivenName != ""
	case profileapi.FieldEmail:
		return p.Email != ""
	case profileapi.FieldMobileNumber:
		return p.MobileNumber != nil
	}
	return false
}
