package admin

import (
	"context"
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
	ttl, err := tokenTTL(req.TTLSeconds)
	if err != nil {
		return err
	}
	resp, err := s.mint(r, req.CustomerID, req.SkillID, ttl)
	if err != nil {
		return err
	}
	web.Encode(w, http.StatusCreated, resp)
	return nil
}

// tokenTTL is the lifetime ttlSeconds asks for, or the default.
func tokenTTL(ttlSeconds *int64) (time.Duration, error) {
	if ttlSeconds == nil {
		return token.DefaultTTL, nil
	}
	if *ttlSeconds < 1 || *ttlSeconds > int64(token.MaxTTL/time.Second) {
		return 0, profileapi.Errorf(profileapi.EINVALID, "ttlSeconds must be between 1 and %d", int64(token.MaxTTL/time.Second))
	}
	return time.Duration(*ttlSeconds) * time.Second, nil
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
	return s.issue(ctx, c, skillID, ttl)
}

// issue mints a token for a customer and skill known to exist.
func (s *server) issue(ctx context.Context, c *profileapi.Customer, skillID string, ttl time.Duration) (*tokenResponse, error) {
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
