package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/token"
)

// handleSetting answers GET and HEAD of one profile setting, the one the
// path's {field} names.
func (s *server) handleSetting(regions []profileapi.Region) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.serveSetting(w, r, regions, r.PathValue("field"))
	}
}

// handleField answers GET and HEAD of the setting named name.
func (s *server) handleField(regions []profileapi.Region, name string) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.serveSetting(w, r, regions, name)
	}
}

// serveSetting answers GET and HEAD of the setting named name.
func (s *server) serveSetting(w http.ResponseWriter, r *http.Request, regions []profileapi.Region, name string) error {
	field, ok := profileapi.ParseField(name)
	if !ok {
		closeIfBody(w, r)
		return &profileapi.Error{Kind: profileapi.ENOTFOUND, Code: "INVALID_KEY",
			Message: fmt.Sprintf("%q is not a setting of this API; use Profile.name, Profile.givenName, Profile.email or Profile.mobileNumber", name)}
	}
	// The observers learn the operation now, so that a call refused
	// before its token was read still counts under its setting.
	call := calls.Get().(*Call)
	*call = Call{Field: field}
	info := web.InfoOf(w)
	if info != nil {
		info.Call = call
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		closeIfBody(w, r)
		w.Header().Set("Allow", "GET, HEAD")
		return &profileapi.Error{Kind: web.EMETHOD, Message: r.Method + " is not allowed on " + field.String() + "; use GET (or HEAD)"}
	}
	if web.HasBody(w, r) {
		return profileapi.Errorf(profileapi.EINVALID, "the request must not have a body")
	}
	region, ok := s.Endpoints.RegionOf(regions, r.Host)
	if !ok {
		// Not the token's fault: a proxy that rewrote Host, or a wrong
		// host name. An SDK would report a 401 as a bad token.
		return &profileapi.Error{Kind: profileapi.ENOTFOUND, Code: "INVALID_KEY",
			Message: fmt.Sprintf("no region's endpoint is at host %.100q under this path: the regions sharing it are told apart by Host", r.Host)}
	}
	raw, err := bearer(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	claims, err := s.Tokens.Verify(ctx, raw)
	if err != nil {
		return err
	}
	if claims.Region != region || claims.Audience != s.Endpoints.URL(region) {
		return profileapi.Errorf(profileapi.EUNAUTHORIZED, "the token was issued for another endpoint than this %s endpoint", region)
	}
	call.Region, call.SkillID, call.CustomerID = region, claims.SkillID, claims.CustomerID
	info.AddAttrs(slog.String("skill", call.SkillID), slog.String("field", field.String()))
	for _, guard := range s.Guards {
		if err := guard(ctx, *call, info); err != nil {
			return err
		}
	}
	access, err := s.Store.Access(ctx, claims.CustomerID, claims.SkillID)
	if err == nil && newerThan(&claims, access) {
		// A cache that keeps entries up to an age (another node writes the
		// database) may hold the customer or skill this one replaced.
		if rr, ok := s.Store.(rereader); ok {
			access, err = rr.Reread(ctx, claims.CustomerID, claims.SkillID)
		}
	}
	if profileapi.IsNotFound(err) {
		return profileapi.Errorf(profileapi.EUNAUTHORIZED, "the customer or skill this token was issued for no longer exists")
	} else if err != nil {
		return err
	}
	// A customer or skill deleted since the token was issued may have
	// been created again under its id: that one is not the token's.
	if !sameCreation(claims.CustomerCreatedAt, access.Customer.CreatedAt, claims.IssuedAt) {
		return profileapi.Errorf(profileapi.EUNAUTHORIZED, "the customer this token was issued for no longer exists (the id was reused)")
	}
	if !sameCreation(claims.SkillCreatedAt, access.SkillCreatedAt, claims.IssuedAt) {
		return profileapi.Errorf(profileapi.EUNAUTHORIZED, "the skill this token was issued for no longer exists (the id was reused)")
	}
	if err := Decide(access, region, field); err != nil {
		var e *profileapi.Error
		if errors.As(err, &e) && e.Kind == profileapi.EFORBIDDEN {
			info.AddAttrs(slog.String("reason", strings.TrimPrefix(e.Message, "Access denied with reason: ")))
		}
		return err
	}
	return s.writeValue(w, info, field, &access.Customer.Profile)
}

// rereader is a store that may answer from a copy up to some age old (the
// cache on a database other nodes write): Reread asks the database.
type rereader interface {
	Reread(ctx context.Context, customerID, skillID string) (*profileapi.Access, error)
}

// newerThan reports whether the token names a customer or skill created
// after the one access holds, to the millisecond.
func newerThan(c *token.Claims, a *profileapi.Access) bool {
	return c.CustomerCreatedAt.UnixMilli() > a.Customer.CreatedAt.UnixMilli() && !c.CustomerCreatedAt.IsZero() ||
		c.SkillCreatedAt.UnixMilli() > a.SkillCreatedAt.UnixMilli() && !c.SkillCreatedAt.IsZero()
}

// sameCreation reports whether what was created at stored is what a token
// issued at issued was issued for, which the token says was created at
// claimed, to the millisecond. A token issued before tokens said so
// (claimed is zero) is compared by its issue time: one issued before its
// customer or skill was created belongs to an older one. Not to the
// second: a token minted on one node just after the customer was created
// on another, whose clock is a little ahead, would stay refused for good.
func sameCreation(claimed, stored, issued time.Time) bool {
	if !claimed.IsZero() {
		return claimed.UnixMilli() == stored.UnixMilli()
	}
	return !issued.Before(stored.Add(-issuedSkew))
}

// issuedSkew is how far a token's issue time may precede its customer's
// or skill's creation, for a token that does not say when they were
// created: more than nodes' clocks differ.
const issuedSkew = 5 * time.Second

// bearer returns the token of the request's Authorization header.
func bearer(r *http.Request) (string, error) {
	values := r.Header["Authorization"]
	switch {
	case len(values) == 0:
		return "", profileapi.Errorf(profileapi.EUNAUTHORIZED, "the Authorization header is missing: send Authorization: Bearer {apiAccessToken}")
	case len(values) > 1:
		return "", profileapi.Errorf(profileapi.EINVALID, "the request has more than one Authorization header")
	}
	if tok, ok := strings.CutPrefix(values[0], "Bearer "); ok && tok != "" && tok[0] != ' ' && !isSpace(tok[len(tok)-1]) {
		return tok, nil // the usual form: what the general case below would find
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok && strings.EqualFold(scheme, "Bearer") {
		ok = true // "Bearer " with the space trimmed, by net/http or above
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", profileapi.Errorf(profileapi.EUNAUTHORIZED, "the Authorization header is not a Bearer token: send Authorization: Bearer {apiAccessToken}")
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" {
		return "", profileapi.Errorf(profileapi.EUNAUTHORIZED, "the Bearer token is empty")
	}
	return tok, nil
}

// isSpace reports whether strings.TrimSpace trims the ASCII byte b.
func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r' || b >= 0x80
}

// writeValue answers with the field's value in the wire mode, or with the
// mode's answer for an absent value. The bodies are few and fixed in
// shape, so they are written by hand, escaped as encoding/json would,
// into the request's Body when info is not nil.
func (s *server) writeValue(w http.ResponseWriter, info *web.Info, field profileapi.Field, p *profileapi.Profile) error {
	var key, value string
	switch field {
	case profileapi.FieldName:
		key, value = "name", p.Name
	case profileapi.FieldGivenName:
		key, value = "name", p.GivenName
	case profileapi.FieldEmail:
		key, value = "email", p.Email
	}
	if field == profileapi.FieldMobileNumber && p.MobileNumber == nil || field != profileapi.FieldMobileNumber && value == "" {
		if s.Wire == WireAlexa {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return profileapi.Errorf(profileapi.ENOTFOUND, "the customer has no value for %s", field)
	}
	var b []byte // append grows it if the value is longer
	if info != nil {
		b = info.Body[:0]
	}
	switch {
	case field == profileapi.FieldMobileNumber: // an object in both modes
		b = append(b, `{"countryCode":`...)
		b = web.AppendJSONString(b, p.MobileNumber.CountryCode)
		b = append(b, `,"phoneNumber":`...)
		b = web.AppendJSONString(b, p.MobileNumber.PhoneNumber)
		b = append(b, '}')
	case s.Wire == WireAlexa:
		b = web.AppendJSONString(b, value)
	default:
		b = append(b, `{"`...)
		b = append(b, key...)
		b = append(b, `":`...)
		b = web.AppendJSONString(b, value)
		b = append(b, '}')
	}
	web.WriteJSON(w, http.StatusOK, b)
	return nil
}
