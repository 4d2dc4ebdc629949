package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/servertest"
)

// A customer deleted and created again under the same id is another
// customer: the tokens issued before must not read the new one's profile.
func TestReusedCustomerID(t *testing.T) {
	const key = "reuse-admin-key-0123456789"
	clock := servertest.NewClock(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC))
	s := servertest.Start(t, servertest.Options{Now: clock.Now, AdminKey: key})
	const id, skill = "amzn1.ask.account.REUSED", "amzn1.ask.skill.reuse"
	s.Skill(t, skill, profileapi.AllScopes)
	create := func(email string) {
		t.Helper()
		r := servertest.Do(t, "POST", s.AdminURL+"/admin/v1/customers", key, `{"id":"`+id+`","region":"NA","profile":{"email":"`+email+`"}}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		s.Consent(t, id, skill, profileapi.AllScopes)
	}
	email := func(tok string) servertest.Response {
		t.Helper()
		return servertest.Do(t, "GET", s.URL+settings+"Profile.email", tok, "")
	}

	create("old.owner@example.com")
	old := s.Token(t, id, skill)
	if r := email(old); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	clock.Add(time.Minute)
	if r := servertest.Do(t, "DELETE", s.AdminURL+"/admin/v1/customers/"+id, key, ""); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	clock.Add(time.Minute)
	create("new.owner@example.com")
	if r := email(old); r.Status != http.StatusUnauthorized || r.Error.Code != "INVALID_TOKEN" {
		t.Errorf("the old owner's token: %d %s, want 401 INVALID_TOKEN", r.Status, r.Body)
	}
	if r := email(s.Token(t, id, skill)); r.Status != 200 || r.Body != `{"email":"new.owner@example.com"}` {
		t.Errorf("a new token: %d %s, want the new owner's email", r.Status, r.Body)
	}
	// A token minted by a node whose clock is 2 s behind the one that
	// created the customer is good: clocks differ a little.
	clock.Add(-2 * time.Second)
	if r := email(s.Token(t, id, skill)); r.Status != 200 {
		t.Errorf("a token issued 2 s before the customer's creation: %d %s, want 200", r.Status, r.Body)
	}
}
