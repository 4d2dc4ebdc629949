package admin

import (
	"net/http"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/web"
)

type evaluation struct {
	CustomerID string            `json:"customerId"`
	SkillID    string            `json:"skillId"`
	Region     profileapi.Region `json:"region"`
	Endpoint   string            `json:"apiEndpoint"`
	Wire       api.Wire          `json:"wire"`
	Operations []api.Outcome     `json:"operations"`
}

// evaluate says what each operation would answer right now for a token of
// the customer and skill, and why: the same decision the public API makes.
func (s *server) evaluate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	customerID, skillID := q.Get("customerId"), q.Get("skillId")
	if err := profileapi.ValidateCustomerID(customerID); err != nil {
		return err
	}
	if err := profileapi.ValidateSkillID(skillID); err != nil {
		return err
	}
	ctx := r.Context()
	access, err := s.Store.Access(ctx, customerID, skillID)
	if profileapi.IsNotFound(err) {
		return s.missing(ctx, customerID, skillID, err)
	}
	if err != nil {
		return err
	}
	web.Encode(w, http.StatusOK, evaluation{
		CustomerID: customerID,
		SkillID:    skillID,
		Region:     access.Customer.Region,
		Endpoint:   s.Endpoints.URL(access.Customer.Region),
		Wire:       s.Wire,
		Operations: api.Evaluate(access, s.Wire),
	})
	return nil
}
