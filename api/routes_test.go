package api_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/web"
)

// TestDirectRoutesAnswerAsTheMux sends the same requests to the server and
// to one that routes everything through the mux: the settings' own paths,
// which the server answers without the mux, and their near misses, which
// it leaves to the mux. Every answer and what the observers are told must
// be the same.
func TestDirectRoutesAnswerAsTheMux(t *testing.T) {
	fx := world(t, api.WireDocumented)
	tokens := map[string]string{
		"none": "",
		"NA":   "Bearer " + fx.mint(alice, skillAll, "NA", 0),
		"EU":   "Bearer " + fx.mint(euro, skillAll, "EU", 0),
		"some": "Bearer " + fx.mint(alice, skillSome, "NA", 0),
	}
	var paths []string
	for _, prefix := range []string{"", "/eu", "/fe", "/EU", "/xx"} {
		for _, field := range []string{"Profile.name", "Profile.givenName", "Profile.email", "Profile.mobileNumber", "Profile.address", "profile.name", ""} {
			p := prefix + "/v2/accounts/~current/settings/" + field
			paths = append(paths, p, p+"/", strings.Replace(p, "/settings/", "/settings//", 1),
				strings.Replace(p, "~current", "%7Ecurrent", 1), strings.Replace(p, "/accounts/", "/accounts/../accounts/", 1),
				strings.Replace(p, "Profile.", "Profile%2E", 1), strings.Replace(p, "Profile.", "Profile%2F", 1),
				strings.Replace(p, "/settings/", "%2Fsettings%2F", 1), "/"+strings.ReplaceAll(p[1:], "/", "%2F"))
		}
	}
	type seen struct {
		call   api.Call
		status int
		code   string
	}
	var got seen
	cfg := api.Config{Store: fx.store, Tokens: fx.keys, Endpoints: fx.endpoints, Wire: api.WireDocumented, Logger: discard,
		Done: func(r *http.Request, c api.Call, info *web.Info, _ time.Duration) {
			got = seen{c, info.Status, info.ErrorCode}
		}}
	direct, viaMux := api.NewServer(cfg), api.NewMuxOnlyServer(cfg)
	host := strings.TrimPrefix(fx.url, "http://")
	answer := func(h http.Handler, method, path, auth string) (*httptest.ResponseRecorder, seen) {
		req := httptest.NewRequest(method, "http://"+host+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		got = seen{}
		h.ServeHTTP(rec, req)
		return rec, got
	}
	directHits := 0
	for _, path := range paths {
		for _, method := range []string{"GET", "HEAD", "POST"} {
			for name, auth := range tokens {
				a, aSeen := answer(direct, method, path, auth)
				b, bSeen := answer(viaMux, method, path, auth)
				if a.Code != b.Code || a.Body.String() != b.Body.String() || aSeen != bSeen {
					t.Errorf("%s %s with token %s: direct %d %q %+v; mux %d %q %+v", method, path, name, a.Code, a.Body, aSeen, b.Code, b.Body, bSeen)
				}
				for _, h := range []string{"Content-Type", "Content-Length", "Allow", "Location"} {
					if a.Header().Get(h) != b.Header().Get(h) {
						t.Errorf("%s %s with token %s: %s direct %q, mux %q", method, path, name, h, a.Header().Get(h), b.Header().Get(h))
					}
				}
				if a.Code == http.StatusOK {
					directHits++
				}
			}
		}
	}
	if directHits == 0 {
		t.Fatal("no request was answered with a value: the comparison compared only errors")
	}
}

// A CONNECT names a host, not a path: the 404 names what was sent.
func TestConnectNamesItsTarget(t *testing.T) {
	fx := world(t, api.WireDocumented)
	conn, err := net.Dial("tcp", strings.TrimPrefix(fx.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || !strings.Contains(string(b), `"no such resource: example.com:443; the settings`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// Where regions share a path and differ by host name (the live host
// names), a request to a host none of them has is no token's fault: it is
// answered as a path that names nothing, not as 401 INVALID_TOKEN, which
// an SDK reports as a bad token.
func TestUnknownHost(t *testing.T) {
	endpoints, err := profileapi.NewEndpoints(map[profileapi.Region]string{
		profileapi.RegionNA: "https://api.amazonalexa.com",
		profileapi.RegionEU: "https://api.eu.amazonalexa.com",
		profileapi.RegionFE: "https://api.fe.amazonalexa.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	// No store and no keyring: the host is told before the token is read.
	h := api.NewServer(api.Config{Endpoints: endpoints, Logger: slog.New(slog.DiscardHandler)})
	for _, auth := range []string{"", "Bearer some.token.here"} {
		r := httptest.NewRequest("GET", "/v2/accounts/~current/settings/Profile.email", nil)
		r.Host = "profiles.internal.example:8443"
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 404 || !strings.Contains(w.Body.String(), `"code":"INVALID_KEY"`) || !strings.Contains(w.Body.String(), "profiles.internal.example") || w.Header().Get("WWW-Authenticate") != "" {
			t.Errorf("Authorization %q at an unknown host: %d %s %v, want 404 INVALID_KEY naming the host", auth, w.Code, w.Body, w.Header())
		}
	}
}
