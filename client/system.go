package client

import (
	"encoding/json"
	"errors"
	"fmt"
)

// System is the context.System object of an Alexa request envelope: who is
// asking, for which skill, and how to reach the API on their behalf. Embed
// it in a skill's own envelope type, or get it with ParseSystem.
type System struct {
	// APIEndpoint is the customer's regional API endpoint, such as
	// "https://api.amazonalexa.com", or a self-hosted server's address.
	APIEndpoint string `json:"apiEndpoint"`
	// APIAccessToken is the Bearer token for this customer and skill; it
	// expires minutes after the request. Printing or logging a System, or
	// an envelope embedding one, shows it: log a Client instead, which
	// hides it.
	APIAccessToken string `json:"apiAccessToken"`
	// User is the customer.
	User User `json:"user"`
	// Application is the skill.
	Application Application `json:"application"`
}

// User is context.System.user: the customer's account.
type User struct {
	// UserID is the customer's id for this skill ("amzn1.ask.account.…").
	UserID string `json:"userId"`
	// Permissions is present when the customer has granted the skill any
	// permission.
	Permissions Permissions `json:"permissions"`
}

// Permissions is context.System.user.permissions.
type Permissions struct {
	// ConsentToken is set when the customer has granted any permission; the
	// profile API does not need it, the apiAccessToken carries the consent.
	ConsentToken string `json:"consentToken"`
}

// Application is context.System.application: the skill.
type Application struct {
	// ApplicationID is the skill's id ("amzn1.ask.skill.…").
	ApplicationID string `json:"applicationId"`
}

// ParseSystem reads context.System from an Alexa request envelope (the
// JSON body Alexa POSTs to a skill). It checks only that the envelope is
// JSON; FromRequest also checks the endpoint and the token.
func ParseSystem(envelope []byte) (System, error) {
	var env struct {
		Context struct {
			System System `json:"System"`
		} `json:"context"`
	}
	if err := json.Unmarshal(envelope, &env); err != nil {
		return System{}, fmt.Errorf("client: parse request envelope: %w", err)
	}
	return env.Context.System, nil
}

// FromRequest returns a Client for the customer and skill of an Alexa
// request envelope, calling the endpoint in its context.System.apiEndpoint
// with the token in its context.System.apiAccessToken. It fails if the
// envelope is not JSON, lacks either value, or names an endpoint that is not
// an absolute http or https URL.
func FromRequest(envelope []byte, opts ...Option) (*Client, error) {
	sys, err := ParseSystem(envelope)
	if err != nil {
		return nil, err
	}
	if sys.APIAccessToken == "" {
		return nil, errors.New("client: request envelope has no context.System.apiAccessToken")
	}
	if sys.APIEndpoint == "" {
		return nil, errors.New("client: request envelope has no context.System.apiEndpoint")
	}
	if _, err := parseEndpoint(sys.APIEndpoint); err != nil {
		return nil, err
	}
	return New(sys.APIEndpoint, sys.APIAccessToken, opts...), nil
}
