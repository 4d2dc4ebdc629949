package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/fixture"
	"github.com/profileapi/profileapi/token"
)

// loadFixtures reads and checks the --fixtures file, before serve creates
// anything or prints its banner.
func loadFixtures(path string) (*fixture.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--fixtures: %w", err)
	}
	defer f.Close()
	file, err := fixture.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("--fixtures %s: %w", path, err)
	}
	return file, nil
}

// applyFixtures seeds the file's world and prints one line per token:
// "token CUSTOMER SKILL ENDPOINT TOKEN", easy to pick out with awk.
func applyFixtures(ctx context.Context, w io.Writer, path string, file *fixture.File, store profileapi.Store, keys *token.Keyring, endpoints profileapi.Endpoints) error {
	minted, err := file.Apply(ctx, store, keys, endpoints, time.Now())
	if err != nil {
		return fmt.Errorf("--fixtures %s: %w", path, err)
	}
	fmt.Fprintf(w, "\nFixtures from %s: %d skills, %d customers. Tokens:\n", path, len(file.Skills), len(file.Customers))
	for _, m := range minted {
		fmt.Fprintf(w, "token %s %s %s %s\n", m.CustomerID, m.SkillID, m.APIEndpoint, m.APIAccessToken)
	}
	return nil
}
