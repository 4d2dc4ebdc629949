package admin

import (
	"net/http"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/token"
)

type tokenRequest struct {
	CustomerID string `json:"customerId"`
	SkillID    string `json:"skillId"`
	TTLSeconds *int64 `json:"ttlSeconds"`
}

type tokenResponse struct {
	APIAccessToken string    `json:"apiAccessToken"`
	APIEndpoint    string    `json:"apiEndpoint"`
	ExpiresAt      time.Time `json:"expiresAt"`
}

func (s *server) createToken(w http.ResponseWriter, r *http.Request) error {
	req, err := web.Decode[tokenRequest](w, r, maxBody)
	if err != nil {
		return err
	}
	ttl := token.DefaultTTL
	if req.TTLSeconds != nil {
		if *req.TTLSeconds < 1 || *req.TTLSeconds > int64(token.MaxTTL/time.Second) {
			return profileapi.Errorf(profileapi.EINVALID, "ttlSeconds must be between 1 and %d", int64(token.MaxTTL/time.Second))
		}
		ttl = time.Duration(*req.TTLSeconds) * time.Second
	}
	resp, err := s.mint(r, req.CustomerID, req.SkillID, ttl)
	if err != nil {
		return err
	}
	web.Encode(w, http.StatusCreated, resp)
	return nil
}

// mint issues a token for an existing customer and skill, at the
// customer's region's endpoint. Consent is not needed to hold a token, as
// on the live service: it is checked when the token is used.
func (s *server) mint(r *http.Request, customerID, skillID string, ttl time.Duration) (*tokenResponse, error) {
	if err := profileapi.ValidateCustomerID(customerID); err != nil {
		return nil, err
	}
	if err := profileapi.ValidateSkillID(skillID); err != nil {
		return nil, err
	}
	ctx := r.Context()
	c, err := s.Store.Customer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.Skill(ctx, skillID); err != nil {
		return nil, err
	}
	endpoint := s.Endpoints.URL(c.Region)
	tok, exp, err := s.Tokens.Issue(ctx, token.Claims{
		CustomerID: c.ID,
		SkillID:    skillID,
		DeviceID:   profileapi.DeviceID(c.ID),
		Region:     c.Region,
		Audience:   endpoint,
	}, ttl)
	if err != nil {
		return nil, err
	}
	return &tokenResponse{APIAccessToken: tok, APIEndpoint: endpoint, ExpiresAt: exp.UTC()}, nil
}
