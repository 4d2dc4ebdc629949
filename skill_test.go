package profileapi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/profileapi/profileapi"
)

// An id's error says what is wrong in words a caller can act on: a missing
// id is required, not "" in the wrong form, and a long one is cut short.
func TestIDErrors(t *testing.T) {
	long := "amzn1.ask.skill." + strings.Repeat("x/", 30000)
	for _, c := range []struct {
		err  error
		want string
	}{
		{profileapi.ValidateSkillID(""), "a skill id is required: amzn1.ask.skill. followed by"},
		{profileapi.ValidateCustomerID(""), "a customer id is required: amzn1.ask.account. followed by"},
		{profileapi.ValidateSkillID("amzn1.ask.skill."), `skill id "amzn1.ask.skill." must be amzn1.ask.skill. followed by`},
		{profileapi.ValidateCustomerID("amzn1.ask.account.a b"), `customer id "amzn1.ask.account.a b" must be`},
		{profileapi.ValidateSkillID(long), `skill id "amzn1.ask.skill.x/x/`},
	} {
		e, ok := errors.AsType[*profileapi.Error](c.err)
		if !ok || e.Kind != profileapi.EINVALID || !strings.HasPrefix(e.Message, c.want) || len(e.Message) > 300 {
			t.Errorf("error %v, want EINVALID starting %q, under 300 bytes", c.err, c.want)
		}
	}
	if err := profileapi.ValidateSkillID("amzn1.ask.skill.ok-1_2.3"); err != nil {
		t.Errorf("a valid id: %v", err)
	}
}
