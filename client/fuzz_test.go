package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fuzz targets cover everything the client parses from the outside:
// response bodies, Retry-After headers and request envelopes.

func FuzzDecodeString(f *testing.F) {
	for _, seed := range []string{`{"name":"John Smith"}`, `"John Smith"`, `{"email":"a@b.c"}`, `null`, ``, `{"name":null}`, `42`, `"\u00e9"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeString(body, []string{"name", "email"})
		var want *string // nil for null, which is no answer
		if json.Unmarshal(body, &want) == nil && want != nil && (err != nil || got != *want) {
			t.Errorf("decodeString(%q) = %q, %v; want the JSON string %q", body, got, err, *want)
		}
	})
}

func FuzzDecodePhoneNumber(f *testing.F) {
	for _, seed := range []string{`{"countryCode":"+91","phoneNumber":"7799-82-77-11"}`, `null`, ``, `"7799827710"`, `{"countryCode":1}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodePhoneNumber(body)
		var want PhoneNumber
		var members map[string]json.RawMessage
		if json.Unmarshal(body, &want) != nil || json.Unmarshal(body, &members) != nil || members == nil {
			return // not an object of the right types
		}
		if _, has := members["phoneNumber"]; !has {
			if err == nil {
				t.Errorf("decodePhoneNumber(%q) = %+v, no error; want one: no phoneNumber member", body, got)
			}
		} else if err != nil || got != want {
			t.Errorf("decodePhoneNumber(%q) = %+v, %v; want %+v", body, got, err, want)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	for _, seed := range []string{"", "0", "1", " 120 ", "-1", "1.5", "99999999999999999999", "Fri, 14 Mar 2025 15:09:29 GMT", "Friday, 14-Mar-25 15:09:29 GMT", "Fri Mar 14 15:09:29 2025", "soon"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if d := parseRetryAfter(h, now); d < 0 {
			t.Errorf("parseRetryAfter(%q) = %v, want no negative wait", h, d)
		}
	})
}

func FuzzParseSystem(f *testing.F) {
	f.Add([]byte(`{"context":{"System":{"apiEndpoint":"https://api.amazonalexa.com","apiAccessToken":"t","user":{"userId":"u","permissions":{"consentToken":"c"}},"application":{"applicationId":"a"}}}}`))
	f.Add([]byte(`{"context":{"System":{"apiEndpoint":"api.amazonalexa.com","apiAccessToken":"t"}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, envelope []byte) {
		sys, err := ParseSystem(envelope)
		if err != nil {
			return
		}
		c, err := FromRequest(envelope)
		if err == nil && (c.token != sys.APIAccessToken || c.endpoint == nil || c.token == "") {
			t.Errorf("FromRequest(%q) made a client for %v with token %q", envelope, c.endpoint, c.token)
		}
	})
}

func FuzzAPIError(f *testing.F) {
	f.Add(403, []byte(`{"code":"ACCESS_DENIED","message":"Access denied with reason: ACCESS_NOT_REQUESTED"}`))
	f.Add(403, []byte(`{"code":"ACCESS_DENIED","message":"Access denied with reason: FORBIDDEN"}`))
	f.Add(404, []byte(`{"code":"NOT_FOUND","message":"no value"}`))
	f.Add(204, []byte(nil))
	f.Add(401, []byte(`{"code":"eyJ.x.y","message":"bad token eyJ.x.y"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		const token = "eyJ.x.y"
		e := newAPIError(resp, body, ScopeEmail, time.Now(), token)
		if strings.Contains(e.Error(), token) {
			t.Errorf("%q: the error holds the token: %v", body, e)
		}
		granted, declared := errors.Is(e, ErrPermissionNotGranted), errors.Is(e, ErrPermissionNotDeclared)
		if (granted || declared) && !errors.Is(e, ErrAccessDenied) || granted && declared {
			t.Errorf("%+v: not granted %v, not declared %v, access denied %v", e, granted, declared, errors.Is(e, ErrAccessDenied))
		}
	})
}
