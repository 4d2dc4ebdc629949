package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/profileapi/profileapi/client"
)

// A skill builds a Client from the request Alexa sent it and reads the
// customer's given name. The test server stands in for the API, answering
// as a profileapi server in documented mode does.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"name":"John"}`)
	}))
	defer api.Close()

	// The body of a LaunchRequest, as Alexa POSTs it to the skill.
	envelope := []byte(`{
	  "version": "1.0",
	  "context": {"System": {
	    "apiEndpoint": "` + api.URL + `",
	    "apiAccessToken": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9...",
	    "user": {"userId": "amzn1.ask.account.AAA"},
	    "application": {"applicationId": "amzn1.ask.skill.1"}
	  }},
	  "request": {"type": "LaunchRequest", "requestId": "amzn1.echo-api.request.1"}
	}`)

	c, err := client.FromRequest(envelope)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Leave time to answer Alexa, which waits about eight seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()

	name, err := c.GivenName(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("Hello, %s!\n", name)
	// Output: Hello, John!
}

// New calls a self-hosted server at an address with a path prefix. This
// server answers in alexa wire mode, with a bare JSON string.
func ExampleNew() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.Path, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `"jsmith@example.com"`)
	}))
	defer api.Close()

	c := client.New(api.URL+"/alexa/", "my-token")
	email, err := c.Email(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(email)
	// Output:
	// GET /alexa/v2/accounts/~current/settings/Profile.email Bearer my-token
	// jsmith@example.com
}

func ExampleClient_MobileNumber() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"countryCode":"+91","phoneNumber":"7799-82-77-11"}`)
	}))
	defer api.Close()

	n, err := client.New(api.URL, "my-token").MobileNumber(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("country code %s, number %s\n", n.CountryCode, n.PhoneNumber)
	// Output: country code +91, number 7799-82-77-11
}

// A skill turns each error into an answer to the customer. When the
// customer has not granted the scope, it answers with a consent card
// listing the scope the error names.
func Example_errors() {
	answers := []struct {
		status int
		body   string
	}{
		{200, `{"email":"jsmith@example.com"}`},
		{403, `{"code":"ACCESS_DENIED","message":"Access denied with reason: ACCESS_NOT_REQUESTED"}`},
		{403, `{"code":"ACCESS_DENIED","message":"Access denied with reason: FORBIDDEN"}`},
		{404, `{"code":"NOT_FOUND","message":"the customer has no email address"}`}, // documented mode
		{204, ``}, // alexa mode
		{401, `{"code":"INVALID_TOKEN","message":"the access token has expired"}`},
		{503, `{"code":"SERVICE_UNAVAILABLE","message":"try again later"}`},
		{404, `{"code":"INVALID_KEY","message":"unknown setting"}`},
	}
	next := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[next]
		next++
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	defer api.Close()

	type card struct {
		Type        string         `json:"type"`
		Permissions []client.Scope `json:"permissions"`
	}
	for range answers {
		c := client.New(api.URL, "my-token", client.WithMaxAttempts(1))
		email, err := c.Email(context.Background())
		var apiErr *client.APIError
		switch {
		case err == nil:
			fmt.Println("say: your email address is", email)
		case errors.Is(err, client.ErrPermissionNotGranted) && errors.As(err, &apiErr):
			b, _ := json.Marshal(card{"AskForPermissionsConsent", []client.Scope{apiErr.Scope}})
			fmt.Println("say: please grant the permission in the Alexa app; card:", string(b))
		case errors.Is(err, client.ErrPermissionNotDeclared):
			fmt.Println("log the misconfiguration; say: sorry")
		case errors.Is(err, client.ErrNoValue):
			fmt.Println("say: you have no email address on file")
		case errors.Is(err, client.ErrThrottled), errors.Is(err, client.ErrUnavailable):
			fmt.Println("say: please try again later")
		default:
			fmt.Println("log:", err)
		}
	}
	// Output:
	// say: your email address is jsmith@example.com
	// say: please grant the permission in the Alexa app; card: {"type":"AskForPermissionsConsent","permissions":["alexa::profile:email:read"]}
	// log the misconfiguration; say: sorry
	// say: you have no email address on file
	// say: you have no email address on file
	// log: client: Profile.email: 401 Unauthorized: INVALID_TOKEN: the access token has expired
	// say: please try again later
	// log: client: Profile.email: 404 Not Found: INVALID_KEY: unknown setting
}

// The client retries a 503 after a random back-off and a 429 after the
// wait its Retry-After asks for. WithSleep and WithRand make the schedule
// visible here; a skill leaves them alone.
func Example_retries() {
	answers := []struct {
		status     int
		retryAfter string
		body       string
	}{
		{503, "", `{"code":"SERVICE_UNAVAILABLE","message":"try again later"}`},
		{429, "1", `{"code":"TOO_MANY_REQUESTS","message":"slow down"}`},
		{200, "", `{"email":"jsmith@example.com"}`},
	}
	next := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[next]
		next++
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	defer api.Close()

	var waits []string
	c := client.New(api.URL, "my-token",
		client.WithMaxAttempts(3),
		client.WithBackoff(100*time.Millisecond, 5*time.Second),
		client.WithRand(func(n int64) int64 { return n - 1 }), // always the longest jitter
		client.WithSleep(func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d.String())
			return nil
		}))
	email, err := c.Email(context.Background())
	fmt.Println(email, err)
	fmt.Println("waited", strings.Join(waits, ", then "))
	// Output:
	// jsmith@example.com <nil>
	// waited 100ms, then 1s
}
