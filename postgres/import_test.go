package postgres

import (
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/storetest"
)

func TestClocked(t *testing.T) {
	storetest.RunClocked(t, func(t *testing.T) storetest.Clocked {
		db := openDB(t)
		return storetest.Clocked{
			Importer: db,
			SetNow:   func(now time.Time) { db.Now = func() time.Time { return now } },
			Count:    func(t testing.TB, table string) int { return count(t, db, table) },
		}
	})
}

// BenchmarkImport imports b.N customers, each with a consent, in one call;
// -benchtime 1000000x imports a million.
func BenchmarkImport(b *testing.B) {
	db := openDB(b)
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Importer", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(b.Context(), sk); err != nil {
		b.Fatal(err)
	}
	customers, consents := storetest.Generate(b.N, sk.ID)
	b.ReportAllocs()
	b.ResetTimer()
	if err := db.ImportCustomers(b.Context(), customers, consents); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "customers/s")
	b.ReportMetric(float64(len(customers)+len(consents))/b.Elapsed().Seconds(), "rows/s")
}

// setUpAccess stores n customers and the skill they all granted.
func setUpAccess(b *testing.B, n int) (*DB, []string, string) {
	db := openDB(b)
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Reader", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(b.Context(), sk); err != nil {
		b.Fatal(err)
	}
	customers, consents := storetest.Generate(n, sk.ID)
	if err := db.ImportCustomers(b.Context(), customers, consents); err != nil {
		b.Fatal(err)
	}
	if _, err := db.pool.Exec(b.Context(), `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i, c := range customers {
		ids[i] = c.ID
	}
	return db, ids, sk.ID
}

func BenchmarkAccess(b *testing.B) {
	db, ids, skillID := setUpAccess(b, 100_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := db.Access(b.Context(), ids[i%len(ids)], skillID); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkAccessParallel(b *testing.B) {
	db, ids, skillID := setUpAccess(b, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := db.Access(b.Context(), ids[i%len(ids)], skillID); err != nil {
				b.Error(err)
				return
			}
			i += 7
		}
	})
}
