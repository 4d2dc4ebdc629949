package profileapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/profileapi/profileapi"
)

var liveURLs = map[profileapi.Region]string{
	profileapi.RegionNA: "https://api.amazonalexa.com",
	profileapi.RegionEU: "https://api.eu.amazonalexa.com",
	profileapi.RegionFE: "https://api.fe.amazonalexa.com",
}

// An endpoint a client cannot join the settings' path to, as given, is
// refused: with a query (even an empty one, "?"), the path would land in
// it; with // or dot segments, most clients clean the joined URL into
// another path.
func TestEndpointsRefuseWhatClientsCannotReach(t *testing.T) {
	for _, eu := range []string{
		"http://127.0.0.1:8080/eu?",
		"http://127.0.0.1:8080/eu?x=1",
		"http://127.0.0.1:8080/eu/../x",
		"http://127.0.0.1:8080/./eu",
		"http://127.0.0.1:8080//eu",
		"http://127.0.0.1:8080//",
		"http://127.0.0.1:8080/eu//",
		"http://127.0.0.1:8080/eu#top",
	} {
		urls := map[profileapi.Region]string{profileapi.RegionNA: "http://127.0.0.1:8080", profileapi.RegionEU: eu, profileapi.RegionFE: "http://127.0.0.1:8080/fe"}
		if _, err := profileapi.NewEndpoints(urls); err == nil || !strings.Contains(err.Error(), "region EU") {
			t.Errorf("NewEndpoints with EU at %s: %v, want it refused", eu, err)
		}
	}
	urls := map[profileapi.Region]string{profileapi.RegionNA: "http://127.0.0.1:8080/", profileapi.RegionEU: "http://127.0.0.1:8080/eu/", profileapi.RegionFE: "http://127.0.0.1:8080/fe"}
	if _, err := profileapi.NewEndpoints(urls); err != nil {
		t.Errorf("clean paths with a trailing slash: %v", err)
	}
}

// A certificate for the live host names must also name the FE alias,
// which the FE region answers to.
func TestEndpointHosts(t *testing.T) {
	e, err := profileapi.NewEndpoints(liveURLs)
	if err != nil {
		t.Fatal(err)
	}
	got := e.Hosts()
	for _, want := range []string{"api.amazonalexa.com", "api.eu.amazonalexa.com", "api.fe.amazonalexa.com", "api.fe.amazon.com"} {
		if !slices.Contains(got, want) {
			t.Errorf("Hosts() = %v, lacks %s", got, want)
		}
	}
	if r, ok := e.RegionOf(profileapi.Regions[:], "api.fe.amazon.com:443"); !ok || r != profileapi.RegionFE {
		t.Errorf("RegionOf(the FE alias) = %s, %v", r, ok)
	}
	// Regions sharing a path are told apart by Host, in every form a
	// client sends it: with a port or without, an IPv6 address bracketed.
	v6, err := profileapi.NewEndpoints(map[profileapi.Region]string{
		profileapi.RegionNA: "http://[::1]", profileapi.RegionEU: "http://127.0.0.1", profileapi.RegionFE: "http://LocalHost",
	})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]profileapi.Region{
		"[::1]": profileapi.RegionNA, "[::1]:80": profileapi.RegionNA, "127.0.0.1": profileapi.RegionEU,
		"127.0.0.1:8080": profileapi.RegionEU, "localhost.": profileapi.RegionFE, "LOCALHOST:80": profileapi.RegionFE,
	} {
		if r, ok := v6.RegionOf(profileapi.Regions[:], host); !ok || r != want {
			t.Errorf("RegionOf(Host %s) = %s, %v; want %s", host, r, ok, want)
		}
	}
	if r, ok := v6.RegionOf(profileapi.Regions[:], "[::2]"); ok {
		t.Errorf("RegionOf(Host [::2]) = %s, want none", r)
	}

	loop := profileapi.LoopbackEndpoints("http", "127.0.0.1:8080")
	if got := loop.Hosts(); slices.Contains(got, "api.fe.amazon.com") {
		t.Errorf("loopback endpoints' Hosts() = %v: the alias belongs to the live FE host only", got)
	}
}
