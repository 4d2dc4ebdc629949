package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version describes this binary from the build information Go stamps into
// it: the module version (v1.2.3 for `go install …@v1.2.3`; for a build
// from a git checkout, a pseudo-version naming the commit; "devel" without
// VCS stamping) and the Go release. Nothing here is kept by hand.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return describeBuild(info)
}

func describeBuild(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	if info.GoVersion == "" {
		return v
	}
	return v + " (" + info.GoVersion + ")"
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and Go release of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "profileapi "+version())
			return nil
		},
	}
}
