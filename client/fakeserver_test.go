package client_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/profileapi/profileapi/client"
)

// fakeServer mimics the public API of a profileapi server for one skill and
// one customer, answering as spec/API.md says: the bodies of both wire
// modes, and 401, 403, 404 and 405 with their codes and messages. It stands
// in for the real server (package api) until tests can start that.
type fakeServer struct {
	wire     string // "documented" or "alexa"
	token    string // the one valid apiAccessToken
	profile  profile
	declared []client.Scope // what the skill declares
	granted  []client.Scope // what the customer granted the skill
}

// profile is the customer's profile; an empty value is absent.
type profile struct {
	Name, GivenName, Email string
	MobileNumber           *client.PhoneNumber
}

// john is the reference's example customer.
var john = profile{
	Name:         "John Smith",
	GivenName:    "John",
	Email:        "jsmith@example.com",
	MobileNumber: &client.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799-82-77-11"},
}

const settingsPath = "/v2/accounts/~current/settings/"

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		value = stringOrNil(f.profile.Name)
	case "Profile.givenName":
		scope, key = client.ScopeGivenName, "name"
		value = stringOrNil(f.profile.GivenName)
	case "Profile.email":
		scope, key = client.ScopeEmail, "email"
		value = stringOrNil(f.profile.Email)
	case "Profile.mobileNumber":
		scope = client.ScopeMobileNumber
		if f.profile.MobileNumber != nil {
			value = f.profile.MobileNumber
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
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || tok != f.token {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "INVALID_TOKEN", "the access token is missing, invalid or expired")
		return
	}
	switch {
	case !slices.Contains(f.declared, scope):
		writeError(w, http.StatusForbidden, "ACCESS_DENIED", "Access denied with reason: FORBIDDEN")
		return
	case !slices.Contains(f.granted, scope):
		writeError(w, http.StatusForbidden, "ACCESS_DENIED", "Access denied with reason: ACCESS_NOT_REQUESTED")
		return
	}
	switch {
	case value == nil && f.wire == "alexa":
		w.WriteHeader(http.StatusNoContent)
	case value == nil:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "the customer has no value for "+setting)
	case f.wire == "alexa" || key == "":
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
