package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// serve closes its Redis connections when it returns: a program that runs
// it in process, as these tests do, must not collect them.
func TestServeClosesRedis(t *testing.T) {
	redisURL := os.Getenv("PROFILEAPI_TEST_REDIS")
	if redisURL == "" {
		t.Skip("set PROFILEAPI_TEST_REDIS to run it")
	}
	name := make([]byte, 6)
	_, _ = rand.Read(name)
	clientName := "profileapi-closes-" + hex.EncodeToString(name)
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("client_name", clientName) // to tell serve's connections from the other tests'
	u.RawQuery = q.Encode()

	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	watcher := redis.NewClient(opt)
	defer watcher.Close()
	open := func() int {
		list, err := watcher.ClientList(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(list, " name="+clientName+" ")
	}

	in := start(t, t.TempDir(), "--redis", u.String(), "--skill-rate", "5")
	if n := open(); n == 0 {
		t.Fatalf("no connection named %s while serve runs: the test cannot tell", clientName)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	// Redis sees a closed connection go a moment later.
	deadline := time.Now().Add(5 * time.Second)
	for n := open(); n != 0; n = open() {
		if time.Now().After(deadline) {
			t.Fatalf("serve returned with %d Redis connections open", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
