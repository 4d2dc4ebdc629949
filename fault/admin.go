package fault

import (
	"net/http"

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
// remaining are the server's, so sending them is an unknown field.
type faultRequest struct {
	SkillID           string  `json:"skillId"`
	CustomerID        string  `json:"customerId"`
	Operation         string  `json:"operation"`
	Status            int     `json:"status"`
	RetryAfterSeconds int     `json:"retryAfterSeconds"`
	LatencyMS         int     `json:"latencyMs"`
	Count             int     `json:"count"`
	Fraction          float64 `json:"fraction"`
	Seed              *int64  `json:"seed"`
}

func (i *Injector) createFault(w http.ResponseWriter, r *http.Request) error {
	req, err := web.Decode[faultRequest](w, r, maxBody)
	if err != nil {
		return err
	}
	f, err := i.Add(Fault{
		SkillID:           req.SkillID,
		CustomerID:        req.CustomerID,
		Field:             req.Operation,
		Status:            req.Status,
		RetryAfterSeconds: req.RetryAfterSeconds,
		LatencyMS:         req.LatencyMS,
		Count:             req.Count,
		Fraction:          req.Fraction,
		Seed:              req.Seed,
	})
	if err != nil {
		return err
	}
	web.Encode(w, http.StatusCreated, f)
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

func (i *Injector) clearFaults(w http.ResponseWriter, r *http.Request) error {
	i.Clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
