package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

// Lister lists every customer with the consents it gave, in id order;
// *sqlite.DB, *postgres.DB and the cache in front of either are ones.
type Lister interface {
	EachCustomer(ctx context.Context, fn func(c *profileapi.Customer, consents []*profileapi.Consent) error) error
}

// exportCustomers streams every customer as NDJSON, a line each in the
// import's shape, so that an export imports again: into another database
// (SQLite to PostgreSQL), or as a backup that outlives the schema. The
// store reads a page of customers at a time, each page a snapshot: a
// write during the export shows in the pages read after it only.
//
// An error before the first line is the answer; one after it ends the
// stream with an error line, as a token batch's does, which the CLI
// reports.
func (s *server) exportCustomers(w http.ResponseWriter, r *http.Request) error {
	lister, ok := s.Store.(Lister)
	if !ok {
		return profileapi.Errorf(profileapi.EINTERNAL, "the store cannot list its customers")
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	if r.Method == http.MethodHead {
		// Whether the export would begin, without a million customers
		// read for nothing.
		return s.Store.Ping(r.Context())
	}
	defer s.bulk()()
	rc := http.NewResponseController(w)
	sent := &sentWriter{w: w, rc: rc}
	out := bufio.NewWriterSize(sent, 64<<10)
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	err := lister.EachCustomer(r.Context(), func(c *profileapi.Customer, consents []*profileapi.Consent) error {
		l := importLine{ID: c.ID, Region: c.Region, Profile: c.Profile}
		if len(consents) > 0 {
			// A grant of no scope too: it is a consent, which import
			// stores as one.
			l.Consents = make(map[string]profileapi.ScopeSet, len(consents))
			for _, g := range consents {
				l.Consents[g.SkillID] = g.Scopes
			}
		}
		line.Reset()
		if err := enc.Encode(&l); err != nil {
			return err
		}
		if line.Len() > maxLine+1 {
			// Import would refuse it: say so here, not at the import.
			// 409: the data stored, not the request, stands in the way.
			return profileapi.Errorf(profileapi.ECONFLICT, "customer %s gives so many consents that its line is %d bytes, more than import takes (%d)", c.ID, line.Len()-1, maxLine)
		}
		_, err := out.Write(line.Bytes())
		return err
	})
	gone := r.Context().Err() != nil && context.Cause(r.Context()) != web.ErrShuttingDown
	switch {
	case err != nil && (sent.err != nil || gone):
		return nil // the client is gone: nobody to tell
	case err != nil && !sent.any:
		w.Header().Del("Content-Type")
		return err
	case err != nil:
		err = web.ShutdownError(r, err)
		status, body := web.StatusOf(err)
		web.NoteError(w, status, body.Code, err)
		b, _ := json.Marshal(body)
		_, _ = out.Write(append(b, '\n'))
	}
	_ = out.Flush()
	return nil
}

// sentWriter passes a buffered stream's writes on, noting that some were
// sent and whether one failed, and gives each write the time a stream
// gets: the listener's write timeout is for one answer, not for a million
// customers.
type sentWriter struct {
	w   io.Writer
	rc  *http.ResponseController
	any bool
	err error // of a write: the client went away
}

func (s *sentWriter) Write(b []byte) (int, error) {
	s.any = true
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamDeadline))
	n, err := s.w.Write(b)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}
