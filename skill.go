package profileapi

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// Skill is a voice application that declares the scopes it may ask a
// customer for.
type Skill struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Permissions ScopeSet  `json:"permissions"`
	CreatedAt   time.Time `json:"createdAt"`
}

const (
	skillIDPrefix    = "amzn1.ask.skill."
	customerIDPrefix = "amzn1.ask.account."
	maxIDLen         = 255
)

// NewSkillID returns a fresh id of the live service's form.
func NewSkillID() string { return skillIDPrefix + uuid.NewString() }

// Validate checks the skill's id and name.
func (s *Skill) Validate() error {
	if err := ValidateSkillID(s.ID); err != nil {
		return err
	}
	if strings.TrimSpace(s.Name) == "" {
		return Errorf(EINVALID, "name is required")
	}
	return validateName("name", s.Name)
}

// ValidateSkillID accepts ids of the form amzn1.ask.skill.{...}.
func ValidateSkillID(id string) error {
	return validateID(id, skillIDPrefix, "skill")
}

// ValidateCustomerID accepts ids of the form amzn1.ask.account.{...}.
func ValidateCustomerID(id string) error {
	return validateID(id, customerIDPrefix, "customer")
}

// badID refuses id, shown cut short: an id of kilobytes would fill the
// message.
func badID(id, prefix, what string) error {
	return Errorf(EINVALID, "%s id %.80q must be %s followed by 1 to %d letters, digits, '.', '-' or '_'", what, id, prefix, maxIDLen-len(prefix))
}

// validateID keeps ids to a safe alphabet, so they can appear in paths,
// logs and token claims without escaping.
func validateID(id, prefix, what string) error {
	if id == "" {
		return Errorf(EINVALID, "a %s id is required: %s followed by 1 to %d letters, digits, '.', '-' or '_'", what, prefix, maxIDLen-len(prefix))
	}
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || rest == "" || len(id) > maxIDLen {
		return badID(id, prefix, what)
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return badID(id, prefix, what)
		}
	}
	return nil
}
