package admin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

// Importer stores customers and their consents in bulk, in one
// transaction, replacing those already stored: a customer imported has
// the consents given with it and no other. *sqlite.DB is one.
type Importer interface {
	ImportCustomers(ctx context.Context, customers []*profileapi.Customer, consents []*profileapi.Consent) error
}

const (
	// maxLine caps one line of an NDJSON body; the body itself has no cap.
	// An export's line is a customer with all its consents: a customer
	// granting a thousand skills with long ids takes a few hundred KiB.
	maxLine = 1 << 20
	// importBatch is how many customers one ImportCustomers call stores:
	// a transaction's fixed cost, a sync to disk, is paid once per batch,
	// and a batch is sorted by id before it is written.
	importBatch = 5000
	// importBatchConsents ends a batch early that gives this many
	// consents, so that lines of thousands of consents each take tens of
	// MB, not gigabytes.
	importBatchConsents = 100_000
)

// streamDeadline is how long a streamed body may go without a line; the
// listener's own timeouts are too short for a large import, and a producer
// that is slow (gzip -dc of a large file) or pauses must not lose what it
// sent. A variable, for tests.
var streamDeadline = time.Minute

// importLine is one customer of an import, with the consents it gives.
type importLine struct {
	ID       string                         `json:"id"`
	Region   profileapi.Region              `json:"region"`
	Profile  profileapi.Profile             `json:"profile"`
	Consents map[string]profileapi.ScopeSet `json:"consents,omitempty"`
}

// importCustomers creates or updates the customers of an NDJSON body, one
// per line, with the consents each gives, validated as the single-customer
// calls validate them. It writes in batches: on a bad line it stores the
// lines before it and stops, and says so; importing is idempotent, so the
// fixed file can simply be imported again.
func (s *server) importCustomers(w http.ResponseWriter, r *http.Request) (err error) {
	if err := checkLinesContentType(r); err != nil {
		return err
	}
	importer, ok := s.Store.(Importer)
	if !ok {
		return profileapi.Errorf(profileapi.EINVALID, "this server's store cannot import in bulk: create the customers one by one with POST /admin/v1/customers")
	}
	defer s.bulk()()
	ctx := r.Context()
	skills, err := s.Store.Skills(ctx)
	if err != nil {
		return err
	}
	declared := make(map[string]profileapi.ScopeSet, len(skills))
	for _, sk := range skills {
		declared[sk.ID] = sk.Permissions
	}

	lines := newLineReader(w, r)
	defer lines.close()
	defer lines.answerable() // after out.close: the error is written after the return
	out := newImportWriter(storeContext(ctx), importer)
	defer out.close()
	defer func() {
		if err != nil && context.Cause(ctx) == web.ErrShuttingDown {
			out.close()
			err = out.shutdownError(err)
		}
	}()
	b := &importBatchOf{}
	for {
		// Lines are parsed and validated a chunk at a time on every core,
		// then added in order.
		chunk, numbers, readErr := readChunk(lines, chunkLines)
		parsed := parseChunk(chunk, declared, s.creationTime())
		for i, p := range parsed {
			err := p.err
			if err == nil {
				err = b.add(p, numbers[i])
			}
			if err != nil {
				if werr := out.write(b); werr != nil {
					return werr
				}
				return out.fail(numbers[i], err)
			}
			if len(b.customers) == importBatch || len(b.consents) >= importBatchConsents {
				if err := out.write(b); err != nil {
					return err
				}
				b = b.next()
				lines.extendDeadlines()
			}
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			if werr := out.write(b); werr != nil {
				return werr
			}
			return out.fail(lines.n, readErr)
		}
	}
	if err := out.write(b); err != nil {
		return err
	}
	if err := out.close(); err != nil {
		return err
	}
	web.Encode(w, http.StatusOK, map[string]int{"imported": out.imported})
	return nil
}

// importBatchOf is the customers and consents of consecutive lines.
type importBatchOf struct {
	first, last int // line numbers
	customers   []*profileapi.Customer
	consents    []*profileapi.Consent
	ids         map[string]int // the line of each customer
	// prev is the ids of the importBatch lines before the batch: a
	// customer named twice is caught within importBatch lines at least,
	// wherever the batches split.
	prev map[string]int
}

