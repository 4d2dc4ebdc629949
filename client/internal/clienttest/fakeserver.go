package clienttest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/profileapi/profileapi/client"
)

// FakeServer mimics the public API of a profileapi server for one skill and
// one customer, answering as spec/API.md says: the bodies of both wire
// modes, and 401, 403, 404 and 405 with their codes and messages. It
// stands in for the real server (package api) in the client's own tests,
// which must not import it; client/internal/realserver runs the same
// contract against the real one.
type FakeServer struct {
	Wire     string // "documented" or "alexa"
	Token    string // the one valid apiAccessToken
	Profile  Profile
	Declared []client.Scope // what the skill declares
	Granted  []client.Scope // what the customer granted the skill
}

// Profile is the customer's profile; an empty value is absent.
type Profile struct {
	Name, GivenName, Email string
	MobileNumber           *client.PhoneNumber
}

// John is the reference's example customer.
var John = Profile{
	Name:         "John Smith",
	GivenName:    "John",
	Email:        "jsmith@example.com",
	MobileNumber: &client.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799-82-77-11"},
}

const settingsPath = "/v2/accounts/~current/settings/"

func (f *FakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setting, ok := strings.CutPrefix(r.URL.Path, settingsPath)
	if !ok {
		writeError(w, http.StatusNotFound, "INVALID_KEY", "no such resource") // as the real server
		return
	}
	var (
		scope client.Scope
		value any // nil when absent
		key   string
	)
	switch setting {
	case "Profile.name":
		scope, key = client.ScopeName, "name"
		value = stringOrNil(f.Profile.Name)
	case "Profile.givenName":
		scope, key = client.ScopeGivenName, "name"
		value = stringOrNil(f.Profile.GivenName)
	case "Profile.email":
		scope, key = client.ScopeEmail, "email"
		value = stringOrNil(f.Profile.Email)
	case "Profile.mobileNumber":
		scope = client.ScopeMobileNumber
		if f.Profile.MobileNumber != nil {
			value = f.Profile.MobileNumber
		}
	default:
		writeError(w, http.StatusNotFound, "INVALID_KEY", "unknown setting "+setting)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "use GET")
		return
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || tok != f.Token {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "INVALID_TOKEN", "the access token is missing, invalid or expired")
		return
	}
	switch {
	case !slices.Contains(f.Declared, scope):
		writeError(w, http.StatusForbidden, "ACCESS_DENIED", "Access denied with reason: FORBIDDEN")
		return
	case !slices.Contains(f.Granted, scope):
		writeError(w, http.StatusForbidden, "ACCESS_DENIED", "Access denied with reason: ACCESS_NOT_REQUESTED")
		return
	}
	switch {
	case value == nil && f.Wire == "alexa":
		w.WriteHeader(http.StatusNoContent)
	case value == nil:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "the customer has no value for "+setting)
	case f.Wire == "alexa" || key == "":
		writeJSON(w, http.StatusOK, value)
	default:
		writeJSON(w, http.StatusOK, map[string]any{key: value})
	}
}

func stringOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"code": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
