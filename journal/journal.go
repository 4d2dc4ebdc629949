// Package journal keeps the most recent public-API calls in memory, so a
// skill's developer can see what the service was asked and how it answered
// ("did my skill retry after the 429? with which token?") without reading
// the server's log.
//
// An entry holds ids, the operation and the outcome: never a profile
// value. The journal is a fixed ring, so it costs the same memory however
// long the server runs, and recording a call is a lock and a copy.
package journal

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/internal/web"
)

// DefaultSize is how many entries New keeps when given no size.
const DefaultSize = 1000

// maxOperationLen caps an operation taken from a request path, which the
// caller chose, so one entry cannot hold a long string.
const maxOperationLen = 64

// Entry is one public-API call.
type Entry struct {
	// Time is when the call arrived.
	Time      time.Time `json:"time"`
	RequestID string    `json:"requestId"`
	// Region, SkillID and CustomerID are empty for a call refused before
	// its token was verified.
	Region     string `json:"region"`
	SkillID    string `json:"skillId"`
	CustomerID string `json:"customerId"`
	// Operation is the setting asked for, such as "Profile.email"; empty
	// when the path names none in letters and dots.
	Operation string `json:"operation"`
	Status    int    `json:"status"`
	// Code is the error code of an error answer.
	Code      string  `json:"code,omitempty"`
	LatencyMS float64 `json:"latencyMs"`
	// Fault is the id of the injected fault that answered or delayed the
	// call: an injected 429 or 503 from one the rate limit or the store
	// gave.
	Fault string `json:"fault,omitempty"`
}

// Filter selects entries. Empty fields select all.
type Filter struct {
	SkillID    string
	CustomerID string
	// Limit caps how many entries are returned; 0 returns all.
	Limit int
}

// Journal is a ring of the most recent entries. The zero Journal keeps
// DefaultSize entries. Set Now before the first call. It is safe for
// concurrent use.
type Journal struct {
	// Now tells when a call ended; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	ring []Entry
	next int // where the next entry goes
	full bool
}

// New returns an empty journal keeping the last size entries, or
// DefaultSize if size is not positive.
func New(size int) *Journal {
	if size <= 0 {
		size = DefaultSize
	}
	return &Journal{ring: make([]Entry, size)}
}

// Size is how many entries the journal keeps.
func (j *Journal) Size() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.init()
	return len(j.ring)
}

// init gives a zero Journal its ring. The caller holds j.mu.
func (j *Journal) init() {
	if j.ring == nil {
		j.ring = make([]Entry, DefaultSize)
	}
}

// Record adds e, dropping the oldest entry if the journal is full.
func (j *Journal) Record(e Entry) {
	j.mu.Lock()
	j.init()
	j.ring[j.next] = e
	j.next++
	if j.next == len(j.ring) {
		j.next, j.full = 0, true
	}
	j.mu.Unlock()
}

// List returns the entries f selects, newest first: by Time, when the call
// arrived. The ring holds them as they ended, so a slow call comes after
// those that arrived later but ended sooner.
func (j *Journal) List(f Filter) []Entry {
	out := j.selected(f)
	slices.SortStableFunc(out, func(a, b Entry) int { return b.Time.Compare(a.Time) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}

// selected returns the entries f's ids select, in the order the calls
// ended, the last first.
func (j *Journal) selected(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.init()
	n := j.next
	if j.full {
		n = len(j.ring)
	}
	out := make([]Entry, 0, n)
	for k := 1; k <= len(j.ring); k++ {
		idx := j.next - k
		if idx < 0 {
			if !j.full {
				break
			}
			idx += len(j.ring)
		}
		e := &j.ring[idx]
		if (f.SkillID != "" && e.SkillID != f.SkillID) || (f.CustomerID != "" && e.CustomerID != f.CustomerID) {
			continue
		}
		out = append(out, *e)
	}
	return out
}

// Clear empties the journal.
func (j *Journal) Clear() {
	j.mu.Lock()
	clear(j.ring) // drop the strings too, not just the count
	j.next, j.full = 0, false
	j.mu.Unlock()
}

// Done records a finished call; it matches api.Config.Done. The operation
// is the call's field or, for a call refused before the token was read,
// the setting named in the path.
func (j *Journal) Done(r *http.Request, c api.Call, info *web.Info, d time.Duration) {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	e := Entry{
		Time:       now().Add(-d).UTC(), // as every other time of the admin API
		RequestID:  info.RequestID,
		Region:     string(c.Region),
		SkillID:    c.SkillID,
		CustomerID: c.CustomerID,
		Status:     info.Status,
		Code:       info.ErrorCode,
		LatencyMS:  float64(d) / float64(time.Millisecond),
	}
	if c.Field != 0 {
		e.Operation = c.Field.String()
	} else {
		e.Operation = operation(r)
	}
	for _, a := range info.Attrs { // where the fault guard notes its id
		if a.Key == "fault" {
			e.Fault = a.Value.String()
		}
	}
	j.Record(e)
}

// operation is the {field} of the path or, where the path matched no
// route, its last segment, cut to maxOperationLen bytes: "Profile.adress"
// shows a skill's typo. A segment with anything but letters and dots is
// left out, as no setting's name has more: a client could have put an
// email address or a phone number there.
func operation(r *http.Request) string {
	op := r.PathValue("field")
	if op == "" {
		p := strings.TrimSuffix(r.URL.Path, "/")
		op = p[strings.LastIndexByte(p, '/')+1:]
	}
	for _, c := range []byte(op) { // all of it: an @ past the cut counts
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.') {
			return ""
		}
	}
	// A copy: the path shares the memory of the whole request line, which
	// the entry would otherwise keep, a query of kilobytes included.
	return strings.Clone(op[:min(len(op), maxOperationLen)])
}
