package ratelimit

import (
	"context"
	"net/http"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

// maxBody caps a rate-limit request body.
const maxBody = 4 << 10

// Routes registers the admin calls that read and override a skill's limit
// on the admin mux; auth is the admin key check.
func (p *Policy) Routes(mux *web.Mux, auth func(http.Handler) http.Handler) {
	mux.Handle("GET /admin/v1/skills/{id}/rate-limit", auth(web.HandlerFunc(p.getLimit)))
	mux.Handle("PUT /admin/v1/skills/{id}/rate-limit", auth(web.HandlerFunc(p.putLimit)))
	mux.Handle("DELETE /admin/v1/skills/{id}/rate-limit", auth(web.HandlerFunc(p.deleteLimit)))
}

// limitBody is a limit on the wire.
type limitBody struct {
	RatePerSecond float64 `json:"ratePerSecond"`
	Burst         int     `json:"burst"`
}

// skillLimitBody answers GET and PUT: the skill's limit, where it comes
// from ("default" or "override"), and the per-customer limit if any.
type skillLimitBody struct {
	SkillID string `json:"skillId"`
	limitBody
	Source   string     `json:"source"`
	Customer *limitBody `json:"customer,omitempty"`
}

// limitRequest is the PUT body. ratePerSecond is a pointer so that leaving
// it out is an error rather than a silent "unlimited". burst is a web.Int,
// so that 3.0 is 3, as the document's "integer" says.
type limitRequest struct {
	RatePerSecond *web.Float `json:"ratePerSecond"`
	Burst         web.Int    `json:"burst"`
}

func (p *Policy) getLimit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := profileapi.ValidateSkillID(id); err != nil {
		return err
	}
	if err := p.exists(r.Context(), id); err != nil {
		return err
	}
	web.Encode(w, http.StatusOK, p.describe(id))
	return nil
}

func (p *Policy) putLimit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := profileapi.ValidateSkillID(id); err != nil {
		return err
	}
	req, err := web.Decode[limitRequest](w, r, maxBody)
	if err != nil {
		return err
	}
	if req.RatePerSecond == nil {
		return profileapi.Errorf(profileapi.EINVALID, "ratePerSecond is required: calls per second, or 0 for unlimited")
	}
	l := Limit{Rate: float64(*req.RatePerSecond), Burst: req.Burst.Int()}
	if err := l.Validate(); err != nil {
		return err
	}
	// A malformed request is 400 before a skill that does not exist is 404.
	if err := p.exists(r.Context(), id); err != nil {
		return err
	}
	if err := p.SetSkillLimit(id, l); err != nil {
		return err
	}
	web.Encode(w, http.StatusOK, p.describe(id))
	return nil
}

func (p *Policy) deleteLimit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := profileapi.ValidateSkillID(id); err != nil {
		return err
	}
	p.ResetSkillLimit(id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// exists checks with Skills, if set, that the skill exists.
func (p *Policy) exists(ctx context.Context, id string) error {
	if p.Skills == nil {
		return nil
	}
	_, err := p.Skills.Skill(ctx, id)
	return profileapi.Absent(err, "skill", id)
}

func (p *Policy) describe(skillID string) skillLimitBody {
	l, override := p.SkillLimit(skillID)
	if l.Unlimited() {
		l = Limit{}
	}
	b := skillLimitBody{SkillID: skillID, limitBody: limitBody{l.Rate, l.Burst}, Source: "default"}
	if override {
		b.Source = "override"
	}
	if !p.Customer.Unlimited() {
		b.Customer = &limitBody{p.Customer.Rate, p.Customer.Burst}
	}
	return b
}
