package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/profileapi/profileapi"
)

// FuzzAppendJSONString: the string encoder writes what encoding/json writes.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "John Smith", `a"b\c`, "<script>&</script>", "\x00\x01\b\f\n\r\t\x1f\x7f", "Müller", "\u2028\u2029", "\xff\xfe", "日本語", "a\xc3", "\U0001F600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}

func TestMiddlewareAt(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var seen *Info
	h := MiddlewareAt(slog.LevelDebug, logger, "test", HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		AddAttrs(r.Context(), slog.String("a", "1"), slog.String("b", "2"), slog.String("c", "3"), slog.String("d", "4"), slog.String("e", "5"))
		// A context derived from the request's still finds its Info.
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if InfoFrom(ctx) != InfoFrom(r.Context()) || RequestID(ctx) == "" {
			t.Error("a derived context lost the request's Info")
		}
		switch r.URL.Path {
		case "/fail":
			return errors.New("a bug")
		case "/missing":
			return profileapi.Errorf(profileapi.ENOTFOUND, "no")
		}
		Encode(w, http.StatusOK, map[string]string{"ok": "yes"})
		return nil
	}), func(r *http.Request, info *Info, d time.Duration) { seen = info })

	ids := map[string]bool{}
	for _, path := range []string{"/ok", "/missing", "/ok"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		id := rec.Header().Get("X-Request-Id")
		if len(id) != 24 || ids[id] || seen.RequestID != id || len(seen.Attrs) != 5 {
			t.Fatalf("%s: id %q (seen %v), info %+v", path, id, ids, seen)
		}
		ids[id] = true
	}
	if logs.Len() != 0 {
		t.Fatalf("requests logged above their level: %s", logs.String())
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/fail", nil)
	req.Header.Set("X-Request-Id", "given-id")
	h.ServeHTTP(rec, req)
	if rec.Code != 500 || rec.Header().Get("X-Request-Id") != "given-id" {
		t.Fatalf("500: %d %q", rec.Code, rec.Header().Get("X-Request-Id"))
	}
	if line := logs.String(); !strings.Contains(line, "level=WARN") || !strings.Contains(line, "request_id=given-id") || !strings.Contains(line, "err=\"a bug\"") || !strings.Contains(line, "e=5") {
		t.Fatalf("a 5xx is logged at Warn with its cause: %s", line)
	}
}
