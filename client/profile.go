package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Scope is a permission a skill declares in its manifest and a customer
// grants it. Its string is what goes in the permissions list of an
// AskForPermissionsConsent card.
type Scope string

// The scopes of the Customer Profile API, one per operation.
const (
	ScopeName         Scope = "alexa::profile:name:read"          // Client.Name
	ScopeGivenName    Scope = "alexa::profile:given_name:read"    // Client.GivenName
	ScopeEmail        Scope = "alexa::profile:email:read"         // Client.Email
	ScopeMobileNumber Scope = "alexa::profile:mobile_number:read" // Client.MobileNumber
)

// setting is the path element of the operation the scope allows.
func (s Scope) setting() string {
	switch s {
	case ScopeName:
		return opName.setting
	case ScopeGivenName:
		return opGivenName.setting
	case ScopeEmail:
		return opEmail.setting
	case ScopeMobileNumber:
		return opMobileNumber.setting
	}
	return ""
}

// PhoneNumber is a customer's mobile number as they entered it. PhoneNumber
// may itself start with the country code ("+917799827710") or not
// ("7799-82-77-11"); either way it is a valid number for dialing.
type PhoneNumber struct {
	CountryCode string `json:"countryCode"` // such as "+91", "001" or "1"
	PhoneNumber string `json:"phoneNumber"` // such as "7799-82-77-11" or "+917799827710"
}

// operation is one read of the API.
type operation struct {
	setting string   // the last path element
	scope   Scope    // what the customer must have granted
	keys    []string // where a documented-mode object keeps a string value
}

var (
	opName         = operation{"Profile.name", ScopeName, []string{"name"}}
	opGivenName    = operation{"Profile.givenName", ScopeGivenName, []string{"name", "givenName"}}
	opEmail        = operation{"Profile.email", ScopeEmail, []string{"email"}}
	opMobileNumber = operation{"Profile.mobileNumber", ScopeMobileNumber, nil}
)

// Name returns the customer's full name, such as "John Smith". It needs
// ScopeName.
func (c *Client) Name(ctx context.Context) (string, error) {
	return c.getString(ctx, opName)
}

// GivenName returns the customer's given (first) name, such as "John". It
// needs ScopeGivenName.
func (c *Client) GivenName(ctx context.Context) (string, error) {
	return c.getString(ctx, opGivenName)
}

// Email returns the customer's email address, such as
// "jsmith@example.com". It needs ScopeEmail.
func (c *Client) Email(ctx context.Context) (string, error) {
	return c.getString(ctx, opEmail)
}

// MobileNumber returns the customer's mobile number. It needs
// ScopeMobileNumber.
func (c *Client) MobileNumber(ctx context.Context) (PhoneNumber, error) {
	body, err := c.get(ctx, opMobileNumber)
	if err != nil {
		return PhoneNumber{}, err
	}
	n, err := decodePhoneNumber(body)
	if err != nil {
		return PhoneNumber{}, fmt.Errorf("client: %s: decode response: %w", opMobileNumber.setting, err)
	}
	if n.PhoneNumber == "" {
		return PhoneNumber{}, fmt.Errorf("client: %s: %w", opMobileNumber.setting, ErrNoValue)
	}
	return n, nil
}

func (c *Client) getString(ctx context.Context, op operation) (string, error) {
	body, err := c.get(ctx, op)
	if err != nil {
		return "", err
	}
	s, err := decodeString(body, op.keys)
	if err != nil {
		return "", fmt.Errorf("client: %s: decode response: %w", op.setting, err)
	}
	if s == "" {
		return "", fmt.Errorf("client: %s: %w", op.setting, ErrNoValue)
	}
	return s, nil
}

// errEmptyBody is a 200 without a body.
var errEmptyBody = errors.New("a 200 answer without a body")

// decodeString reads a 200 body of either wire mode: a bare JSON string
// (alexa) or an object keeping the value under one of keys (documented).
// "" or a null member is no value: it returns "" and no error. An empty
// body or a bare null is an error: neither mode answers a missing value so
// (alexa answers 204, documented 404), and a catch-all route or a broken
// proxy must not pass for a customer without one.
func decodeString(body []byte, keys []string) (string, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", errEmptyBody
	}
	switch body[0] {
	case '"':
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return "", err
		}
		for _, k := range keys {
			if raw, ok := obj[k]; ok {
				var s *string
				if err := json.Unmarshal(raw, &s); err != nil {
					return "", fmt.Errorf("%q: %w", k, err)
				}
				if s == nil {
					return "", nil
				}
				return *s, nil
			}
		}
		return "", fmt.Errorf("object has no %q member", keys[0])
	}
	return "", errors.New("want a JSON string or object")
}

// decodePhoneNumber reads a 200 body of either wire mode, which agree on
// the object. An empty body or a bare null is an error, as for
// decodeString.
func decodePhoneNumber(body []byte) (PhoneNumber, error) {
	body = bytes.TrimSpace(body)
	var n PhoneNumber
	if len(body) == 0 {
		return PhoneNumber{}, errEmptyBody
	}
	if body[0] != '{' {
		return PhoneNumber{}, errors.New("want a JSON object with countryCode and phoneNumber")
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return PhoneNumber{}, err
	}
	// Unmarshal skips members it does not know: an object without
	// phoneNumber is another body (a misrouted call), not an absent value.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return PhoneNumber{}, err
	}
	if _, ok := members["phoneNumber"]; !ok {
		return PhoneNumber{}, errors.New(`object has no "phoneNumber" member`)
	}
	return n, nil
}