// next is the batch after b, which b's lines and those before them, up to
// importBatch lines back, are prev of.
func (b *importBatchOf) next() *importBatchOf {
	prev := make(map[string]int, len(b.ids))
	for _, ids := range []map[string]int{b.ids, b.prev} {
		for id, n := range ids {
			if n > b.last-importBatch {
				prev[id] = n
			}
		}
	}
	return &importBatchOf{prev: prev}
}

// parsedLine is a line's customer and consents, or why it is refused.
type parsedLine struct {
	customer *profileapi.Customer
	consents []*profileapi.Consent
	err      error
}

// parseChunk parses and validates lines on every core.
func parseChunk(chunk [][]byte, declared map[string]profileapi.ScopeSet, now time.Time) []parsedLine {
	parsed := make([]parsedLine, len(chunk))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chunk)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(chunk) {
					return
				}
				parsed[i] = parseLine(chunk[i], declared, now)
			}
		})
	}
	wg.Wait()
	return parsed
}

// parseLine validates one line as the single-customer calls would.
func parseLine(line []byte, declared map[string]profileapi.ScopeSet, now time.Time) parsedLine {
	in, err := web.Unmarshal[importLine](line)
	if err != nil {
		return parsedLine{err: err}
	}
	c := &profileapi.Customer{ID: in.ID, Region: in.Region, Profile: in.Profile, CreatedAt: now, UpdatedAt: now}
	switch {
	case c.ID == "":
		return parsedLine{err: profileapi.Errorf(profileapi.EINVALID, "id is required: an import names every customer, so that importing again updates rather than duplicates")}
	case c.Region == "":
		return parsedLine{err: profileapi.Errorf(profileapi.EINVALID, "region is required: NA, EU or FE")}
	}
	if err := c.Validate(); err != nil {
		return parsedLine{err: err}
	}
	p := parsedLine{customer: c}
	for skillID, scopes := range in.Consents {
		if err := profileapi.ValidateSkillID(skillID); err != nil {
			return parsedLine{err: err}
		}
		permissions, ok := declared[skillID]
		if !ok {
			return parsedLine{err: profileapi.Errorf(profileapi.EINVALID, "skill %s does not exist: create it first", skillID)}
		}
		if undeclared := scopes &^ permissions; undeclared != 0 {
			return parsedLine{err: profileapi.Errorf(profileapi.EINVALID, "skill %s does not declare %s; it declares [%s]", skillID, undeclared, permissions)}
		}
		p.consents = append(p.consents, &profileapi.Consent{CustomerID: c.ID, SkillID: skillID, Scopes: scopes, UpdatedAt: now})
	}
	return p
}

// add adds line n's customer and consents. A customer already in the
// batch is an error of the line: one statement cannot write a row twice,
// and a file naming a customer twice is likely wrong.
func (b *importBatchOf) add(p parsedLine, n int) error {
	c := p.customer
	first, ok := b.ids[c.ID]
	if !ok {
		first, ok = b.prev[c.ID]
	}
	if ok {
		return profileapi.Errorf(profileapi.EINVALID, "customer %s appears on lines %d and %d", c.ID, first, n)
	}
	if b.ids == nil {
		b.ids = make(map[string]int, importBatch)
		b.first = n
	}
	b.ids[c.ID] = n
	b.customers = append(b.customers, c)
	b.consents = append(b.consents, p.consents...)
	b.last = n
	return nil
}

// importWriter stores batches in the background, so that the next batch
// is read and validated while the last one is written.
type importWriter struct {
	batches   chan *importBatchOf
	done      chan error
	closed    bool
	closedErr error
	// Set by the writing goroutine; read after done.
	imported      int // customers stored
	storedThrough int // the last line of the last batch stored
	failedAt      *importBatchOf
}

// storeContext is ctx for the writes of a bulk operation: the lines
// received are stored even when the client is gone or its body stalled
// (net/http then cancels ctx), but not past the server's shutdown if it
// comes first. One that comes after the client has gone does not stop
// them: they are a batch or two, bounded by the store's own timeouts.
func storeContext(ctx context.Context) context.Context {
	sctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	context.AfterFunc(ctx, func() {
		if cause := context.Cause(ctx); cause == web.ErrShuttingDown {
			cancel(cause)
		}
	})
	return sctx
}

