package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/profileapi/profileapi/api"
)

// FuzzPublicRequest sends arbitrary paths, Authorization headers and
// bodies to the real handler over a real store: whatever comes in, the
// answer is a JSON error or a value of the token's own customer, never a
// 500 and never another customer's data.
func FuzzPublicRequest(f *testing.F) {
	fx := world(f, api.WireDocumented)
	good := fx.mint(alice, skillAll, "NA", 0)
	bobTok := fx.mint(bob, skillAll, "NA", 0)
	f.Add("GET", "/v2/accounts/~current/settings/Profile.email", "Bearer "+good, "")
	f.Add("GET", "/v2/accounts/~current/settings/Profile.mobileNumber", "Bearer "+bobTok, "")
	f.Add("HEAD", "/eu/v2/accounts/~current/settings/Profile.name", "bearer "+good, "")
	f.Add("POST", "/v2/accounts/~current/settings/Profile.name", "Bearer "+good, "{}")
	f.Add("GET", "/v2/accounts/~current/settings/Profile.address", "Basic abc", "")
	f.Add("GET", "/v2/accounts/~current/settings/Profile.email", "Bearer "+good[:len(good)-2]+"xx", "")
	f.Add("GET", "/v2/accounts/%7Ecurrent/settings/Profile.email", "Bearer  "+good, "x")
	f.Add("GET", "//v2/../v2/accounts/~current/settings/Profile.email", "Bearer eyJhbGciOiJub25lIn0.e30.", "")
	h := api.NewServer(api.Config{Store: fx.store, Tokens: fx.keys, Endpoints: fx.endpoints, Wire: api.WireDocumented, Logger: discard})
	f.Fuzz(func(t *testing.T, method, path, authorization, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\x00#?") || strings.ContainsAny(method, " \r\n\x00/") || method == "" {
			return // not a request line net/http would parse
		}
		req, err := http.NewRequest(method, "http://"+strings.TrimPrefix(fx.url, "http://")+path, strings.NewReader(body))
		if err != nil {
			return
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "Bob") || strings.Contains(rec.Body.String(), "bob@") {
			if !strings.Contains(authorization, bobTok) {
				t.Fatalf("Bob's data answered a request without Bob's token: %s", rec.Body)
			}
		}
		if rec.Code >= 400 {
			var e struct{ Code, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("%d without the JSON error body: %q", rec.Code, rec.Body)
			}
		}
	})
}
