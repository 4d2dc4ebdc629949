package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"
)

func TestDescribeBuild(t *testing.T) {
	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"checkout without vcs stamp", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "devel (go1.26.8)"},
		{"checkout with local changes", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("7a53700a174c0123456789abcdef0123456789ab", "2026-11-27T09:30:06Z", "true")},
			"devel (commit 7a53700a174c with local changes, 2026-11-27T09:30:06Z, go1.26.8)"},
		{"clean checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: ""},
			Settings: vcs("7a53700a174c0123456789abcdef0123456789ab", "2026-11-27T09:30:06Z", "false")},
			"devel (commit 7a53700a174c, 2026-11-27T09:30:06Z, go1.26.8)"},
		{"go install of a release", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"},
			Settings: vcs("7a53700a174c0123456789abcdef0123456789ab", "2026-11-27T09:30:06Z", "false")},
			"v1.4.0 (go1.26.8)"},
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