func newImportWriter(ctx context.Context, importer Importer) *importWriter {
	iw := &importWriter{batches: make(chan *importBatchOf), done: make(chan error, 1)}
	go func() {
		for b := range iw.batches {
			if err := importer.ImportCustomers(ctx, b.customers, b.consents); err != nil {
				iw.failedAt = b
				iw.done <- err // write or close receives it
				return
			}
			iw.imported += len(b.customers)
			iw.storedThrough = b.last
		}
		iw.done <- nil
	}()
	return iw
}

// write hands a batch to the writing goroutine; it waits while the batch
// before is written, and fails once a batch has.
func (iw *importWriter) write(b *importBatchOf) error {
	if len(b.customers) == 0 {
		return nil
	}
	select {
	case iw.batches <- b:
		return nil
	case err := <-iw.done:
		iw.closed = true
		close(iw.batches)
		iw.closedErr = iw.storeError(err)
		return iw.closedErr
	}
}

// close waits for every batch to be written.
func (iw *importWriter) close() error {
	if iw.closed {
		return iw.closedErr
	}
	iw.closed = true
	close(iw.batches)
	if err := <-iw.done; err != nil {
		iw.closedErr = iw.storeError(err)
	}
	return iw.closedErr
}

// shutdownError is the answer for an import that the server's shutdown
// cut short, once close has returned: the server's usual answer then does
// not say what was stored. A commit cut by the shutdown may have stored
// its batch all the same (PostgreSQL can, and say it failed): the count
// is what is known to be stored.
func (iw *importWriter) shutdownError(err error) error {
	stored := "no customer is known to have been imported"
	if iw.imported > 0 {
		stored = fmt.Sprintf("at least %s, from the lines up to line %d, %s imported", customerCount(iw.imported), iw.storedThrough, were(iw.imported))
	}
	return &profileapi.Error{Kind: profileapi.EUNAVAILABLE, RetryAfter: time.Second, Err: errors.Join(web.ErrShuttingDown, err),
		Message: "the server is shutting down: " + stored + "; importing is idempotent: import the file again, on another node if there is one"}
}

// fail is the answer for a bad line n, once the lines before it are stored.
func (iw *importWriter) fail(n int, err error) error {
	if cerr := iw.close(); cerr != nil {
		return cerr
	}
	var e *profileapi.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	out.Message = fmt.Sprintf("line %d: %s (%s)", n, e.Message, iw.progress(n))
	return &out
}

// storeError keeps the store's error kind, for its status, and says
// which lines were stored.
func (iw *importWriter) storeError(err error) error {
	var e *profileapi.Error
	if !errors.As(err, &e) || e.Kind == profileapi.EINTERNAL {
		return err // 500: the message is not shown, the cause is logged
	}
	b := iw.failedAt
	if e.Kind == profileapi.EUNAVAILABLE {
		// A full disk, a database away: the cause is logged, and the
		// operator who imports learns what is stored.
		return &profileapi.Error{Kind: profileapi.EUNAVAILABLE, RetryAfter: e.RetryAfter, Err: err,
			Message: fmt.Sprintf("lines %d to %d: the database is unavailable, the server's log says why (%s)", b.first, b.last, iw.storedAtLeast(b.first))}
	}
	out := *e
	if out.Kind == profileapi.ENOTFOUND {
		out.Kind = profileapi.EINVALID // a skill deleted while the import ran
	}
	out.Message = fmt.Sprintf("lines %d to %d: %s (%s)", b.first, b.last, e.Message, iw.progress(b.first))
	return &out
}

// storedAtLeast says what was stored before line n, when a commit of the
// lines from n may have failed and stored all the same (PostgreSQL can).
func (iw *importWriter) storedAtLeast(n int) string {
	stored := "no customer is known to have been imported"
	if iw.imported > 0 {
		stored = fmt.Sprintf("at least %s, from the lines before line %d, %s imported", customerCount(iw.imported), n, were(iw.imported))
	}
	return stored + "; importing is idempotent: import the file again once the database is back"
}

// progress says what was stored before line n.
func (iw *importWriter) progress(n int) string {
	if iw.imported == 0 {
		return "nothing was imported; importing is idempotent: fix the file and import it again"
	}
	return fmt.Sprintf("%s from the lines before line %d %s imported, nothing after; importing is idempotent: fix the file and import it again", customerCount(iw.imported), n, were(iw.imported))
}

