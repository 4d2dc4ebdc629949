// Command skill is an example Alexa skill, hosted as a web service, that
// greets the customer by their given name, read with package client.
//
// On a LaunchRequest it answers "Hello, John!". When the customer has not
// granted the skill alexa::profile:given_name:read, it asks them to, with an
// AskForPermissionsConsent card in the Alexa app. It answers every other
// failure with speech that makes sense to the customer, and logs the cause.
//
// Run it against a self-hosted profileapi server: the envelopes that
// server's control plane builds (POST /admin/v1/requests) carry the server's
// address as apiEndpoint, so the skill reaches it with no configuration:
//
//	go run ./examples/skill                  # on 127.0.0.1:3000, beside the server's 8080
//	curl -d @launch-request.json http://127.0.0.1:3000/
//
// It does not verify that requests come from Alexa (the signature and
// timestamp checks Amazon requires of a skill hosted as a web service): put
// a verifier in front of it before going live.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/profileapi/profileapi/client"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "skill:", err)
		os.Exit(1)
	}
}

// run serves the skill until ctx ends or the process gets SIGINT or SIGTERM.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	flags := flag.NewFlagSet("skill", flag.ContinueOnError)
	flags.SetOutput(stderr)
	defaultAddr := getenv("SKILL_ADDR")
	if defaultAddr == "" {
		defaultAddr = "127.0.0.1:3000" // profileapi serve has 8080
	}
	addr := flags.String("addr", defaultAddr, "address to listen on (env SKILL_ADDR)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newHandler(logger), ReadHeaderTimeout: 5 * time.Second}
	logger.Info("skill listening", "addr", l.Addr().String())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// A fresh context: the cancelled one would drain nothing.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// maxEnvelope caps a request body; Alexa's are a few kilobytes.
const maxEnvelope = 256 << 10

// answerTimeout leaves time to answer within the eight seconds Alexa waits.
const answerTimeout = 5 * time.Second

// newHandler is the skill's web service: POST / takes an Alexa request
// envelope and returns the skill's response. Every client it makes gets
// opts, so that tests can change the retry policy.
func newHandler(logger *slog.Logger, opts ...client.Option) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /{$}", handleRequest(logger, opts))
	return mux
}

func handleRequest(logger *slog.Logger, opts []client.Option) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		envelope, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEnvelope))
		if err != nil {
			http.Error(w, "cannot read the request body", http.StatusBadRequest)
			return
		}
		var req struct {
			Request struct {
				Type string `json:"type"`
			} `json:"request"`
		}
		if err := json.Unmarshal(envelope, &req); err != nil || req.Request.Type == "" {
			http.Error(w, "not an Alexa request envelope", http.StatusBadRequest)
			return
		}

		var resp response
		switch req.Request.Type {
		case "LaunchRequest":
			ctx, cancel := context.WithTimeout(r.Context(), answerTimeout)
			defer cancel()
			resp = greet(ctx, logger, envelope, opts)
		case "SessionEndedRequest":
			resp = response{Version: "1.0"} // Alexa reads no speech here
		default:
			resp = say("I can only say hello. Open the skill to hear it.")
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		if err := json.NewEncoder(w).Encode(resp); err != nil {
			logger.Warn("write response", "err", err)
		}
	})
}

// greet reads the customer's given name and turns the result, or the
// error, into what the skill says.
func greet(ctx context.Context, logger *slog.Logger, envelope []byte, opts []client.Option) response {
	c, err := client.FromRequest(envelope, opts...)
	if err != nil {
		logger.Error("read the request envelope", "err", err)
		return say("Hello! Sorry, something went wrong.")
	}
	name, err := c.GivenName(ctx)
	switch {
	case err == nil:
		return say("Hello, " + name + "!")
	case errors.Is(err, client.ErrPermissionNotDeclared):
		// A consent card cannot help: the skill's manifest must list the
		// permission first.
		logger.Error("the skill does not declare the permission it needs", "scope", client.ScopeGivenName, "err", err)
		return say("Hello! Sorry, I can't greet you by name yet.")
	case errors.Is(err, client.ErrAccessDenied):
		// ErrPermissionNotGranted, or a reason this client does not know
		// yet: either way, only the customer can fix it.
		resp := say("Hello! To greet you by name, I need permission to use your first name. " +
			"I've sent a card to your Alexa app where you can grant it.")
		resp.Response.Card = &card{Type: "AskForPermissionsConsent", Permissions: []client.Scope{client.ScopeGivenName}}
		return resp
	case errors.Is(err, client.ErrNoValue):
		return say("Hello! Add your first name to your Amazon account and I'll greet you by name.")
	case errors.Is(err, client.ErrThrottled), errors.Is(err, client.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		logger.Warn("read the given name", "err", err)
		return say("Hello! I can't look up your name right now. Please try again in a moment.")
	default: // ErrUnauthorized, or a bug
		logger.Error("read the given name", "err", err)
		return say("Hello! Sorry, something went wrong.")
	}
}

// response is the body a skill returns to Alexa.
type response struct {
	Version  string `json:"version"`
	Response struct {
		OutputSpeech     *outputSpeech `json:"outputSpeech,omitempty"`
		Card             *card         `json:"card,omitempty"`
		ShouldEndSession *bool         `json:"shouldEndSession,omitempty"`
	} `json:"response"`
}

type outputSpeech struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type card struct {
	Type        string         `json:"type"`
	Permissions []client.Scope `json:"permissions,omitempty"`
}

// say speaks text and ends the session.
func say(text string) response {
	resp := response{Version: "1.0"}
	end := true
	resp.Response.OutputSpeech = &outputSpeech{Type: "PlainText", Text: text}
	resp.Response.ShouldEndSession = &end
	return resp
}
