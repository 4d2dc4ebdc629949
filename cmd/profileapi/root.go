package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// env reads PROFILEAPI_* variables; run's getenv, so tests pass their own.
type env func(string) string

// globals are the flags every command shares.
type globals struct {
	dataDir  string
	adminKey string
	adminURL string
	getenv   env
	stdin    io.Reader
}

// run is the whole program: main only adds the process's arguments,
// environment, streams and signals.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	g := &globals{getenv: getenv, stdin: stdin}
	root := &cobra.Command{
		Use:   "profileapi",
		Short: "A self-hostable Customer Profile API for Alexa skills",
		Long: `profileapi serves the Customer Profile API (a customer's name, given name,
email address and mobile number, read with a skill's apiAccessToken) and a
control plane to register skills, hold customers and their consent, and
mint tokens.

Start here:
  profileapi serve --demo        run the service with a demo skill and customer

Then, in another terminal, drive the control plane:
  profileapi skills create --name "My skill" --permission alexa::profile:email:read
  profileapi customers create --region NA --email jsmith@example.com
  profileapi consents grant CUSTOMER_ID SKILL_ID --scope alexa::profile:email:read
  profileapi tokens mint CUSTOMER_ID SKILL_ID

Every flag can also be set with an environment variable: --admin-key is
PROFILEAPI_ADMIN_KEY, --wire is PROFILEAPI_WIRE, and so on.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate("profileapi {{.Version}}\n")
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetContext(ctx)
	root.CompletionOptions.DisableDefaultCmd = true

	pf := root.PersistentFlags()
	pf.StringVar(&g.dataDir, "data-dir", defaultDataDir(getenv), "directory for the database, the admin key and TLS files")
	pf.StringVar(&g.adminKey, "admin-key", "", "admin API key (default: the one kept in --data-dir)")
	pf.StringVar(&g.adminURL, "admin-url", "http://127.0.0.1:8081", "admin API base URL, for the control-plane commands")

	root.AddCommand(
		serveCmd(g),
		skillsCmd(g),
		customersCmd(g),
		consentsCmd(g),
		tokensCmd(g),
		requestsCmd(g),
		adminKeyCmd(g),
		tlsCmd(g),
		faultsCmd(g),
		journalCmd(g),
		evaluateCmd(g),
		rateLimitCmd(g),
		importCmd(g), exportCmd(g), loadtestCmd(g), loadtestCeilingCmd(),
		versionCmd(),
	)
	for _, c := range root.Commands() {
		refuseUnknownSubcommands(c)
	}
	var fromEnv map[string]string // flag name → the variable it was set from
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) (err error) {
		fromEnv, err = applyEnv(cmd.Flags(), getenv)
		return err
	}
	return blameEnv(root.ExecuteContext(ctx), fromEnv)
}

// blameEnv names the variable behind a flag an error names, when the flag
// was set from the environment: an operator reading "--skill-rate -1" would
// look for it on a command line that has none.
func blameEnv(err error, fromEnv map[string]string) error {
	if err == nil {
		return nil
	}
	var blamed []string
	for flag, name := range fromEnv {
		if namesFlag(err.Error(), flag) {
			blamed = append(blamed, "--"+flag+" is set by "+name)
		}
	}
	if len(blamed) == 0 {
		return err
	}
	slices.Sort(blamed)
	return fmt.Errorf("%w (%s)", err, strings.Join(blamed, ", "))
}

// namesFlag reports whether msg names --flag as a whole word: not
// --endpoint-na for --endpoint.
func namesFlag(msg, flag string) bool {
	word := "--" + flag
	for i := strings.Index(msg, word); i >= 0; {
		end := i + len(word)
		if end == len(msg) || !(msg[end] == '-' || 'a' <= msg[end] && msg[end] <= 'z' || '0' <= msg[end] && msg[end] <= '9') {
			return true
		}
		next := strings.Index(msg[end:], word)
		if next < 0 {
			return false
		}
		i = end + next
	}
	return false
}

// refuseUnknownSubcommands makes a group of commands (consents, skills, …)
// given a subcommand it lacks fail, where cobra would print its help and
// exit 0, and a script would not notice the typo.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return fmt.Errorf("unknown command %q for %q; see %s --help", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
}

// applyEnv sets every flag not given on the command line from its
// PROFILEAPI_* variable, if set: --admin-key from PROFILEAPI_ADMIN_KEY.
// It returns the flags it set, with their variables.
func applyEnv(fs *pflag.FlagSet, getenv env) (map[string]string, error) {
	var err error
	set := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		name := "PROFILEAPI_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = &flagEnvError{name: name, err: serr}
				return
			}
			set[f.Name] = name
		}
	})
	return set, err
}

type flagEnvError struct {
	name string
	err  error
}

func (e *flagEnvError) Error() string { return "invalid " + e.name + ": " + e.err.Error() }

// defaultDataDir follows the XDG base directory convention, which ignores
// a relative XDG_DATA_HOME: the data directory would move with the working
// directory.
func defaultDataDir(getenv env) string {
	if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "profileapi")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "share", "profileapi")
	}
	return "profileapi-data"
}

// parseDuration accepts Go durations ("250ms") and bare milliseconds ("250").
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || n > math.MaxInt64/int64(time.Millisecond) || n < math.MinInt64/int64(time.Millisecond) {
			return 0, fmt.Errorf("%q milliseconds is more than a duration can hold", s)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 250ms", s)
	}
	return d, nil
}
