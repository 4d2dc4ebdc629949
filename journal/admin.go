package journal

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

// Routes registers the admin calls that read and clear the journal on the
// admin mux; auth is the admin key check.
func (j *Journal) Routes(mux *web.Mux, auth func(http.Handler) http.Handler) {
	mux.Handle("GET /admin/v1/journal", auth(web.HandlerFunc(j.listEntries)))
	mux.Handle("DELETE /admin/v1/journal", auth(web.HandlerFunc(j.clearEntries)))
}

// listEntries answers GET /admin/v1/journal?skillId=&customerId=&limit=.
func (j *Journal) listEntries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	// A misspelt, repeated or empty filter (a script's unset variable)
	// would otherwise list every call.
	for name, values := range q {
		switch {
		case name != "skillId" && name != "customerId" && name != "limit":
			return profileapi.Errorf(profileapi.EINVALID, "unknown query parameter %q: the journal filters by skillId, customerId and limit", name)
		case len(values) > 1:
			return profileapi.Errorf(profileapi.EINVALID, "query parameter %q is given %d times: give it once", name, len(values))
		case values[0] == "":
			return profileapi.Errorf(profileapi.EINVALID, "query parameter %q is empty: give a value, or leave it out to list every call", name)
		}
	}
	f := Filter{SkillID: q.Get("skillId"), CustomerID: q.Get("customerId")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if errors.Is(err, strconv.ErrRange) && s[0] != '-' {
			n, err = j.Size(), nil // more than it could keep
		}
		if err != nil || n < 1 {
			return profileapi.Errorf(profileapi.EINVALID, "limit must be a whole number, 1 or more (the journal keeps %d calls)", j.Size())
		}
		f.Limit = min(n, j.Size())
	}
	web.Encode(w, http.StatusOK, map[string][]Entry{"entries": j.List(f)})
	return nil
}

func (j *Journal) clearEntries(w http.ResponseWriter, r *http.Request) error {
	if r.URL.RawQuery != "" {
		// Taken for a filter, it would clear other jobs' entries too.
		return profileapi.Errorf(profileapi.EINVALID, "DELETE /admin/v1/journal takes no filter: it clears every entry")
	}
	j.Clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
