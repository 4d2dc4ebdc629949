package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

func addSigningKey(t *testing.T, s profileapi.Store, k *profileapi.SigningKey) {
	t.Helper()
	if err := s.AddSigningKey(t.Context(), k); err != nil {
		t.Fatalf("AddSigningKey(%s): %v", k.ID, err)
	}
}

// checkSigningKeys fails the test unless the store lists exactly want, in order.
func checkSigningKeys(t *testing.T, s profileapi.Store, want ...*profileapi.SigningKey) {
	t.Helper()
	got, err := s.SigningKeys(t.Context())
	if err != nil {
		t.Fatalf("SigningKeys: %v", err)
	}
	ids := func(keys []*profileapi.SigningKey) []string {
		out := []string{}
		for _, k := range keys {
			out = append(out, k.ID)
		}
		return out
	}
	if len(got) != len(want) {
		t.Fatalf("SigningKeys = %q, want %q", ids(got), ids(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Fatalf("SigningKeys = %q, want %q (newest first)", ids(got), ids(want))
		}
		if !bytes.Equal(got[i].Secret, want[i].Secret) {
			t.Errorf("key %s: secret %x, want %x", got[i].ID, got[i].Secret, want[i].Secret)
		}
		checkTime(t, "key "+got[i].ID+" CreatedAt", got[i].CreatedAt, want[i].CreatedAt)
	}
}

// keys returns keys created an hour apart, oldest first, with secrets that
// hold every byte value, NUL included. Their ids sort in neither time order.
func keys() []*profileapi.SigningKey {
	out := make([]*profileapi.SigningKey, 3)
	for i := range out {
		secret := make([]byte, 256)
		for j := range secret {
			secret[j] = byte(j + i)
		}
		out[i] = &profileapi.SigningKey{ID: []string{"key-b", "key-c", "key-a"}[i], Secret: secret, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
	}
	return out
}

func testSigningKeyAddAndList(t *testing.T, s profileapi.Store) {
	checkSigningKeys(t, s)
	k := keys()
	// Added out of order, so that only ordering by time lists them newest first.
	addSigningKey(t, s, k[1])
	addSigningKey(t, s, k[0])
	addSigningKey(t, s, k[2])
	checkSigningKeys(t, s, k[2], k[1], k[0])
}

func testSigningKeyZeroCreatedAt(t *testing.T, s profileapi.Store) {
	k := &profileapi.SigningKey{ID: "fresh", Secret: []byte("secret")}
	addSigningKey(t, s, k)
	if k.CreatedAt.IsZero() {
		t.Fatal("AddSigningKey left a zero CreatedAt zero")
	}
	checkSigningKeys(t, s, k)
}

func testSigningKeyDuplicate(t *testing.T, s profileapi.Store) {
	k := keys()
	addSigningKey(t, s, k[0])
	dup := *k[1]
	dup.ID = k[0].ID
	wantKind(t, "AddSigningKey with a taken id", s.AddSigningKey(t.Context(), &dup), profileapi.ECONFLICT)
	checkSigningKeys(t, s, k[0])
}

func testSigningKeyDeleteBefore(t *testing.T, s profileapi.Store) {
	k := keys()
	for _, key := range k {
		addSigningKey(t, s, key)
	}
	if err := s.DeleteSigningKeys(t.Context(), k[0].CreatedAt); err != nil {
		t.Fatalf("DeleteSigningKeys before the oldest: %v", err)
	}
	checkSigningKeys(t, s, k[2], k[1], k[0])
	if err := s.DeleteSigningKeys(t.Context(), k[1].CreatedAt); err != nil {
		t.Fatalf("DeleteSigningKeys: %v", err)
	}
	t.Log("a key created at the time given is kept")
	checkSigningKeys(t, s, k[2], k[1])
	if err := s.DeleteSigningKeys(t.Context(), k[2].CreatedAt.Add(time.Second)); err != nil {
		t.Fatalf("DeleteSigningKeys after the newest: %v", err)
	}
	checkSigningKeys(t, s)
}
