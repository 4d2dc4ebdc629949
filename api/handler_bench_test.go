package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/api"
	"github.com/profileapi/profileapi/cache"
	"github.com/profileapi/profileapi/internal/web"
	"github.com/profileapi/profileapi/journal"
	"github.com/profileapi/profileapi/metrics"
	"github.com/profileapi/profileapi/sqlite"
	"github.com/profileapi/profileapi/token"
)

// benchCustomers is how many customers the handler benchmarks spread
// their requests over, each with its own token.
const benchCustomers = 20_000

// benchServer is the public API as serve builds it, over a SQLite file
// of benchCustomers customers, with a request per token and setting.
type benchServer struct {
	handler  http.Handler
	requests []*http.Request
}

func newBenchServer(b *testing.B, wrap func(*sqlite.DB) api.AccessStore) *benchServer {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	keys, err := token.NewKeyring(ctx, db, token.Options{})
	if err != nil {
		b.Fatal(err)
	}
	skill := &profileapi.Skill{ID: "amzn1.ask.skill.bench", Name: "Bench", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(ctx, skill); err != nil {
		b.Fatal(err)
	}
	endpoints := profileapi.LoopbackEndpoints("http", "127.0.0.1:8080")
	customers := make([]*profileapi.Customer, benchCustomers)
	consents := make([]*profileapi.Consent, benchCustomers)
	for i := range customers {
		customers[i] = &profileapi.Customer{ID: profileapi.NewCustomerID(), Region: profileapi.Regions[i%3], Profile: profileapi.Profile{
			Name: fmt.Sprintf("Customer %d", i), GivenName: "Customer", Email: fmt.Sprintf("customer%d@example.com", i),
			MobileNumber: &profileapi.PhoneNumber{CountryCode: "+91", PhoneNumber: "7799-82-77-11"},
		}}
		consents[i] = &profileapi.Consent{CustomerID: customers[i].ID, SkillID: skill.ID, Scopes: profileapi.AllScopes}
	}
	if err := db.ImportCustomers(ctx, customers, consents); err != nil {
		b.Fatal(err)
	}
	var store api.AccessStore = db
	if wrap != nil {
		store = wrap(db)
	}
	// As serve has it: logs at info, metrics and the journal after every call.
	m, j := metrics.New(), journal.New(0)
	h := api.NewServer(api.Config{
		Store: store, Tokens: keys, Endpoints: endpoints, Wire: api.WireDocumented,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Done: func(r *http.Request, c api.Call, info *web.Info, d time.Duration) {
			m.Done(r, c, info, d)
			j.Done(r, c, info, d)
		},
	})
	s := &benchServer{handler: h}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 4096 {
		c := customers[rng.IntN(len(customers))]
		// As the admin API mints them: the stores wrote back the creation times.
		tok, _, err := keys.Issue(ctx, token.Claims{
			CustomerID: c.ID, SkillID: skill.ID, Region: c.Region, Audience: endpoints.URL(c.Region),
			CustomerCreatedAt: c.CreatedAt, SkillCreatedAt: skill.CreatedAt,
		}, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		prefix := map[profileapi.Region]string{profileapi.RegionNA: "", profileapi.RegionEU: "/eu", profileapi.RegionFE: "/fe"}[c.Region]
		r := httptest.NewRequest("GET", prefix+"/v2/accounts/~current/settings/"+profileapi.Fields[rng.IntN(4)].String(), nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		s.requests = append(s.requests, r)
	}
	return s
}

// responseWriter is a reusable http.ResponseWriter that keeps the status
// and drops the body, so that the benchmark counts the handler's
// allocations, not a recorder's.
type responseWriter struct {
	header http.Header
	status int
}

func (w *responseWriter) Header() http.Header         { return w.header }
func (w *responseWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *responseWriter) WriteHeader(code int)        { w.status = code }

func (s *benchServer) run(b *testing.B) {
	b.ReportAllocs()
	w := &responseWriter{header: http.Header{}}
	i := 0
	for b.Loop() {
		clear(w.header)
		w.status = 0
		s.handler.ServeHTTP(w, s.requests[i%len(s.requests)])
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
		i++
	}
}

func (s *benchServer) runParallel(b *testing.B) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &responseWriter{header: http.Header{}}
		i := rand.IntN(len(s.requests))
		for pb.Next() {
			clear(w.header)
			w.status = 0
			s.handler.ServeHTTP(w, s.requests[i%len(s.requests)])
			if w.status != http.StatusOK {
				b.Errorf("status %d", w.status)
				return
			}
			i++
		}
	})
}

// BenchmarkHandler is one public API request end to end, as serve answers
// it, minus the network: a random token of benchCustomers and a random
// setting.
func BenchmarkHandler(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s := newBenchServer(b, nil)
		b.Run("serial", s.run)
		b.Run("parallel", s.runParallel)
	})
	b.Run("cached", func(b *testing.B) {
		s := newBenchServer(b, func(db *sqlite.DB) api.AccessStore {
			c := cache.New(db, cache.Options{})
			if err := c.Warm(b.Context()); err != nil {
				b.Fatal(err)
			}
			return c
		})
		b.Run("serial", s.run)
		b.Run("parallel", s.runParallel)
	})
}
