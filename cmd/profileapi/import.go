package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func importCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE|-",
		Short: "Create or update customers and their consents in bulk, from NDJSON",
		Long: `import streams a file of customers, one JSON object per line, to the admin
API, which stores them in batches as they arrive (FILE - reads standard input):

  {"id":"amzn1.ask.account.A1","region":"NA","profile":{"name":"John Smith","givenName":"John",
   "email":"jsmith@example.com","mobileNumber":{"countryCode":"+1","phoneNumber":"201-555-0123"}},
   "consents":{"amzn1.ask.skill.pizza":["alexa::profile:email:read"]}}

Each line is validated as "customers create" and "consents grant" validate
it; the skills must exist. On the first bad line the lines before it are
imported and the error names the line. A line is its customer's whole
state: a customer already stored is replaced, its consents too (one to a
skill the line leaves out is revoked); customers not in the file are left
alone. Importing is idempotent, so fix the file and run the same command
again.`,
		Example: `  profileapi import customers.ndjson
  gzip -dc customers.ndjson.gz | profileapi import -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, closeIn, err := g.input(args[0], "import", "customers")
			if err != nil {
				return err
			}
			defer closeIn()
			c, err := g.client()
			if err != nil {
				return err
			}
			start := time.Now()
			var out struct {
				Imported int `json:"imported"`
			}
			if err := c.stream(cmd.Context(), "/admin/v1/import", in, &out); err != nil {
				if cutOff(err) && cmd.Context().Err() == nil {
					return fmt.Errorf("%w: the import was cut off, and some of the lines sent may have been imported; importing is idempotent: import the file again", err)
				}
				return err
			}
			d := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d %s in %s (%.0f/s)\n", out.Imported, plural(out.Imported, "customer", "customers"), d.Round(time.Millisecond), float64(out.Imported)/d.Seconds())
			return nil
		},
	}
}

func tokensBatchCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "batch FILE|-",
		Short: "Mint a token for each line of an NDJSON file of customer and skill ids",
		Long: `batch streams a file of {"customerId","skillId","ttlSeconds"?} lines, one JSON
object each, to POST /admin/v1/tokens/batch (FILE - reads standard input),
and writes the tokens as they come, a line each and in order:

  {"customerId":"...","skillId":"...","apiAccessToken":"...","apiEndpoint":"...","expiresAt":"..."}

A bad line ends the batch, and the error names it. The tokens of the lines
before it are written if the answer had begun: the server answers once it
has minted the first lines (up to about a thousand), so a bad line among
those writes no token at all.`,
		Example: `  profileapi tokens batch pairs.ndjson > tokens.ndjson
  echo '{"customerId":"amzn1.ask.account.DEMO","skillId":"amzn1.ask.skill.demo"}' | profileapi tokens batch -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, closeIn, err := g.input(args[0], "tokens batch", "ids")
			if err != nil {
				return err
			}
			defer closeIn()
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.tokensBatch(cmd.Context(), in, cmd.OutOrStdout())
		},
	}
}

// tokensBatch streams body to the batch call and copies the tokens to out
// as they come. The answer's status is sent before the lines are read, so
// a line the server refuses later ends the stream with an error line,
// which this returns as the error.
func (c *adminClient) tokensBatch(ctx context.Context, body io.Reader, out io.Writer) error {
	resp, err := c.post(ctx, "/admin/v1/tokens/batch", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := c.streamError(resp); err != nil {
		return err
	}
	sc := ndjsonScanner(resp.Body)
	for sc.Scan() {
		var line struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return fmt.Errorf("tokens batch: the answer's line is not JSON: %w", err)
		}
		if line.Code != "" {
			return fmt.Errorf("%s: %s", line.Code, line.Message)
		}
		if _, err := fmt.Fprintf(out, "%s\n", sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: the batch was cut off: the tokens written are good, the lines after them were not minted", c.sendError(err))
	}
	return nil
}

// input opens the NDJSON a bulk command reads: the file named, or
// standard input for "-". A directory is refused now, not as a failure to
// send midway.
func (g *globals) input(name, command, what string) (io.Reader, func(), error) {
	if name == "-" {
		return g.stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, nil, fmt.Errorf("%s %s: a directory, not a file of %s", command, name, what)
	}
	return f, func() { f.Close() }, nil
}

// cutOff reports whether err is a connection that ended while a body was
// sent or its answer awaited: the server died or was stopped.
func cutOff(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// stream POSTs an NDJSON body of any length and decodes the JSON answer
// into out. It has no overall timeout: a large import takes minutes.
func (c *adminClient) stream(ctx context.Context, path string, body io.Reader, out any) error {
	resp, err := c.post(ctx, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return c.overTLS(ctx, err)
	}
	if err := c.errorOf(resp.StatusCode, b); err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// post sends an NDJSON body and returns the answer, whose body the caller
// reads and closes.
func (c *adminClient) post(ctx context.Context, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		if e := plainListenerError(c.base, err); e != nil {
			return nil, e
		}
		if e := c.overTLS(ctx, nil); e != nil {
			return nil, e
		}
		return nil, c.sendError(err)
	}
	return resp, nil
}

// overTLS is why a streamed call to an http:// URL failed if a TLS
// listener is there, else err. Such a listener answers a plain request
// with 400 and closes the connection, often before a long body is sent,
// so the streaming call sees a reset; a request without a body gets the
// answer.
func (c *adminClient) overTLS(ctx context.Context, err error) error {
	if !strings.HasPrefix(c.base, "http://") {
		return err
	}
	req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/healthz", nil)
	if rerr != nil {
		return err
	}
	resp, rerr := c.http.Do(req)
	if rerr != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if e := tlsListenerError(c.base, resp.StatusCode, b); e != nil {
		return e
	}
	return err
}

// answerError is the error of an admin API answer with an error status.
func answerError(status int, body []byte) error {
	e := &apiError{Status: status}
	if json.Unmarshal(body, e) != nil || e.Code == "" {
		e.Code, e.Message = http.StatusText(status), strings.TrimSpace(string(body))
	}
	return e
}
