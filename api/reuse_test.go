package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/cache"
	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/token"
)

// reuse is a server whose clock never moves unless a test moves it: a
// customer or skill deleted and created again within a millisecond.
type reuse struct {
	t     *testing.T
	s     *servertest.Server
	clock *servertest.Clock
}

const reuseKey = "reuse-admin-key-0123456789"

func newReuse(t *testing.T) *reuse {
	clock := servertest.NewClock(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC))
	return &reuse{t: t, s: servertest.Start(t, servertest.Options{Now: clock.Now, AdminKey: reuseKey}), clock: clock}
}

func (r *reuse) admin(method, path, body string, want int) {
	r.t.Helper()
	if res := servertest.Do(r.t, method, r.s.AdminURL+path, reuseKey, body); res.Status != want {
		r.t.Fatalf("%s %s: %d %s, want %d", method, path, res.Status, res.Body, want)
	}
}

func (r *reuse) customer(id, email string) {
	r.t.Helper()
	r.admin("POST", "/admin/v1/customers", `{"id":"`+id+`","region":"NA","profile":{"email":"`+email+`"}}`, http.StatusCreated)
}

func (r *reuse) skill(id string) {
	r.t.Helper()
	r.admin("POST", "/admin/v1/skills", `{"id":"`+id+`","name":"a skill","permissions":["alexa::profile:email:read"]}`, http.StatusCreated)
}

func (r *reuse) grant(customerID, skillID string) {
	r.t.Helper()
	r.admin("PUT", "/admin/v1/customers/"+customerID+"/consents/"+skillID, `{"scopes":["alexa::profile:email:read"]}`, http.StatusOK)
}

// token mints through the admin API, as a user would.
func (r *reuse) token(customerID, skillID string) string {
	r.t.Helper()
	res := servertest.Do(r.t, "POST", r.s.AdminURL+"/admin/v1/tokens", reuseKey, `{"customerId":"`+customerID+`","skillId":"`+skillID+`"}`)
	var tok struct{ APIAccessToken string }
	if res.Status != http.StatusCreated || json.Unmarshal([]byte(res.Body), &tok) != nil {
		r.t.Fatalf("mint: %d %s", res.Status, res.Body)
	}
	return tok.APIAccessToken
}

func (r *reuse) email(tok string) servertest.Response {
	r.t.Helper()
	return servertest.Do(r.t, "GET", r.s.URL+settings+"Profile.email", tok, "")
}

// A customer deleted and created again under the same id is another
// customer: the tokens issued before must not read the new one's profile,
// even when no time passed in between.
func TestReusedCustomerID(t *testing.T) {
	r := newReuse(t)
	const id, skill = "amzn1.ask.account.REUSED", "amzn1.ask.skill.reuse"
	r.skill(skill)
	r.customer(id, "old.owner@example.com")
	r.grant(id, skill)
	old := r.token(id, skill)
	if res := r.email(old); res.Status != 200 {
		t.Fatalf("before: %d %s", res.Status, res.Body)
	}
	r.admin("DELETE", "/admin/v1/customers/"+id, "", http.StatusNoContent)
	r.customer(id, "new.owner@example.com")
	r.grant(id, skill)
	if res := r.email(old); res.Status != http.StatusUnauthorized || res.Error.Code != "INVALID_TOKEN" {
		t.Errorf("the old owner's token: %d %s, want 401 INVALID_TOKEN", res.Status, res.Body)
	}
	if res := r.email(r.token(id, skill)); res.Status != 200 || res.Body != `{"email":"new.owner@example.com"}` {
		t.Errorf("a new token: %d %s, want the new owner's email", res.Status, res.Body)
	}
}

// A skill deleted and created again under the same id is another skill:
// a token issued to the first must not read what the customer grants the
// second.
func TestReusedSkillID(t *testing.T) {
	r := newReuse(t)
	const id, skill = "amzn1.ask.account.A", "amzn1.ask.skill.REUSED"
	r.customer(id, "a@example.com")
	r.skill(skill)
	r.grant(id, skill)
	old := r.token(id, skill)
	if res := r.email(old); res.Status != 200 {
		t.Fatalf("before: %d %s", res.Status, res.Body)
	}
	r.admin("DELETE", "/admin/v1/skills/"+skill, "", http.StatusNoContent)
	r.skill(skill)
	r.grant(id, skill)
	if res := r.email(old); res.Status != http.StatusUnauthorized || res.Error.Code != "INVALID_TOKEN" {
		t.Errorf("the old skill's token: %d %s, want 401 INVALID_TOKEN", res.Status, res.Body)
	}
	if res := r.email(r.token(id, skill)); res.Status != 200 {
		t.Errorf("a new token: %d %s, want 200", res.Status, res.Body)
	}
}

