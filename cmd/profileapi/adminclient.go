package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const adminTimeout = 30 * time.Second

// adminClient calls the admin API for the control-plane commands.
type adminClient struct {
	base    string
	key     string
	keyFrom string // where key came from, for a 401
	http    *http.Client
}

func (g *globals) client() (*adminClient, error) {
	// A given key is trimmed and checked as serve does, so the key sent is
	// the one it holds.
	key, file, err := readAdminKey(g)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: pass --admin-key or set PROFILEAPI_ADMIN_KEY, or give the --data-dir of the server, where it keeps its key", err)
	} else if err != nil {
		return nil, err
	}
	base, err := adminBase(g.adminURL)
	if err != nil {
		return nil, err
	}
	hc, err := g.httpClient()
	if err != nil {
		return nil, err
	}
	keyFrom := "--admin-key (or PROFILEAPI_ADMIN_KEY)"
	if file != "" {
		keyFrom = "the one in " + file
	}
	return &adminClient{base: base, key: key, keyFrom: keyFrom, http: hc}, nil
}

// adminBase checks --admin-url: an http or https URL with a host, as serve
// prints it. The bare host:port people type otherwise fails deep in
// net/http, with a message that names neither the flag nor the fix.
func adminBase(s string) (string, error) {
	if !strings.Contains(s, "://") {
		return "", fmt.Errorf("--admin-url %s (PROFILEAPI_ADMIN_URL): want a URL with its scheme, such as http://%s", s, s)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--admin-url %s (PROFILEAPI_ADMIN_URL): want an http:// or https:// URL, such as http://127.0.0.1:8081", s)
	}
	return strings.TrimSuffix(s, "/"), nil
}

// apiError is an error answer of the admin API.
type apiError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	hint    string // what the CLI knows of the cause
}

func (e *apiError) Error() string {
	if e.hint != "" {
		return fmt.Sprintf("%d %s: %s (%s)", e.Status, e.Code, e.Message, e.hint)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// answerError is the error of an error answer, with what the CLI can tell
// of its cause: which key it sent, or that the URL is the public API's.
func (c *adminClient) answerError(status int, body []byte) error {
	err := answerError(status, body)
	e, ok := err.(*apiError)
	switch {
	case !ok:
	case status == http.StatusUnauthorized:
		e.hint = "the key sent is " + c.keyFrom + ": is it the key this server runs with?"
	case e.Code == "INVALID_KEY" && strings.Contains(e.Message, "the settings are read at"):
		e.hint = "--admin-url " + c.base + " is the public API's listener: give the admin API's, which serve prints (http://127.0.0.1:8081 by default)"
	}
	return err
}

// errorOf is the error of an answer with an error status, with what the
// CLI can tell of its cause; nil for any other answer.
func (c *adminClient) errorOf(status int, body []byte) error {
	if status < 400 {
		return nil
	}
	if e := tlsListenerError(c.base, status, body); e != nil {
		return e
	}
	return c.answerError(status, body)
}

// streamError is errorOf for an answer whose body the caller streams: an
// error answer's body is read here, 1 MiB of it at most.
func (c *adminClient) streamError(resp *http.Response) error {
	if resp.StatusCode < 400 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return c.errorOf(resp.StatusCode, b)
}

// do sends body as JSON (if not nil) and decodes the answer into out (if not nil).
func (c *adminClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.sendError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if err := c.errorOf(resp.StatusCode, b); err != nil {
		return err
	}
	if out != nil && len(b) > 0 {
		if raw, ok := out.(*json.RawMessage); ok {
			*raw = b
			return nil
		}
		return json.Unmarshal(b, out)
	}
	return nil
}

// tlsListenerError says which --admin-url to use when an http:// one
// reached a TLS listener (serve --tls auto, or --tls-cert): net/http
// answers such a request with a 400 and these words, and the CLI's default
// --admin-url is http://. It is nil for any other answer.
func tlsListenerError(base string, status int, body []byte) error {
	rest, ok := strings.CutPrefix(base, "http://")
	if !ok || status != http.StatusBadRequest || !bytes.Contains(body, []byte("Client sent an HTTP request to an HTTPS server")) {
		return nil
	}
	return fmt.Errorf("the admin API at %s speaks HTTPS (serve runs with --tls auto or --tls-cert): use --admin-url https://%s (or PROFILEAPI_ADMIN_URL)", base, rest)
}

// plainListenerError is tlsListenerError's converse, for an https:// URL
// that reached a plain listener: net/http's transport fails with these words.
func plainListenerError(base string, err error) error {
	rest, ok := strings.CutPrefix(base, "https://")
	if !ok || !strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return nil
	}
	return fmt.Errorf("the admin API at %s speaks plain HTTP (serve runs without --tls): use --admin-url http://%s (or PROFILEAPI_ADMIN_URL)", base, rest)
}

// sendError says why a request got no answer, and what to do about it.
func (c *adminClient) sendError(err error) error {
	if e := plainListenerError(c.base, err); e != nil {
		return e
	}
	var certErr *tls.CertificateVerificationError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &certErr):
		return fmt.Errorf("the admin API at %s has a certificate this machine does not trust (for serve --tls auto, give the --data-dir of the server, whose CA the CLI trusts): %w", c.base, err)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("the admin API at %s did not answer within %s: %w", c.base, adminTimeout, err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Errorf("cannot reach the admin API at %s (is `profileapi serve` running? see --admin-url): %w", c.base, err)
	}
	return fmt.Errorf("admin API at %s: %w", c.base, err)
}

// printJSON writes an answer indented, for people and for jq alike, ending
// with exactly one newline.
func printJSON(w io.Writer, raw json.RawMessage) error {
	// The admin API ends its bodies with a newline, and json.Indent keeps
	// trailing space: without this, the output would end with a blank line.
	raw = bytes.TrimRight(raw, " \t\r\n")
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	buf.WriteByte('\n')
	_, err := buf.WriteTo(w)
	return err
}
