package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/storetest"
)

// A skill's update rewrites, and its deletion deletes, every consent given
// to it, in one statement: for a popular skill (hundreds of thousands of
// consents) that outlasts a call's timeout, which then refused it on a
// healthy server for good. Here a trigger makes one row in eight take a
// millisecond, so that two thousand consents outlast the timeout as those
// would, whatever the machine's speed.
func TestSkillWithManyConsents(t *testing.T) {
	const n = 2000
	db := openDB(t)
	ctx := context.Background()
	sk := &profileapi.Skill{ID: profileapi.NewSkillID(), Name: "Popular", Permissions: profileapi.AllScopes}
	if err := db.CreateSkill(ctx, sk); err != nil {
		t.Fatal(err)
	}
	customers, consents := storetest.Generate(n, sk.ID)
	for _, c := range consents {
		c.Scopes = profileapi.AllScopes
	}
	if err := db.ImportCustomers(ctx, customers, consents); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `
		CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF hashtext(coalesce(NEW.customer_id, OLD.customer_id)) & 7 = 0 THEN
				PERFORM pg_sleep(0.001);
			END IF;
			IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER slow_row BEFORE UPDATE OR DELETE ON consents FOR EACH ROW EXECUTE FUNCTION slow_row()`); err != nil {
		t.Fatal(err)
	}
	db.CallTimeout = 100 * time.Millisecond // against about n/8 ms, 250 ms

	narrowed := *sk
	narrowed.Permissions = profileapi.NewScopeSet(profileapi.ScopeName)
	start := time.Now()
	if err := db.UpdateSkill(ctx, &narrowed); err != nil {
		t.Fatalf("UpdateSkill narrowing %d consents, after %v: %v", n, time.Since(start), err)
	}
	t.Logf("UpdateSkill narrowed %d consents in %v", n, time.Since(start))
	var wide int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM consents WHERE skill_id = $1 AND scopes <> $2`,
		sk.ID, int16(narrowed.Permissions)).Scan(&wide); err != nil || wide != 0 {
		t.Errorf("%d consents still grant more than the skill declares (%v)", wide, err)
	}

	start = time.Now()
	if err := db.DeleteSkill(ctx, sk.ID); err != nil {
		t.Fatalf("DeleteSkill with %d consents, after %v: %v", n, time.Since(start), err)
	}
	t.Logf("DeleteSkill deleted %d consents in %v", n, time.Since(start))
	if left := count(t, db, "consents"); left != 0 {
		t.Errorf("%d consents left", left)
	}
}
