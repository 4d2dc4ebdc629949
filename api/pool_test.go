package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/cache"
	"github.com/profileapi/profileapi/internal/servertest"
	"github.com/profileapi/profileapi/internal/web"
)

// Calls at once, through the cache, each get their own customer's value and
// hand the observers their own call, though the calls, the answers' bodies
// and the cached customers' mobile numbers live in memory that requests
// reuse. The names run from a few bytes to the longest a name may be, past
// the room kept for a body. The observers run before net/http sends an
// answer this small, so each call is observed by the time its answer is
// read.
func TestConcurrentCallsKeepTheirOwn(t *testing.T) {
	var mu sync.Mutex
	observed := map[string]api.Call{} // by request id
	srv := servertest.Start(t, servertest.Options{
		Wire: api.WireDocumented,
		WrapStore: func(db profileapi.Store) profileapi.Store {
			c := cache.New(db, cache.Options{})
			t.Cleanup(func() { c.Close() })
			return c
		},
		Done: func(r *http.Request, c api.Call, info *web.Info, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			observed[info.RequestID] = c
		},
	})
	const skill = "amzn1.ask.skill.pool"
	srv.Skill(t, skill, profileapi.AllScopes)
	type customer struct {
		id, token string
		profile   profileapi.Profile
	}
	var customers []customer
	for i := range 24 {
		id := fmt.Sprintf("amzn1.ask.account.POOL%02d", i)
		p := profileapi.Profile{
			Name:         strings.Repeat(string(rune('a'+i)), 1+i*255/23),
			GivenName:    fmt.Sprintf("Given%d", i),
			Email:        fmt.Sprintf("customer%d@example.com", i),
			MobileNumber: &profileapi.PhoneNumber{CountryCode: fmt.Sprintf("+%d", i+1), PhoneNumber: fmt.Sprintf("555-%04d", i)},
		}
		srv.Customer(t, id, profileapi.RegionNA, p)
		srv.Consent(t, id, skill, profileapi.AllScopes)
		customers = append(customers, customer{id, srv.Token(t, id, skill), p})
	}
	want := func(c customer, field profileapi.Field) string {
		var v any
		switch field {
		case profileapi.FieldName:
			v = map[string]string{"name": c.profile.Name}
		case profileapi.FieldGivenName:
			v = map[string]string{"name": c.profile.GivenName}
		case profileapi.FieldEmail:
			v = map[string]string{"email": c.profile.Email}
		default:
			v = c.profile.MobileNumber
		}
		b, _ := json.Marshal(v) // of strings: it cannot fail
		return string(b)
	}
	fields := []profileapi.Field{profileapi.FieldName, profileapi.FieldGivenName, profileapi.FieldEmail, profileapi.FieldMobileNumber}

	type sent struct {
		customer string
		field    profileapi.Field
	}
	var sentMu sync.Mutex
	requests := map[string]sent{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 3 * len(customers) {
				c := customers[(g*7+n)%len(customers)]
				field := fields[(g+n)%len(fields)]
				id := fmt.Sprintf("pool-%d-%d", g, n)
				req, err := http.NewRequest(http.MethodGet, srv.URL+settings+field.String(), nil)
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+c.token)
				req.Header.Set("X-Request-Id", id)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK || string(body) != want(c, field) {
					t.Errorf("%s of %s: %d %s %v, want 200 %s", field, c.id, res.StatusCode, body, err, want(c, field))
					return
				}
				sentMu.Lock()
				requests[id] = sent{c.id, field}
				sentMu.Unlock()
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for id, s := range requests {
		got, ok := observed[id]
		if !ok {
			t.Errorf("request %s was not observed", id)
			continue
		}
		if got.CustomerID != s.customer || got.Field != s.field || got.SkillID != skill || got.Region != profileapi.RegionNA {
			t.Errorf("request %s for %s of %s: observed %+v", id, s.field, s.customer, got)
		}
	}
	if len(requests) != 8*3*len(customers) {
		t.Errorf("%d requests answered, want %d", len(requests), 8*3*len(customers))
	}
}
