package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/fixture"
	"github.com/profileapi/profileapi/token"
)

// The demo's ids are fixed, so that --demo is idempotent.
const (
	demoSkillID    = "amzn1.ask.skill.demo"
	demoCustomerID = "amzn1.ask.account.DEMO"
)

// demoProfile is the API reference's own example customer.
var demoProfile = profileapi.Profile{
	Name:         "John Smith",
	GivenName:    "John",
	Email:        "jsmith@example.com",
	MobileNumber: &profileapi.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799-82-77-11"},
}

// shellQuote quotes s for a POSIX shell, if it needs it.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runDemo makes sure the demo skill and customer exist, with every scope
// granted and the reference's example profile, and prints a curl line for
// each operation with a fresh token.
// The curl lines reach this server at listen (host:port, scheme), also
// where the endpoint is a host name it does not listen at.
func runDemo(ctx context.Context, w io.Writer, store profileapi.Store, keys *token.Keyring, endpoints profileapi.Endpoints, wire api.Wire, caFile, cliFlags, scheme, listen string) error {
	now := time.Now().UTC()
	skill := &profileapi.Skill{ID: demoSkillID, Name: "profileapi demo skill", Permissions: profileapi.AllScopes, CreatedAt: now}
	if err := store.CreateSkill(ctx, skill); err != nil && profileapi.ErrorKind(err) != profileapi.ECONFLICT {
		return err
	}
	customer := &profileapi.Customer{ID: demoCustomerID, Region: profileapi.RegionNA, Profile: demoProfile, CreatedAt: now, UpdatedAt: now}
	// Restored as it was, whatever was done to it since.
	if err := fixture.EnsureCustomer(ctx, store, customer, now); err != nil {
		return err
	}
	got, err := store.Skill(ctx, demoSkillID)
	if err != nil {
		return err
	}
	if got.Permissions != profileapi.AllScopes {
		if err := store.UpdateSkill(ctx, skill); err != nil {
			return err
		}
	}
	if g, err := store.Consent(ctx, demoCustomerID, demoSkillID); err != nil || g.Scopes != profileapi.AllScopes {
		if err := store.PutConsent(ctx, &profileapi.Consent{CustomerID: demoCustomerID, SkillID: demoSkillID, Scopes: profileapi.AllScopes, UpdatedAt: now}); err != nil {
			return err
		}
	}
	c, err := store.Customer(ctx, demoCustomerID)
	if err != nil {
		return err
	}
	endpoint := endpoints.URL(profileapi.RegionNA)
	tok, exp, err := keys.Issue(ctx, token.Claims{
		CustomerID: demoCustomerID, SkillID: demoSkillID, DeviceID: profileapi.DeviceID(demoCustomerID), Region: profileapi.RegionNA, Audience: endpoint,
		CustomerCreatedAt: c.CreatedAt, SkillCreatedAt: got.CreatedAt,
	}, token.MaxTTL)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDemo: skill %s and customer %s (region NA), every scope granted.\n", demoSkillID, demoCustomerID)
	fmt.Fprintf(w, "Try the four operations (the token is valid until %s):\n\n", exp.UTC().Format(time.RFC3339))
	opts, base := curlTarget(endpoint, scheme, listen)
	if caFile != "" {
		opts += "--cacert " + shellQuote(caFile) + " "
	}
	for _, f := range profileapi.Fields {
		fmt.Fprintf(w, "curl -i %s-H 'Authorization: Bearer %s' %s/v2/accounts/~current/settings/%s\n\n", opts, tok, base, f)
	}
	if wire == api.WireDocumented {
		fmt.Fprintln(w, `Each answers as the reference documents it, e.g. {"email":"jsmith@example.com"}.`)
	}
	note := ""
	if strings.Contains(cliFlags, "--admin-key KEY") {
		note = " (KEY: the --admin-key given to serve)"
	}
	if cliFlags != "" {
		cliFlags += " "
	}
	fmt.Fprintf(w, "Revoke the consent with `profileapi %sconsents revoke %s %s`%s and try again: 403.\n", cliFlags, demoCustomerID, demoSkillID, note)
	return nil
}

// curlTarget returns the curl options and the base URL that reach the
// endpoint at this server, which listens at listen with scheme. An
// endpoint at another address (a live host name such as
// https://api.amazonalexa.com, or a load balancer's) would send curl
// elsewhere, the token with it: --connect-to keeps the URL, and so the
// Host and TLS name, while connecting here; an endpoint of another scheme
// (https before a TLS proxy) is reached by its path, with its Host.
func curlTarget(endpoint, scheme, listen string) (opts, base string) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", endpoint
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if net.JoinHostPort(u.Hostname(), port) == listen && u.Scheme == scheme {
		return "", endpoint
	}
	if u.Scheme != scheme {
		return "-H " + shellQuote("Host: "+u.Host) + " ", scheme + "://" + listen + u.EscapedPath()
	}
	return "--connect-to " + shellQuote(net.JoinHostPort(u.Hostname(), port)+":"+listen) + " ", endpoint
}
