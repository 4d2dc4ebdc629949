package admin

import (
	"errors"
	"net/http"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

type skillRequest struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Permissions *profileapi.ScopeSet `json:"permissions"`
}

func (s *server) createSkill(w http.ResponseWriter, r *http.Request) error {
	req, err := web.Decode[skillRequest](w, r, maxBody)
	if err != nil {
		return err
	}
	if req.Permissions == nil {
		return profileapi.Errorf(profileapi.EINVALID, "permissions is required: a list of the scopes the skill may ask for (it may be empty)")
	}
	skill := &profileapi.Skill{ID: req.ID, Name: req.Name, Permissions: *req.Permissions, CreatedAt: s.creationTime()}
	if skill.ID == "" {
		skill.ID = profileapi.NewSkillID()
	}
	if err := skill.Validate(); err != nil {
		return err
	}
	if err := s.Store.CreateSkill(r.Context(), skill); err != nil {
		return alreadyExists(err, "skill "+skill.ID)
	}
	web.Encode(w, http.StatusCreated, skill)
	return nil
}

func (s *server) listSkills(w http.ResponseWriter, r *http.Request) error {
	skills, err := s.Store.Skills(r.Context())
	if err != nil {
		return err
	}
	if skills == nil {
		skills = []*profileapi.Skill{}
	}
	web.Encode(w, http.StatusOK, map[string]any{"skills": skills})
	return nil
}

func (s *server) getSkill(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := profileapi.ValidateSkillID(id); err != nil {
		return err
	}
	skill, err := s.Store.Skill(r.Context(), id)
	if err != nil {
		return profileapi.Absent(err, "skill", id)
	}
	web.Encode(w, http.StatusOK, skill)
	return nil
}

func (s *server) deleteSkill(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := profileapi.ValidateSkillID(id); err != nil {
		return err
	}
	if err := s.Store.DeleteSkill(r.Context(), id); err != nil {
		return profileapi.Absent(err, "skill", id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// alreadyExists names what a store's conflict is about: "skill … already
// exists" rather than the store's bare "already exists".
func alreadyExists(err error, what string) error {
	var e *profileapi.Error
	if !errors.As(err, &e) || e.Kind != profileapi.ECONFLICT {
		return err
	}
	out := *e
	out.Message = what + " already exists"
	return &out
}
