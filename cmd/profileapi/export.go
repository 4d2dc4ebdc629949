package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func exportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "export [FILE|-]",
		Short: "Write every customer and its consents as NDJSON, which import reads back",
		Long: `export writes every customer, in id order, with the consents it gave, one
JSON object per line in the shape "import" reads (GET /admin/v1/export), to
FILE, or to standard output without one or with -. A FILE is written whole
or not at all: the export goes to a temporary file beside it, renamed into
place once complete, with mode 0600 (it holds personal data).

Skills are not exported: create them in the other database before importing
(profileapi skills list shows them). The database is read a page at a time:
a change made while the export runs shows in the pages read after it only.`,
		Example: `  profileapi export customers.ndjson
  profileapi export | gzip > customers.ndjson.gz
  # from one server's database to another's, once its skills exist (a file,
  # not a pipe: import would take a failed export's end for the file's):
  profileapi export customers.ndjson --admin-url http://old:8081
  profileapi import customers.ndjson --admin-url http://new:8081`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if len(args) == 0 || args[0] == "-" {
				out := bufio.NewWriterSize(cmd.OutOrStdout(), 256<<10)
				_, err := c.export(cmd.Context(), out)
				if ferr := out.Flush(); err == nil {
					err = ferr
				}
				return err
			}
			if err := checkExportPath(args[0]); err != nil {
				return err
			}
			start := time.Now()
			n, err := exportFile(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported %d %s to %s in %s\n", n, plural(n, "customer", "customers"), args[0], time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

// checkExportPath refuses, before the export runs, a FILE it could not
// be renamed to.
func checkExportPath(path string) error {
	if path == "" || strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)) {
		return fmt.Errorf("export to %q: want a file's path", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("export to %s: a directory, not a file", path)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("export to %s: %s is not a directory", path, filepath.Dir(path))
	}
	return nil
}

// exportFile writes the export to a temporary file beside path and renames
// it into place once the export is complete.
func exportFile(ctx context.Context, c *adminClient, path string) (int, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary file's name says nothing
		}
		return 0, fmt.Errorf("export to %s: cannot create a file beside it: %w", path, err)
	}
	defer os.Remove(f.Name()) // once renamed, there is none
	out := bufio.NewWriterSize(f, 256<<10)
	n, err := c.export(ctx, out)
	if err == nil {
		err = out.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	return n, err
}

// export copies the export's lines to out as they come and counts them.
// The answer's status is sent with the first lines, so an error after them
// comes as a last, error line, which this returns as the error.
func (c *adminClient) export(ctx context.Context, out io.Writer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/admin/v1/export", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	hc := *c.http
	hc.Timeout = 0 // a million customers take a while
	resp, err := hc.Do(req)
	if err != nil {
		return 0, c.sendError(err)
	}
	defer resp.Body.Close()
	if err := c.streamError(resp); err != nil {
		return 0, err
	}
	sc := ndjsonScanner(resp.Body)
	n := 0
	for sc.Scan() {
		line := sc.Bytes()
		var e struct {
			ID      string `json:"id"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			return n, fmt.Errorf("export: line %d of the answer is not JSON: %w", n+1, err)
		}
		if e.ID == "" && e.Code != "" {
			return n, fmt.Errorf("export stopped after %d %s: %s: %s", n, plural(n, "customer", "customers"), e.Code, e.Message)
		}
		if _, err := out.Write(line); err != nil {
			return n, err
		}
		if _, err := io.WriteString(out, "\n"); err != nil {
			return n, err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("%w: the export was cut off after %d %s", c.sendError(err), n, plural(n, "customer", "customers"))
	}
	return n, nil
}

// ndjsonScanner reads a streamed NDJSON answer a line at a time. Every
// line the server sends ends with a newline: a last line without one is
// what a connection cut mid-line left, which Err reports as errCutLine
// (or as the read's error) rather than as a line that is not JSON.
func ndjsonScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 2<<20) // the server's lines go to 1 MiB
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return 0, nil, errCutLine
		}
		return 0, nil, nil
	})
	return sc
}

var errCutLine = errors.New("the answer ended mid-line")

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
