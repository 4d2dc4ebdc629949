package admin_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/sqlite"
)

// failingList is a store whose listing fails after its first n customers,
// as a database that goes away midway would make it.
type failingList struct {
	*sqlite.DB
	n int
}

func (f *failingList) EachCustomer(ctx context.Context, fn func(*profileapi.Customer, []*profileapi.Consent) error) error {
	sent := 0
	err := f.DB.EachCustomer(ctx, func(c *profileapi.Customer, g []*profileapi.Consent) error {
		if sent == f.n {
			return errors.New("stop")
		}
		sent++
		return fn(c, g)
	})
	if err != nil {
		return profileapi.Unavailable(errors.New("sqlite: database disk image is gone"), time.Second)
	}
	return nil
}

// An export that fails before its first line answers the error; one that
// fails after it ends its stream with an error line, and says nothing of
// the cause.
func TestExportFails(t *testing.T) {
	for _, c := range []struct {
		n, status, lines int
	}{{0, 503, 0}, {3000, 200, 3000}} {
		st := newImportStack(t, func(s profileapi.Store) profileapi.Store { return &failingList{DB: s.(*sqlite.DB), n: c.n} })
		if rec := st.send("POST", "/admin/v1/import", "", customerLines(1, 4000)); rec.Code != 200 {
			t.Fatalf("import: %d %s", rec.Code, rec.Body)
		}
		rec := st.send("GET", "/admin/v1/export", "", "")
		body := rec.Body.String()
		if rec.Code != c.status {
			t.Errorf("failing after %d: %d, want %d", c.n, rec.Code, c.status)
		}
		if c.status == 200 {
			lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
			last := lines[len(lines)-1]
			if len(lines) != c.lines+1 || !strings.Contains(last, `"code":"SERVICE_UNAVAILABLE"`) || strings.Contains(last, "disk") {
				t.Errorf("failing after %d: %d lines, the last %q", c.n, len(lines), last)
			}
		}
	}
}