// A token that does not say when its customer and skill were created, as
// tokens issued before it did, is judged by when it was issued: one
// issued before the customer was created is an older customer's; one
// issued by a node whose clock is a little behind is good.
func TestTokenWithoutCreationTimes(t *testing.T) {
	r := newReuse(t)
	const id, skill = "amzn1.ask.account.OLD", "amzn1.ask.skill.old"
	r.skill(skill)
	r.customer(id, "a@example.com")
	r.grant(id, skill)
	legacy := func(at time.Time) string {
		t.Helper()
		keys, err := token.NewKeyring(context.Background(), r.s.Store, token.Options{Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := keys.Issue(context.Background(), token.Claims{CustomerID: id, SkillID: skill, Region: profileapi.RegionNA, Audience: r.s.Endpoints.URL(profileapi.RegionNA)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := r.clock.Now()
	if res := r.email(legacy(now.Add(-2 * time.Second))); res.Status != 200 {
		t.Errorf("issued 2 s before the customer was created: %d %s, want 200", res.Status, res.Body)
	}
	if res := r.email(legacy(now.Add(-time.Minute))); res.Status != http.StatusUnauthorized || !strings.Contains(res.Error.Message, "the id was reused") {
		t.Errorf("issued a minute before the customer was created: %d %s, want 401, the id reused", res.Status, res.Body)
	}
}

// newCachedReuse is newReuse with the cache in front of the store, as
// serve has it on SQLite, entries older than maxAge (0: none) read again.
func newCachedReuse(t *testing.T, maxAge time.Duration) *reuse {
	clock := servertest.NewClock(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC))
	s := servertest.Start(t, servertest.Options{Now: clock.Now, AdminKey: reuseKey, WrapStore: func(st profileapi.Store) profileapi.Store {
		c := cache.New(st, cache.Options{MaxAge: maxAge, Now: clock.Now})
		if err := c.Warm(context.Background()); err != nil {
			t.Fatal(err)
		}
		return c
	}})
	return &reuse{t: t, s: s, clock: clock}
}

// lines posts an NDJSON body to the admin API and returns the answer's.
func (r *reuse) lines(path, body string) string {
	r.t.Helper()
	req, err := http.NewRequest("POST", r.s.AdminURL+path, strings.NewReader(body+"\n"))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+reuseKey)
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		r.t.Fatalf("%s: %d %s", path, res.StatusCode, b)
	}
	return string(b)
}

const importLine = `{"id":"amzn1.ask.account.IMP","region":"NA","profile":{"email":"a@example.com"},"consents":{"amzn1.ask.skill.imp":["alexa::profile:email:read"]}}`

// The default SQLite deployment (cache on, no max age): a refused PATCH
// drops the customer from the cache, and an import again must cache the
// creation time the store keeps, not the import's, or every new token of
// the customer would be refused as the id's reuse.
func TestReimportAfterRefusedPatch(t *testing.T) {
	r := newCachedReuse(t, 0)
	const id, skill = "amzn1.ask.account.IMP", "amzn1.ask.skill.imp"
	r.skill(skill)
	r.lines("/admin/v1/import", importLine)
	r.clock.Add(time.Second)
	r.admin("PATCH", "/admin/v1/customers/"+id, `{"profile":{"email":"not an email"}}`, http.StatusBadRequest)
	r.lines("/admin/v1/import", importLine)
	if res := r.email(r.token(id, skill)); res.Status != 200 {
		t.Errorf("a token minted after the re-import: %d %s", res.Status, res.Body)
	}
}

// With --cache-max-age, a re-import of an aged record, and a token batch
// minted from the cache: the token still holds once the record is read
// again from the store.
func TestBatchTokenAfterStaleReimport(t *testing.T) {
	r := newCachedReuse(t, time.Second)
	const id, skill = "amzn1.ask.account.IMP", "amzn1.ask.skill.imp"
	r.skill(skill)
	r.lines("/admin/v1/import", importLine)
	r.clock.Add(2 * time.Second)
	r.lines("/admin/v1/import", importLine)
	var bt struct{ APIAccessToken string }
	if err := json.Unmarshal([]byte(r.lines("/admin/v1/tokens/batch", `{"customerId":"`+id+`","skillId":"`+skill+`"}`)), &bt); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(2 * time.Second)
	if res := r.email(bt.APIAccessToken); res.Status != 200 {
		t.Errorf("a tokens/batch token once the record is read again: %d %s", res.Status, res.Body)
	}
}

// Another node deletes a customer, or a skill, and creates it again under
// its id. A node whose cache holds the old one, younger than
// --cache-max-age, reads it again for a token minted for the new one,
// rather than refuse that token as the old one's for up to that age; a
// token of the old one is still refused.
func TestReusedIDOnAnotherNode(t *testing.T) {
	for _, what := range []string{"customer", "skill"} {
		t.Run(what, func(t *testing.T) {
			r := newCachedReuse(t, time.Hour)
			const id, skill = "amzn1.ask.account.NODE", "amzn1.ask.skill.node"
			r.skill(skill)
			r.customer(id, "old@example.com")
			r.grant(id, skill)
			old := r.token(id, skill)
			if res := r.email(old); res.Status != 200 { // now held by the cache
				t.Fatalf("before: %d %s", res.Status, res.Body)
			}

			// The other node writes the database, behind this one's cache,
			// with its own clock (the real one, months past the test's).
			ctx := context.Background()
			db := r.s.Store
			switch what {
			case "customer":
				if err := db.DeleteCustomer(ctx, id); err != nil {
					t.Fatal(err)
				}
				if err := db.CreateCustomer(ctx, &profileapi.Customer{ID: id, Region: profileapi.RegionNA, Profile: profileapi.Profile{Email: "new@example.com"}}); err != nil {
					t.Fatal(err)
				}
			case "skill":
				if err := db.DeleteSkill(ctx, skill); err != nil {
					t.Fatal(err)
				}
				if err := db.CreateSkill(ctx, &profileapi.Skill{ID: skill, Name: "again", Permissions: profileapi.NewScopeSet(profileapi.ScopeEmail)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.PutConsent(ctx, &profileapi.Consent{CustomerID: id, SkillID: skill, Scopes: profileapi.NewScopeSet(profileapi.ScopeEmail)}); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"customer": `{"email":"new@example.com"}`, "skill": `{"email":"old@example.com"}`}[what]
			if res := r.email(r.s.Token(t, id, skill)); res.Status != 200 || res.Body != want {
				t.Errorf("a token for the new %s: %d %s, want 200 %s", what, res.Status, res.Body, want)
			}
			if res := r.email(old); res.Status != http.StatusUnauthorized || !strings.Contains(res.Error.Message, "the id was reused") {
				t.Errorf("a token for the old %s: %d %s, want 401, the id reused", what, res.Status, res.Body)
			}
		})
	}
}

// The consents of a customer deleted and created again by another node
// are not the new one's: once a node reads the new one (for a token
// naming it), the grants its cache held for the old one are gone with it.
func TestReusedIDOnAnotherNodeKeepsNoGrants(t *testing.T) {
	r := newCachedReuse(t, time.Hour)
	const id, s1, s2 = "amzn1.ask.account.GRANTS", "amzn1.ask.skill.one", "amzn1.ask.skill.two"
	r.skill(s1)
	r.skill(s2)
	r.customer(id, "old@example.com")
	r.grant(id, s1)
	r.grant(id, s2)
	for _, skill := range []string{s1, s2} { // both grants now held
		if res := r.email(r.token(id, skill)); res.Status != 200 {
			t.Fatalf("before, %s: %d %s", skill, res.Status, res.Body)
		}
	}

	ctx := context.Background()
	db := r.s.Store
	if err := db.DeleteCustomer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCustomer(ctx, &profileapi.Customer{ID: id, Region: profileapi.RegionNA, Profile: profileapi.Profile{Email: "new@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutConsent(ctx, &profileapi.Consent{CustomerID: id, SkillID: s1, Scopes: profileapi.NewScopeSet(profileapi.ScopeEmail)}); err != nil {
		t.Fatal(err)
	}
	if res := r.email(r.s.Token(t, id, s1)); res.Status != 200 || res.Body != `{"email":"new@example.com"}` {
		t.Fatalf("the new customer, by the skill granted: %d %s", res.Status, res.Body)
	}
	if res := r.email(r.s.Token(t, id, s2)); res.Status != http.StatusForbidden {
		t.Errorf("the new customer, by the skill the old one granted: %d %s, want 403", res.Status, res.Body)
	}
}
