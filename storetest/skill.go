package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

func testSkillCreateAndRead(t *testing.T, s profileapi.Store) {
	skills := []*profileapi.Skill{
		{ID: "amzn1.ask.skill.none", Name: "Nothing Needed", Permissions: 0, CreatedAt: t0},
		{ID: "amzn1.ask.skill.some", Name: "Météo 天気 🌦", Permissions: profileapi.NewScopeSet(profileapi.ScopeGivenName, profileapi.ScopeMobileNumber), CreatedAt: t0},
		{ID: "amzn1.ask.skill.all", Name: "Everything", Permissions: profileapi.AllScopes, CreatedAt: t0},
	}
	for _, sk := range skills {
		createSkill(t, s, sk)
	}
	for _, want := range skills {
		got, err := s.Skill(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("Skill(%s): %v", want.ID, err)
		}
		checkSkill(t, got, want)
	}
}

func testSkillZeroCreatedAt(t *testing.T, s profileapi.Store) {
	sk := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	sk.CreatedAt = time.Time{}
	createSkill(t, s, sk)
	if sk.CreatedAt.IsZero() {
		t.Fatal("CreateSkill left a zero CreatedAt zero")
	}
	got, err := s.Skill(t.Context(), sk.ID)
	if err != nil {
		t.Fatalf("Skill: %v", err)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, sk.CreatedAt)
}

func testSkillDuplicate(t *testing.T, s profileapi.Store) {
	first := newSkill(profileapi.NewSkillID(), profileapi.NewScopeSet(profileapi.ScopeName))
	createSkill(t, s, first)
	second := newSkill(first.ID, profileapi.AllScopes)
	second.Name = "Impostor"
	wantKind(t, "CreateSkill with a taken id", s.CreateSkill(t.Context(), second), profileapi.ECONFLICT)
	got, err := s.Skill(t.Context(), first.ID)
	if err != nil {
		t.Fatalf("Skill: %v", err)
	}
	checkSkill(t, got, first)
}

func testSkillMissing(t *testing.T, s profileapi.Store) {
	createSkill(t, s, newSkill(profileapi.NewSkillID(), profileapi.AllScopes))
	id := profileapi.NewSkillID()
	_, err := s.Skill(t.Context(), id)
	checkNotFound(t, "Skill of a missing skill", err)
	checkNotFound(t, "DeleteSkill of a missing skill", s.DeleteSkill(t.Context(), id))
}

func testSkillList(t *testing.T, s profileapi.Store) {
	skills, err := s.Skills(t.Context())
	if err != nil {
		t.Fatalf("Skills of an empty store: %v", err)
	}
	if len(skills) != 0 {
		t.Fatalf("Skills of an empty store: got %d, want none", len(skills))
	}
	byID := map[string]*profileapi.Skill{}
	for i, id := range []string{"amzn1.ask.skill.ccc", "amzn1.ask.skill.aaa", "amzn1.ask.skill.bbb"} {
		sk := newSkill(id, profileapi.ScopeSet(i+1))
		sk.Name = fmt.Sprintf("Skill %d", i)
		createSkill(t, s, sk)
		byID[id] = sk
	}
	skills, err = s.Skills(t.Context())
	if err != nil {
		t.Fatalf("Skills: %v", err)
	}
	want := []string{"amzn1.ask.skill.aaa", "amzn1.ask.skill.bbb", "amzn1.ask.skill.ccc"}
	if len(skills) != len(want) {
		t.Fatalf("Skills: got %d, want %d", len(skills), len(want))
	}
	for i, sk := range skills {
		if sk.ID != want[i] {
			t.Fatalf("Skills()[%d].ID = %q, want %q (ordered by id)", i, sk.ID, want[i])
		}
		checkSkill(t, sk, byID[sk.ID])
	}
}

func testSkillDelete(t *testing.T, s profileapi.Store) {
	gone := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	kept := newSkill(profileapi.NewSkillID(), profileapi.NewScopeSet(profileapi.ScopeEmail))
	createSkill(t, s, gone)
	createSkill(t, s, kept)
	if err := s.DeleteSkill(t.Context(), gone.ID); err != nil {
		t.Fatalf("DeleteSkill: %v", err)
	}
	_, err := s.Skill(t.Context(), gone.ID)
	checkNotFound(t, "Skill after DeleteSkill", err)
	checkNotFound(t, "DeleteSkill twice", s.DeleteSkill(t.Context(), gone.ID))

	got, err := s.Skill(t.Context(), kept.ID)
	if err != nil {
		t.Fatalf("Skill of the other skill: %v", err)
	}
	checkSkill(t, got, kept)
	skills, err := s.Skills(t.Context())
	if err != nil {
		t.Fatalf("Skills: %v", err)
	}
	if len(skills) != 1 || skills[0].ID != kept.ID {
		t.Fatalf("Skills after deleting one of two: got %d skills, want only %s", len(skills), kept.ID)
	}
}

