package admin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/admin"
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

// What one server exports another imports as it is, and exports the same:
// consents to several skills, one of no scope, customers with none.
func TestExportImportsAgain(t *testing.T) {
	stacks := [2]*importStack{newImportStack(t, nil), newImportStack(t, nil)}
	for _, st := range stacks {
		st.mustSend(t, "POST", "/admin/v1/skills", `{"id":"amzn1.ask.skill.Other-1_x","name":"Other","permissions":["alexa::profile:name:read"]}`, 201)
	}
	from := stacks[0]
	if rec := from.send("POST", "/admin/v1/import", "", customerLines(1, 3000)); rec.Code != 200 {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	from.mustSend(t, "POST", "/admin/v1/customers", `{"id":"amzn1.ask.account.lone-Mixed_case.1","region":"FE","profile":{"givenName":"Ōno"}}`, 201)
	from.mustSend(t, "PUT", "/admin/v1/customers/amzn1.ask.account.IMP7/consents/amzn1.ask.skill.Other-1_x", `{"scopes":["alexa::profile:name:read"]}`, 200)
	from.mustSend(t, "PUT", "/admin/v1/customers/amzn1.ask.account.IMP8/consents/amzn1.ask.skill.Other-1_x", `{"scopes":[]}`, 200)

	exported := from.mustSend(t, "GET", "/admin/v1/export", "", 200).Body.String()
	if n := strings.Count(exported, "\n"); n != 3001 {
		t.Fatalf("exported %d lines, want 3001", n)
	}
	to := stacks[1]
	if rec := to.send("POST", "/admin/v1/import", "", exported); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"imported":3001`) {
		t.Fatalf("import of the export: %d %s", rec.Code, rec.Body)
	}
	if again := to.mustSend(t, "GET", "/admin/v1/export", "", 200).Body.String(); again != exported {
		t.Error("the second server exports otherwise than the first")
	}
	if got := to.mustSend(t, "GET", "/admin/v1/customers/amzn1.ask.account.IMP8/consents/amzn1.ask.skill.Other-1_x", "", 200).Body.String(); !strings.Contains(got, `"scopes":[]`) {
		t.Errorf("a consent of no scope, exported and imported: %s", got)
	}
}

// blockingList is a store whose listing, after its first n customers,
// waits for its context to end: a slow page read that the client does not
// wait out.
type blockingList struct {
	*sqlite.DB
	n int
}

func (b *blockingList) EachCustomer(ctx context.Context, fn func(*profileapi.Customer, []*profileapi.Consent) error) error {
	sent := 0
	return b.DB.EachCustomer(ctx, func(c *profileapi.Customer, g []*profileapi.Consent) error {
		if sent == b.n {
			<-ctx.Done()
			return ctx.Err()
		}
		sent++
		return fn(c, g)
	})
}

// A client that goes away mid-export is no server error: whether a write
// to it fails, or the store was still reading.
func TestExportClientGone(t *testing.T) {
	for name, wrap := range map[string]func(profileapi.Store) profileapi.Store{
		"writing": nil,
		"reading": func(s profileapi.Store) profileapi.Store { return &blockingList{DB: s.(*sqlite.DB), n: 300} },
	} {
		t.Run(name, func(t *testing.T) {
			var log strings.Builder
			st := newImportStackWith(t, wrap, func(c *admin.Config) { c.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &log}, nil)) })
			if rec := st.send("POST", "/admin/v1/import", "", customerLines(1, 30000)); rec.Code != 200 {
				t.Fatalf("import: %d %s", rec.Code, rec.Body)
			}
			srv := httptest.NewServer(st.h)
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/admin/v1/export", nil)
			req.Header.Set("Authorization", "Bearer "+testKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close() // before the rest: the connection closes
			srv.Close()       // waits for the handler
			if l := log.String(); !strings.Contains(l, "status=200") || strings.Contains(l, "UNKNOWN_ERROR") || strings.Contains(l, "level=WARN") {
				t.Errorf("a client gone mid-export is logged:\n%s", l)
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// A customer whose line would be longer than import takes ends the export
// with an error naming it, rather than a line the import then refuses.
func TestExportLineTooLong(t *testing.T) {
	st := newImportStack(t, nil)
	ctx := t.Context()
	c := &profileapi.Customer{ID: "amzn1.ask.account.MANY", Region: profileapi.RegionNA, Profile: profileapi.Profile{Name: "Many"}}
	var consents []*profileapi.Consent
	for i := range 2800 { // 2,800 skills of 255-character ids, every scope: over 1 MiB
		id := fmt.Sprintf("amzn1.ask.skill.%04d-", i)
		id += strings.Repeat("x", 255-len(id))
		if err := st.store.CreateSkill(ctx, &profileapi.Skill{ID: id, Name: "Many", Permissions: profileapi.AllScopes}); err != nil {
			t.Fatal(err)
		}
		consents = append(consents, &profileapi.Consent{CustomerID: c.ID, SkillID: id, Scopes: profileapi.AllScopes})
	}
	if err := st.store.ImportCustomers(ctx, []*profileapi.Customer{c}, consents); err != nil {
		t.Fatal(err)
	}
	rec := st.send("GET", "/admin/v1/export", "", "")
	if rec.Code != 409 || !strings.Contains(rec.Body.String(), `"code":"CONFLICT"`) || !strings.Contains(rec.Body.String(), "customer amzn1.ask.account.MANY gives so many consents") {
		t.Errorf("%d %.300s", rec.Code, rec.Body)
	}
}