// checkLinesContentType accepts NDJSON and, as its lines are JSON,
// application/json, or no Content-Type at all.
func checkLinesContentType(r *http.Request) error {
	if err := web.CheckEncoding(r); err != nil {
		return err
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case mt == "application/x-ndjson", mt == "application/ndjson", mt == "application/jsonl", mt == "application/json":
		return nil
	}
	return profileapi.Errorf(profileapi.EINVALID, "Content-Type must be application/x-ndjson (one JSON object per line), not %q", ct)
}

// lineReader reads an NDJSON body line by line, each at most maxLine
// bytes; blank lines are skipped but counted.
type lineReader struct {
	rd       *bufio.Reader
	rc       *http.ResponseController
	n        int       // the number of the line last read
	extended time.Time // when the deadlines were last moved

	ctx  context.Context
	mu   sync.Mutex // guards done against the AfterFunc
	done bool       // the handler has returned: leave the connection be
	stop func() bool
}

// newLineReader reads r's body. When r's context ends (the server shutting
// down, the client gone), a read waiting for the body fails at once: a read
// does not watch the context, and a client sending slowly would hold the
// handler until its deadline. The caller must close it.
func newLineReader(w http.ResponseWriter, r *http.Request) *lineReader {
	l := &lineReader{rd: bufio.NewReaderSize(r.Body, maxLine+2), rc: http.NewResponseController(w), ctx: r.Context()}
	l.extendDeadlines()
	l.stop = context.AfterFunc(l.ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.done {
			_ = l.rc.SetReadDeadline(time.Now())
			// And a client that sends but does not read holds the
			// handler no longer than it takes to answer.
			_ = l.rc.SetWriteDeadline(time.Now().Add(time.Second))
		}
	})
	return l
}

// close keeps the AfterFunc from touching the connection, which may carry
// the next request, once the handler has returned. It may be called more
// than once.
func (l *lineReader) close() {
	l.stop()
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}

// extendDeadlines lets a long stream outlive the listener's timeouts, as
// long as it keeps moving. Where the writer cannot (a test recorder), the
// listener's timeouts stay.
func (l *lineReader) extendDeadlines() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.Err() != nil {
		return // the AfterFunc's deadline stands
	}
	l.extended = time.Now()
	deadline := l.extended.Add(streamDeadline)
	_ = l.rc.SetReadDeadline(deadline)
	_ = l.rc.SetWriteDeadline(deadline)
}

// answerable gives the handler a few seconds to write its answer: after a
// read failed, the write deadline has passed with the read's. Called as
// the read fails, for a token batch's error line, and again once an
// import's writes are done, which may have outlasted it. Not when the
// server is shutting down, whose second holds.
func (l *lineReader) answerable() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if context.Cause(l.ctx) != web.ErrShuttingDown {
		_ = l.rc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	}
}

// next returns the next non-blank line without its line ending, or io.EOF.
func (l *lineReader) next() ([]byte, error) {
	for {
		line, err := l.rd.ReadSlice('\n')
		if len(line) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		l.n++
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, profileapi.Errorf(profileapi.ETOOLARGE, "the line is longer than %d bytes", maxLine)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			l.answerable()
			return nil, &profileapi.Error{Kind: profileapi.EINVALID, Err: err,
				Message: fmt.Sprintf("no line arrived for %s: the body was cut off there", streamDeadline)}
		}
		if err != nil && err != io.EOF {
			l.answerable()
			return nil, &profileapi.Error{Kind: profileapi.EINVALID, Err: err, Message: "the body could not be read"}
		}
		// Once a second at most: a deadline is a lock in the poller.
		if time.Since(l.extended) > streamDeadline/60 {
			l.extendDeadlines()
		}
		line = bytes.TrimRight(line, "\r\n")
		if l.n == 1 {
			// As RFC 8259 allows: editors on Windows start a file with one.
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if len(line) > maxLine {
			return nil, profileapi.Errorf(profileapi.ETOOLARGE, "the line is longer than %d bytes", maxLine)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
		if err == io.EOF {
			return nil, io.EOF
		}
	}
}

// customerCount is "1 customer" or "n customers".
func customerCount(n int) string {
	if n == 1 {
		return "1 customer"
	}
	return fmt.Sprintf("%d customers", n)
}

// were is the verb for n customers.
func were(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}
