package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

type customerRequest struct {
	ID      string             `json:"id"`
	Region  profileapi.Region  `json:"region"`
	Profile profileapi.Profile `json:"profile"`
}

func (s *server) createCustomer(w http.ResponseWriter, r *http.Request) error {
	req, err := web.Decode[customerRequest](w, r, maxBody)
	if err != nil {
		return err
	}
	now := s.creationTime()
	c := &profileapi.Customer{ID: req.ID, Region: req.Region, Profile: req.Profile, CreatedAt: now, UpdatedAt: now}
	if c.ID == "" {
		c.ID = profileapi.NewCustomerID()
	}
	if c.Region == "" {
		return profileapi.Errorf(profileapi.EINVALID, "region is required: NA, EU or FE")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if err := s.Store.CreateCustomer(r.Context(), c); err != nil {
		return alreadyExists(err, "customer "+c.ID)
	}
	web.Encode(w, http.StatusCreated, c)
	return nil
}

func (s *server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := profileapi.ValidateCustomerID(id); err != nil {
		return err
	}
	c, err := s.Store.Customer(r.Context(), id)
	if err != nil {
		return profileapi.Absent(err, "customer", id)
	}
	web.Encode(w, http.StatusOK, c)
	return nil
}

// customerPatch is a JSON merge patch (RFC 7396) of a customer: a member
// left out keeps its value, null removes it.
type customerPatch struct {
	Region  optional[profileapi.Region] `json:"region"`
	Profile optional[profilePatch]      `json:"profile"`
}

type profilePatch struct {
	Name         optional[string]           `json:"name"`
	GivenName    optional[string]           `json:"givenName"`
	Email        optional[string]           `json:"email"`
	MobileNumber optional[phoneNumberPatch] `json:"mobileNumber"`
}

// phoneNumberPatch merges into the mobile number as any object does: a
// member left out keeps its value, so a new phoneNumber keeps its
// countryCode.
type phoneNumberPatch struct {
	CountryCode optional[string] `json:"countryCode"`
	PhoneNumber optional[string] `json:"phoneNumber"`
}

// optional tells a member that was left out (Set false) from one that is
// null (Set true, Null true).
type optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// JSONShape is T: the names of its members are checked as T's.
func (optional[T]) JSONShape() reflect.Type { return reflect.TypeFor[T]() }

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	// A member given twice is the last one, as for every other field:
	// not a removal and a value merged into one.
	*o = optional[T]{Set: true}
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	// A nested decoder would otherwise forget the outer one's rule.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.Value)
}

func (s *server) patchCustomer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := profileapi.ValidateCustomerID(id); err != nil {
		return err
	}
	patch, err := web.Decode[customerPatch](w, r, maxBody)
	if err != nil {
		return err
	}
	if patch.Region.Null {
		return profileapi.Errorf(profileapi.EINVALID, "region cannot be removed")
	}
	c, err := s.Store.UpdateCustomer(r.Context(), id, func(c *profileapi.Customer) error {
		if patch.Region.Set {
			c.Region = patch.Region.Value
		}
		if patch.Profile.Null {
			c.Profile = profileapi.Profile{}
		}
		p := patch.Profile.Value
		mergeString(&c.Profile.Name, p.Name)
		mergeString(&c.Profile.GivenName, p.GivenName)
		mergeString(&c.Profile.Email, p.Email)
		switch {
		case p.MobileNumber.Null:
			c.Profile.MobileNumber = nil
		case p.MobileNumber.Set:
			var n profileapi.PhoneNumber
			if c.Profile.MobileNumber != nil {
				n = *c.Profile.MobileNumber
			}
			mergeString(&n.CountryCode, p.MobileNumber.Value.CountryCode)
			mergeString(&n.PhoneNumber, p.MobileNumber.Value.PhoneNumber)
			c.Profile.MobileNumber = &n
		}
		return c.Validate() // the merged whole: a number must suit its country code
	})
	if err != nil {
		return profileapi.Absent(err, "customer", id)
	}
	web.Encode(w, http.StatusOK, c)
	return nil
}

func mergeString(dst *string, o optional[string]) {
	if o.Set {
		*dst = o.Value // null leaves Value "", which is absent
	}
}

func (s *server) deleteCustomer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := profileapi.ValidateCustomerID(id); err != nil {
		return err
	}
	if err := s.Store.DeleteCustomer(r.Context(), id); err != nil {
		return profileapi.Absent(err, "customer", id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
