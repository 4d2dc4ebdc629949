package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

// chunkLines is how many lines of an NDJSON body are handled at once, by
// every core, before their results are taken in order; chunkBytes ends a
// chunk of long lines early.
const (
	chunkLines = 1024
	chunkBytes = 4 << 20
)

// batchToken is one line of the tokens/batch answer.
type batchToken struct {
	CustomerID string `json:"customerId"`
	SkillID    string `json:"skillId"`
	*tokenResponse
}

// mintResult is what a line of a tokens/batch body came to.
type mintResult struct {
	line []byte // the encoded answer line
	err  error
}

// createTokens mints a token for each line of an NDJSON body of token
// requests and streams them back, one per line in the order asked. An
// error before the first token is answered as any error is; after it, the
// stream ends with a line holding the error body, {"code", "message"}.
func (s *server) createTokens(w http.ResponseWriter, r *http.Request) error {
	if err := checkLinesContentType(r); err != nil {
		return err
	}
	defer s.bulk()()
	ctx := r.Context()
	skills, err := s.Store.Skills(ctx)
	if err != nil {
		return err
	}
	exists := make(map[string]bool, len(skills))
	for _, sk := range skills {
		exists[sk.ID] = true
	}

	lines := newLineReader(w, r)
	defer lines.close()
	mintCtx := storeContext(ctx) // the lines received are minted, even if the body stalls
	out := bufio.NewWriterSize(w, 64<<10)
	started := false
	for {
		chunk, numbers, readErr := readChunk(lines, chunkLines)
		results := s.mintChunk(mintCtx, chunk, exists)
		if !started {
			// Nothing is sent yet: an error is still the answer, that of
			// the first bad line, read or minted.
			for i, res := range results {
				if res.err != nil {
					return atLine(numbers[i], res.err)
				}
			}
			if readErr != nil && readErr != io.EOF {
				return atLine(lines.n, readErr)
			}
		}
		for i, res := range results {
			if res.err != nil {
				return endWithError(w, out, r, lines, atLine(numbers[i], res.err))
			}
			if !started {
				// Tokens stream back while lines stream in; without this,
				// HTTP/1 would discard the rest of the body at the first
				// token written. Not before: an error answered early lets
				// the server drain the body.
				_ = lines.rc.EnableFullDuplex()
				w.Header().Set("Content-Type", "application/x-ndjson")
				started = true
			}
			_, _ = out.Write(res.line)
		}
		if len(results) < len(chunk) {
			// No line failed, so ctx ended and mintChunk left lines
			// unminted: say so, rather than go on past them.
			if !started {
				return ctx.Err()
			}
			return endWithError(w, out, r, lines, ctx.Err())
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			return endWithError(w, out, r, lines, atLine(lines.n, readErr))
		}
		if err := out.Flush(); err != nil {
			return nil // the client is gone
		}
		lines.extendDeadlines()
	}
	if !started {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
	}
	_ = out.Flush()
	return nil
}

// readChunk reads up to n lines, copied, with their line numbers; the
// error is that of the line after the last returned.
func readChunk(lines *lineReader, n int) ([][]byte, []int, error) {
	var chunk [][]byte
	var numbers []int
	size := 0
	for len(chunk) < n && size < chunkBytes {
		line, err := lines.next()
		if err != nil {
			return chunk, numbers, err
		}
		chunk = append(chunk, append([]byte(nil), line...))
		numbers = append(numbers, lines.n)
		size += len(line)
	}
	return chunk, numbers, nil
}

// mintChunk mints the tokens of a chunk of lines on every core. Once a
// line fails, or ctx ends, no further line is started: only the first error is
// answered, and against a database that stopped answering each line would
// wait out a call timeout. The results are those of the lines started, in
// order: every line up to the first that failed, and maybe a few after.
func (s *server) mintChunk(ctx context.Context, chunk [][]byte, skills map[string]bool) []mintResult {
	results := make([]mintResult, len(chunk))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chunk)) {
		wg.Go(func() {
			// Checked before taking a line, never after: a line taken is
			// minted, so no line before the first failure goes missing.
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(chunk) {
					return
				}
				results[i] = s.mintLine(ctx, chunk[i], skills)
				if results[i].err != nil {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return results[:min(int(next.Load()), len(chunk))]
}

func (s *server) mintLine(ctx context.Context, line []byte, skills map[string]bool) mintResult {
	req, err := web.Unmarshal[tokenRequest](line)
	if err != nil {
		return mintResult{err: err}
	}
	ttl, err := tokenTTL(req.TTLSeconds)
	if err != nil {
		return mintResult{err: err}
	}
	if err := profileapi.ValidateCustomerID(req.CustomerID); err != nil {
		return mintResult{err: err}
	}
	if err := profileapi.ValidateSkillID(req.SkillID); err != nil {
		return mintResult{err: err}
	}
	if !skills[req.SkillID] {
		// Not there when the batch began; it may have been made since.
		if _, err := s.Store.Skill(ctx, req.SkillID); err != nil {
			return mintResult{err: profileapi.Absent(err, "skill", req.SkillID)}
		}
	}
	// Access, not Customer: the public API's read, prepared once, and
	// what a cache in front of the store answers from memory.
	a, err := s.Store.Access(ctx, req.CustomerID, req.SkillID)
	if profileapi.IsNotFound(err) {
		// The customer, or a skill deleted since the batch began.
		err = s.missing(ctx, req.CustomerID, req.SkillID, err)
	}
	if err != nil {
		return mintResult{err: err}
	}
	c := &a.Customer
	tok, err := s.issue(ctx, c, req.SkillID, a.SkillCreatedAt, ttl)
	if err != nil {
		return mintResult{err: err}
	}
	b, err := json.Marshal(batchToken{CustomerID: c.ID, SkillID: req.SkillID, tokenResponse: tok})
	if err != nil {
		return mintResult{err: err}
	}
	return mintResult{line: append(b, '\n')}
}

// atLine prefixes the public message of err with its line number.
func atLine(n int, err error) error {
	var e *profileapi.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	out.Message = fmt.Sprintf("line %d: %s", n, e.Message)
	return &out
}

// endWithError ends a stream already under way with the error body as
// its last line: its status line has long been sent. It then reads what
// the client still sends, within reason, so that closing the connection
// does not reset it before the client has read the error; once the
// request's context has ended (the server shutting down), for a second.
// The request's log line tells the error, with the status sent.
func endWithError(w http.ResponseWriter, out *bufio.Writer, r *http.Request, lines *lineReader, err error) error {
	err = web.ShutdownError(r, err)
	status, body := web.StatusOf(err)
	web.NoteError(w, status, body.Code, err)
	b, _ := json.Marshal(body)
	_, _ = out.Write(append(b, '\n'))
	_ = out.Flush()
	if r.Context().Err() != nil {
		lines.close() // its deadline, now, would end the drain at once
		_ = lines.rc.SetReadDeadline(time.Now().Add(time.Second))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
	return nil
}
