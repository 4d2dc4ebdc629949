package fault

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

// maxBody caps a fault request body.
const maxBody = 4 << 10

// Routes registers the admin calls that add, list and remove faults on the
// admin mux; auth is the admin key check.
func (i *Injector) Routes(mux *web.Mux, auth func(http.Handler) http.Handler) {
	mux.Handle("POST /admin/v1/faults", auth(web.HandlerFunc(i.createFault)))
	mux.Handle("GET /admin/v1/faults", auth(web.HandlerFunc(i.listFaults)))
	mux.Handle("DELETE /admin/v1/faults", auth(web.HandlerFunc(i.clearFaults)))
	mux.Handle("DELETE /admin/v1/faults/{id}", auth(web.HandlerFunc(i.deleteFault)))
}

// faultRequest is what a caller may choose of a fault; id, createdAt and
// remaining are the server's, so sending them is an unknown field. Its
// integers are web.Int, so that 503.0 is 503, as the document's "integer"
// says.
type faultRequest struct {
	SkillID           json.RawMessage `json:"skillId"`
	CustomerID        json.RawMessage `json:"customerId"`
	Operation         json.RawMessage `json:"operation"`
	Status            web.Int         `json:"status"`
	RetryAfterSeconds web.Int         `json:"retryAfterSeconds"`
	LatencyMS         web.Int         `json:"latencyMs"`
	Count             web.Int         `json:"count"`
	Fraction          web.Float       `json:"fraction"`
	Seed              *web.Int        `json:"seed"`
}

func (i *Injector) createFault(w http.ResponseWriter, r *http.Request) error {
	req, err := web.Decode[faultRequest](w, r, maxBody)
	if err != nil {
		return err
	}
	var scope [3]string
	for k, m := range []struct {
		name string
		raw  json.RawMessage
	}{{"skillId", req.SkillID}, {"customerId", req.CustomerID}, {"operation", req.Operation}} {
		if scope[k], err = scopeOf(m.name, m.raw); err != nil {
			return err
		}
	}
	f := Fault{
		SkillID:           scope[0],
		CustomerID:        scope[1],
		Field:             scope[2],
		Status:            req.Status.Int(),
		RetryAfterSeconds: req.RetryAfterSeconds.Int(),
		LatencyMS:         req.LatencyMS.Int(),
		Count:             req.Count.Int(),
		Fraction:          float64(req.Fraction),
		Seed:              (*int64)(req.Seed),
	}
	// A malformed fault is 400 before a well-formed id that names nobody
	// is 404.
	if err := f.Validate(); err != nil {
		return err
	}
	if err := i.known(r.Context(), f.SkillID, f.CustomerID); err != nil {
		return err
	}
	f, err = i.Add(f)
	if err != nil {
		return err
	}
	web.Encode(w, http.StatusCreated, f)
	return nil
}

// known checks with the Directory that the skill and the customer named
// (where one is) exist.
func (i *Injector) known(ctx context.Context, skillID, customerID string) error {
	if i.Directory == nil {
		return nil
	}
	if skillID != "" {
		if _, err := i.Directory.Skill(ctx, skillID); err != nil {
			return profileapi.Absent(err, "skill", skillID)
		}
	}
	if customerID != "" {
		if _, err := i.Directory.Customer(ctx, customerID); err != nil {
			return profileapi.Absent(err, "customer", customerID)
		}
	}
	return nil
}

func (i *Injector) listFaults(w http.ResponseWriter, r *http.Request) error {
	web.Encode(w, http.StatusOK, map[string][]Fault{"faults": i.List()})
	return nil
}

func (i *Injector) deleteFault(w http.ResponseWriter, r *http.Request) error {
	if err := i.Delete(r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// scopeOf reads a fault's scope member: absent, any; else a string. An
// empty or null one is most likely a script's unset variable: taken for
// any, it would fail every call of every job sharing the server.
func scopeOf(name string, raw json.RawMessage) (string, error) {
	if raw == nil {
		return "", nil
	}
	var v string
	switch {
	case string(raw) == "null":
		return "", profileapi.Errorf(profileapi.EINVALID, "%s is null: give a value, or leave it out for a fault on every one", name)
	case json.Unmarshal(raw, &v) != nil:
		return "", profileapi.Errorf(profileapi.EINVALID, "%s must be a string", name)
	case v == "":
		return "", profileapi.Errorf(profileapi.EINVALID, "%s is empty: give a value, or leave it out for a fault on every one", name)
	}
	return v, nil
}

func (i *Injector) clearFaults(w http.ResponseWriter, r *http.Request) error {
	if r.URL.RawQuery != "" {
		return profileapi.Errorf(profileapi.EINVALID, "DELETE /admin/v1/faults takes no filter: it clears every fault (DELETE /admin/v1/faults/{id} clears one)")
	}
	i.Clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
