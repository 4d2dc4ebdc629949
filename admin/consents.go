package admin

import (
	"fmt"
	"net/http"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

type consentRequest struct {
	Scopes *profileapi.ScopeSet `json:"scopes"`
}

// putConsent sets exactly the scopes the customer grants the skill; each
// must be one the skill declares.
func (s *server) putConsent(w http.ResponseWriter, r *http.Request) error {
	customerID, skillID, err := consentIDs(r)
	if err != nil {
		return err
	}
	req, err := web.Decode[consentRequest](w, r, maxBody)
	if err != nil {
		return err
	}
	if req.Scopes == nil {
		return profileapi.Errorf(profileapi.EINVALID, "scopes is required: the list of scopes the customer grants (empty to grant none)")
	}
	ctx := r.Context()
	if _, err := s.Store.Customer(ctx, customerID); err != nil {
		return profileapi.Absent(err, "customer", customerID)
	}
	skill, err := s.Store.Skill(ctx, skillID)
	if err != nil {
		return profileapi.Absent(err, "skill", skillID)
	}
	if undeclared := *req.Scopes &^ skill.Permissions; undeclared != 0 {
		return profileapi.Errorf(profileapi.EINVALID, "skill %s does not declare %s; it declares [%s]", skillID, undeclared, skill.Permissions)
	}
	c := &profileapi.Consent{CustomerID: customerID, SkillID: skillID, Scopes: *req.Scopes, UpdatedAt: s.Now().UTC()}
	if err := s.Store.PutConsent(ctx, c); err != nil {
		return err
	}
	web.Encode(w, http.StatusOK, c)
	return nil
}

func (s *server) getConsent(w http.ResponseWriter, r *http.Request) error {
	customerID, skillID, err := consentIDs(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := s.Store.Consent(ctx, customerID, skillID)
	if profileapi.IsNotFound(err) {
		return s.missing(ctx, customerID, skillID, &profileapi.Error{Kind: profileapi.ENOTFOUND,
			Message: fmt.Sprintf("customer %s has not granted skill %s anything", customerID, skillID), Err: err})
	}
	if err != nil {
		return err
	}
	web.Encode(w, http.StatusOK, c)
	return nil
}

// deleteConsent revokes every scope. Revoking what was never granted is
// still a 204: the customer's wish, no scope granted, holds either way.
func (s *server) deleteConsent(w http.ResponseWriter, r *http.Request) error {
	customerID, skillID, err := consentIDs(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.Store.Customer(ctx, customerID); err != nil {
		return profileapi.Absent(err, "customer", customerID)
	}
	if _, err := s.Store.Skill(ctx, skillID); err != nil {
		return profileapi.Absent(err, "skill", skillID)
	}
	if err := s.Store.DeleteConsent(ctx, customerID, skillID); err != nil && !profileapi.IsNotFound(err) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func consentIDs(r *http.Request) (customerID, skillID string, err error) {
	customerID, skillID = r.PathValue("id"), r.PathValue("skillId")
	if err := profileapi.ValidateCustomerID(customerID); err != nil {
		return "", "", err
	}
	if err := profileapi.ValidateSkillID(skillID); err != nil {
		return "", "", err
	}
	return customerID, skillID, nil
}