// testSkillConcurrentCreate races several creates of one id: exactly one
// wins, the others are ECONFLICT, and the stored skill is the winner's.
func testSkillConcurrentCreate(t *testing.T, s profileapi.Store) {
	const n = 10
	id := profileapi.NewSkillID()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sk := newSkill(id, profileapi.AllScopes)
			sk.Name = fmt.Sprintf("Racer %d", i)
			errs[i] = s.CreateSkill(t.Context(), sk)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("CreateSkill succeeded for racers %d and %d with one id", winner, i)
		case err == nil:
			winner = i
		default:
			wantKind(t, fmt.Sprintf("CreateSkill of racer %d", i), err, profileapi.ECONFLICT)
		}
	}
	if winner < 0 {
		t.Fatal("every CreateSkill failed")
	}
	got, err := s.Skill(t.Context(), id)
	if err != nil {
		t.Fatalf("Skill: %v", err)
	}
	if want := fmt.Sprintf("Racer %d", winner); got.Name != want {
		t.Fatalf("stored skill is %q, want the winner's %q", got.Name, want)
	}
}

func testSkillUpdate(t *testing.T, s profileapi.Store) {
	name, given, email := profileapi.ScopeName, profileapi.ScopeGivenName, profileapi.ScopeEmail
	sk := newSkill(profileapi.NewSkillID(), profileapi.NewScopeSet(name, email, profileapi.ScopeMobileNumber))
	other := newSkill(profileapi.NewSkillID(), profileapi.AllScopes)
	createSkill(t, s, sk)
	createSkill(t, s, other)
	both, emailOnly, nameOnly := newCustomer(profileapi.NewCustomerID()), newCustomer(profileapi.NewCustomerID()), newCustomer(profileapi.NewCustomerID())
	for _, c := range []*profileapi.Customer{both, emailOnly, nameOnly} {
		createCustomer(t, s, c)
	}
	putConsent(t, s, both.ID, sk.ID, profileapi.NewScopeSet(name, email))
	putConsent(t, s, emailOnly.ID, sk.ID, profileapi.NewScopeSet(email))
	kept := &profileapi.Consent{CustomerID: nameOnly.ID, SkillID: sk.ID, Scopes: profileapi.NewScopeSet(name), UpdatedAt: t0}
	if err := s.PutConsent(t.Context(), kept); err != nil {
		t.Fatalf("PutConsent: %v", err)
	}
	putConsent(t, s, both.ID, other.ID, profileapi.NewScopeSet(email))
	access(t, s, both.ID, sk.ID) // a store that caches has it now

	changed := &profileapi.Skill{ID: sk.ID, Name: "Renamed", Permissions: profileapi.NewScopeSet(name, given)}
	if err := s.UpdateSkill(t.Context(), changed); err != nil {
		t.Fatalf("UpdateSkill: %v", err)
	}
	checkTime(t, "CreatedAt written back", changed.CreatedAt, t0)
	got, err := s.Skill(t.Context(), sk.ID)
	if err != nil {
		t.Fatalf("Skill: %v", err)
	}
	checkSkill(t, got, changed)

	t.Log("consents are kept, narrowed to the scopes now declared")
	checkConsent(t, s, both.ID, sk.ID, profileapi.NewScopeSet(name))
	checkConsent(t, s, emailOnly.ID, sk.ID, 0)
	checkConsent(t, s, nameOnly.ID, sk.ID, profileapi.NewScopeSet(name))
	if c, err := s.Consent(t.Context(), nameOnly.ID, sk.ID); err != nil {
		t.Fatalf("Consent: %v", err)
	} else {
		checkTime(t, "UpdatedAt of a consent the update left alone", c.UpdatedAt, t0)
	}
	checkConsent(t, s, both.ID, other.ID, profileapi.NewScopeSet(email))
	a := access(t, s, both.ID, sk.ID)
	checkScopes(t, "Declared", a.Declared, changed.Permissions)
	checkScopes(t, "Granted", a.Granted, profileapi.NewScopeSet(name))

	t.Log("declaring more grants nothing more")
	if err := s.UpdateSkill(t.Context(), newSkill(sk.ID, profileapi.AllScopes)); err != nil {
		t.Fatalf("UpdateSkill: %v", err)
	}
	checkScopes(t, "Granted", access(t, s, both.ID, sk.ID).Granted, profileapi.NewScopeSet(name))

	checkNotFound(t, "UpdateSkill of a missing skill", s.UpdateSkill(t.Context(), newSkill(profileapi.NewSkillID(), profileapi.AllScopes)))
}
