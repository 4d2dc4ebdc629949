package admin

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/token"
)

type requestRequest struct {
	Type       string        `json:"type"`
	CustomerID string        `json:"customerId"`
	SkillID    string        `json:"skillId"`
	Intent     *intentOrName `json:"intent"`
	Locale     string        `json:"locale"`
}

// intentOrName accepts an intent as its name alone or as an object.
type intentOrName struct {
	Name               string                     `json:"name"`
	ConfirmationStatus string                     `json:"confirmationStatus,omitempty"`
	Slots              map[string]json.RawMessage `json:"slots,omitempty"`
}

// JSONShape is the object form's: its member names are checked as any
// other body's.
func (intentOrName) JSONShape() reflect.Type {
	type plain intentOrName
	return reflect.TypeFor[plain]()
}

func (i *intentOrName) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &i.Name)
	}
	type plain intentOrName
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(i))
}

var defaultLocale = map[profileapi.Region]string{
	profileapi.RegionNA: "en-US",
	profileapi.RegionEU: "en-GB",
	profileapi.RegionFE: "ja-JP",
}

// createRequest builds the request envelope the skill would receive from
// Alexa, with a fresh token in context.System.
func (s *server) createRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := web.Decode[requestRequest](w, r, maxBody)
	if err != nil {
		return err
	}
	switch req.Type {
	case "LaunchRequest":
		if req.Intent != nil {
			return profileapi.Errorf(profileapi.EINVALID, "intent is only for an IntentRequest")
		}
	case "IntentRequest":
		if req.Intent == nil || req.Intent.Name == "" {
			return profileapi.Errorf(profileapi.EINVALID, `an IntentRequest needs an intent: "intent": "MyIntent" or {"name": "MyIntent", "slots": {...}}`)
		}
		if req.Intent.ConfirmationStatus, err = confirmation("intent.confirmationStatus", req.Intent.ConfirmationStatus); err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(req.Intent.Slots)) { // the first bad one, always the same
			if req.Intent.Slots[name], err = slot(name, req.Intent.Slots[name]); err != nil {
				return err
			}
		}
	default:
		return profileapi.Errorf(profileapi.EINVALID, "type must be LaunchRequest or IntentRequest, not %q", req.Type)
	}
	if req.Locale != "" && !localePattern.MatchString(req.Locale) {
		return profileapi.Errorf(profileapi.EINVALID, "locale %.40q: want a language and region, such as en-US or de-DE", req.Locale)
	}
	tok, err := s.mint(r, req.CustomerID, req.SkillID, token.DefaultTTL)
	if err != nil {
		return err
	}
	ctx := r.Context()
	customer, err := s.Store.Customer(ctx, req.CustomerID)
	if err != nil {
		return profileapi.Absent(err, "customer", req.CustomerID)
	}
	consent, err := s.Store.Consent(ctx, req.CustomerID, req.SkillID)
	if err != nil && !profileapi.IsNotFound(err) {
		return err
	}
	user := map[string]any{"userId": req.CustomerID}
	if consent != nil && consent.Scopes != 0 {
		user["permissions"] = map[string]any{"consentToken": tok.APIAccessToken}
	}
	application := map[string]any{"applicationId": req.SkillID}
	locale := req.Locale
	if locale == "" {
		locale = defaultLocale[customer.Region]
	}
	request := map[string]any{
		"type":      req.Type,
		"requestId": "amzn1.echo-api.request." + uuid.NewString(),
		"timestamp": s.Now().UTC().Format(time.RFC3339),
		"locale":    locale,
	}
	if req.Type == "IntentRequest" {
		slots := req.Intent.Slots
		if slots == nil {
			slots = map[string]json.RawMessage{}
		}
		// No dialogState: Alexa sends one only to a skill with a dialog
		// model, and its presence sends the request to auto-delegation.
		request["intent"] = map[string]any{"name": req.Intent.Name, "confirmationStatus": req.Intent.ConfirmationStatus, "slots": slots}
	} else {
		request["shouldLinkResultBeReturned"] = false
	}
	web.Encode(w, http.StatusOK, map[string]any{
		"version": "1.0",
		"session": map[string]any{
			"new":         true, // a fresh session: a launch, or a one-shot intent
			"sessionId":   "amzn1.echo-api.session." + uuid.NewString(),
			"application": application,
			"attributes":  map[string]any{},
			"user":        user,
		},
		"context": map[string]any{
			"System": map[string]any{
				"application": application,
				"user":        user,
				"device": map[string]any{
					"deviceId":            profileapi.DeviceID(req.CustomerID),
					"supportedInterfaces": map[string]any{},
				},
				"apiEndpoint":    tok.APIEndpoint,
				"apiAccessToken": tok.APIAccessToken,
			},
		},
		"request": request,
	})
	return nil
}

// localePattern is the shape of Alexa's locales (en-US, de-DE, es-MX): a
// language and a region. Only the shape is checked.
var localePattern = regexp.MustCompile(`^[a-z]{2,3}-([A-Z]{2}|[0-9]{3})$`)

// confirmation checks a confirmationStatus, NONE if empty.
func confirmation(what, status string) (string, error) {
	switch status {
	case "":
		return "NONE", nil
	case "NONE", "CONFIRMED", "DENIED":
		return status, nil
	}
	return "", profileapi.Errorf(profileapi.EINVALID, "%s %q: want NONE, CONFIRMED or DENIED", what, status)
}

// slot is the slot named name as Alexa sends it, {"name", "value"?,
// "confirmationStatus", ...}, from the object given or from its value
// alone ("size": "large"). Members beyond those three, such as
// resolutions, pass as given.
func slot(name string, raw json.RawMessage) (json.RawMessage, error) {
	var value string
	if string(raw) != "null" && json.Unmarshal(raw, &value) == nil {
		raw, _ = json.Marshal(map[string]string{"value": value})
	}
	var s map[string]json.RawMessage
	if err := json.Unmarshal(raw, &s); err != nil || s == nil {
		return nil, profileapi.Errorf(profileapi.EINVALID, "intent.slots.%s: want its value, or an object such as {\"name\": %q, \"value\": \"...\"}", name, name)
	}
	var got struct {
		Name, Value        *string
		ConfirmationStatus string
	}
	for _, m := range []struct {
		name string
		dest any
	}{{"name", &got.Name}, {"value", &got.Value}, {"confirmationStatus", &got.ConfirmationStatus}} {
		if v, ok := s[m.name]; ok && json.Unmarshal(v, m.dest) != nil {
			return nil, profileapi.Errorf(profileapi.EINVALID, "intent.slots.%s.%s must be a string", name, m.name)
		}
	}
	if got.Name != nil && *got.Name != name {
		return nil, profileapi.Errorf(profileapi.EINVALID, "intent.slots.%s.name is %q: a slot's name is its key", name, *got.Name)
	}
	status, err := confirmation("intent.slots."+name+".confirmationStatus", got.ConfirmationStatus)
	if err != nil {
		return nil, err
	}
	s["name"], _ = json.Marshal(name)
	s["confirmationStatus"], _ = json.Marshal(status)
	return json.Marshal(s)
}
