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
	CustomerID string      `json:"customerId"`
	SkillID    string      `json:"skillId"`
	TTLSeconds *ttlSeconds `json:"ttlSeconds"`
}

// maxTTLSeconds is the longest lifetime ttlSeconds may ask for.
const maxTTLSeconds = int64(token.MaxTTL / time.Second)

// ttlSeconds is a token's lifetime as asked for: a whole number of
// seconds. Decoded into an int64, 1.5 would be "not a number"; 600.0 and
// 6e2 are whole numbers, as JSON Schema's integer says. It parses as
// web.Int does, with a message of its own that gives the range.
type ttlSeconds int64

func (t *ttlSeconds) UnmarshalJSON(b []byte) error {
	n, ok := web.ParseWhole(string(b)) // fails on any other JSON value
	if !ok {
		return profileapi.Errorf(profileapi.EINVALID, "ttlSeconds must be a whole number of seconds from 1 to %d", maxTTLSeconds)
	}
	*t = ttlSeconds(n)
	return nil
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
func tokenTTL(seconds *ttlSeconds) (time.Duration, error) {
	if seconds == nil {
		return token.DefaultTTL, nil
	}
	if *seconds < 1 || int64(*seconds) > maxTTLSeconds {
		return 0, profileapi.Errorf(profileapi.EINVALID, "ttlSeconds must be between 1 and %d", maxTTLSeconds)
	}
	return time.Duration(*seconds) * time.Second, nil
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
		return nil, profileapi.Absent(err, "customer", customerID)
	}
	sk, err := s.Store.Skill(ctx, skillID)
	if err != nil {
		return nil, profileapi.Absent(err, "skill", skillID)
	}
	return s.issue(ctx, c, skillID, sk.CreatedAt, ttl)
}

// issue mints a token for a customer and skill known to exist, the skill
// created at skillCreated.
func (s *server) issue(ctx context.Context, c *profileapi.Customer, skillID string, skillCreated time.Time, ttl time.Duration) (*tokenResponse, error) {
	endpoint := s.Endpoints.URL(c.Region)
	tok, exp, err := s.Tokens.Issue(ctx, token.Claims{
		CustomerID:        c.ID,
		SkillID:           skillID,
		DeviceID:          profileapi.DeviceID(c.ID),
		Region:            c.Region,
		Audience:          endpoint,
		CustomerCreatedAt: c.CreatedAt,
		SkillCreatedAt:    skillCreated,
	}, ttl)
	if err != nil {
		return nil, err
	}
	return &tokenResponse{APIAccessToken: tok, APIEndpoint: endpoint, ExpiresAt: exp.UTC()}, nil
}
