package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"
)

func TestDescribeBuild(t *testing.T) {
	for _, tc := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"without VCS stamping", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "devel (go1.26.8)"},
		{"a git checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261127093006-7a53700a174c+dirty"}},
			"v0.0.0-20261127093006-7a53700a174c+dirty (go1.26.8)"},
		{"go install of a release", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0 (go1.26.8)"},
		{"no Go release", debug.BuildInfo{Main: debug.Module{Version: ""}}, "devel"},
	} {
		if got := describeBuild(&tc.info); got != tc.want {
			t.Errorf("%s: describeBuild = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if want := "profileapi " + version() + "\n"; stdout.String() != want {
			t.Errorf("%v printed %q, want %q", args, stdout.String(), want)
		}
		// A test binary carries the go release it was built with.
		if !strings.Contains(stdout.String(), "go1.") {
			t.Errorf("%v printed %q, which names no Go release", args, stdout.String())
		}
	}
}
