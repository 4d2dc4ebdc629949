package profileapi

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Scope is a permission a skill declares and a customer grants.
type Scope string

// The four scopes of the Customer Profile API.
const (
	ScopeName         Scope = "alexa::profile:name:read"
	ScopeGivenName    Scope = "alexa::profile:given_name:read"
	ScopeEmail        Scope = "alexa::profile:email:read"
	ScopeMobileNumber Scope = "alexa::profile:mobile_number:read"
)

// allScopes is in bit order: the i-th scope is bit i of a ScopeSet.
var allScopes = [...]Scope{ScopeName, ScopeGivenName, ScopeEmail, ScopeMobileNumber}

// ParseScope accepts one of the four scope names exactly.
func ParseScope(s string) (Scope, error) {
	for _, sc := range allScopes {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", Errorf(EINVALID, "unknown scope %q: want one of %s", s, strings.Join(scopeNames(), ", "))
}

func scopeNames() []string {
	names := make([]string, len(allScopes))
	for i, sc := range allScopes {
		names[i] = string(sc)
	}
	return names
}

func (s Scope) bit() ScopeSet {
	for i, sc := range allScopes {
		if sc == s {
			return 1 << i
		}
	}
	return 0
}

// ScopeSet is a set of scopes as a bit mask: cheap to store, compare and
// check on the request path, and unable to hold an unknown scope.
type ScopeSet uint8

// AllScopes holds every scope.
const AllScopes ScopeSet = 1<<len(allScopes) - 1

// NewScopeSet returns the set of the given scopes.
func NewScopeSet(scopes ...Scope) ScopeSet {
	var set ScopeSet
	for _, s := range scopes {
		set |= s.bit()
	}
	return set
}

// ParseScopes parses scope names into a set, rejecting unknown names.
func ParseScopes(names []string) (ScopeSet, error) {
	var set ScopeSet
	for _, n := range names {
		s, err := ParseScope(n)
		if err != nil {
			return 0, err
		}
		set |= s.bit()
	}
	return set, nil
}

// Has reports whether s is in the set.
func (set ScopeSet) Has(s Scope) bool { return set&s.bit() != 0 && s.bit() != 0 }

// Contains reports whether every scope of other is in set.
func (set ScopeSet) Contains(other ScopeSet) bool { return other&^set == 0 }

// Scopes lists the set's scopes in a stable order.
func (set ScopeSet) Scopes() []Scope {
	out := []Scope{}
	for i, sc := range allScopes {
		if set&(1<<i) != 0 {
			out = append(out, sc)
		}
	}
	return out
}

// MarshalJSON writes the set as a list of scope names.
func (set ScopeSet) MarshalJSON() ([]byte, error) { return json.Marshal(set.Scopes()) }

// UnmarshalJSON reads a list of scope names; an unknown name is an EINVALID error.
func (set *ScopeSet) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return Errorf(EINVALID, "scopes must be a list of strings")
	}
	s, err := ParseScopes(names)
	if err != nil {
		return err
	}
	*set = s
	return nil
}

// String joins the scope names with commas.
func (set ScopeSet) String() string {
	var b strings.Builder
	for i, sc := range set.Scopes() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(sc))
	}
	return b.String()
}

// Field is a setting of the profile that the public API serves.
type Field uint8

// The four fields, each read under its own scope.
const (
	FieldName Field = iota + 1
	FieldGivenName
	FieldEmail
	FieldMobileNumber
)

// Fields lists every field in a stable order.
var Fields = []Field{FieldName, FieldGivenName, FieldEmail, FieldMobileNumber}

// ParseField accepts the setting names of the public API path, such as
// "Profile.email".
func ParseField(s string) (Field, bool) {
	switch s {
	case "Profile.name":
		return FieldName, true
	case "Profile.givenName":
		return FieldGivenName, true
	case "Profile.email":
		return FieldEmail, true
	case "Profile.mobileNumber":
		return FieldMobileNumber, true
	}
	return 0, false
}

// String is the setting name as it appears in the public API path.
func (f Field) String() string {
	switch f {
	case FieldName:
		return "Profile.name"
	case FieldGivenName:
		return "Profile.givenName"
	case FieldEmail:
		return "Profile.email"
	case FieldMobileNumber:
		return "Profile.mobileNumber"
	}
	return fmt.Sprintf("Field(%d)", uint8(f))
}

// Scope is the scope a customer must grant for a skill to read the field.
func (f Field) Scope() Scope {
	switch f {
	case FieldName:
		return ScopeName
	case FieldGivenName:
		return ScopeGivenName
	case FieldEmail:
		return ScopeEmail
	case FieldMobileNumber:
		return ScopeMobileNumber
	}
	return ""
}
