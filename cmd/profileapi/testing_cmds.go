package main

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/profileapi/profileapi/fault"
	"github.com/profileapi/profileapi/ratelimit"
)

func faultsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "faults",
		Short: "Make the public API answer 429, 500 or 503, or slow down, on demand",
		Long: `faults injects failures into the public API, for testing a skill's error
handling. A fault matches a skill, a customer and an operation (each optional:
any), and answers the next --count matching requests (or a --fraction of
them, reproducibly with --seed) with --status, and/or adds --latency.`,
	}
	var (
		skill, customer, operation string
		status, count, retryAfter  int
		fraction                   float64
		seed                       int64
		latency                    string
	)
	add := &cobra.Command{
		Use:   "add",
		Short: "Inject a fault",
		Example: `  profileapi faults add --status 503 --count 3 --retry-after 1        # the next 3 calls get 503
  profileapi faults add --status 429 --skill amzn1.ask.skill.demo --operation Profile.email
  profileapi faults add --status 500 --fraction 0.25 --seed 42        # a reproducible quarter of calls
  profileapi faults add --latency 800ms --count 1                     # one slow answer`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{}
			f := cmd.Flags()
			if err := givenEmpty(f, "skill", "customer", "operation"); err != nil {
				return err
			}
			if skill != "" {
				body["skillId"] = skill
			}
			if customer != "" {
				body["customerId"] = customer
			}
			if operation != "" {
				body["operation"] = operation
			}
			if f.Changed("status") {
				body["status"] = status
			}
			if f.Changed("count") {
				body["count"] = count
			}
			if f.Changed("retry-after") {
				body["retryAfterSeconds"] = retryAfter
			}
			if f.Changed("fraction") {
				body["fraction"] = fraction
			}
			if f.Changed("seed") {
				body["seed"] = seed
			}
			if latency != "" {
				d, err := parseMillis(latency)
				if err != nil {
					return err
				}
				if d < 0 || d > fault.MaxLatencyMS {
					// In the flag's terms: the server's message names latencyMs.
					return fmt.Errorf("--latency %s: want from 0 to %s", latency, time.Duration(fault.MaxLatencyMS)*time.Millisecond)
				}
				body["latencyMs"] = d
			}
			return call(g, cmd, http.MethodPost, "/admin/v1/faults", body)
		},
	}
	fl := add.Flags()
	fl.StringVar(&skill, "skill", "", "only calls of this skill id")
	fl.StringVar(&customer, "customer", "", "only calls for this customer id")
	fl.StringVar(&operation, "operation", "", "only this operation: Profile.name, Profile.givenName, Profile.email or Profile.mobileNumber")
	fl.IntVar(&status, "status", 0, "answer with 429, 500 or 503")
	fl.IntVar(&count, "count", 0, "answer the next N matching calls (0: until cleared)")
	fl.IntVar(&retryAfter, "retry-after", 0, "Retry-After seconds on a 429 or 503")
	fl.Float64Var(&fraction, "fraction", 0, "answer this fraction (0-1] of matching calls")
	fl.Int64Var(&seed, "seed", 0, "seed for --fraction, for a reproducible sequence")
	fl.StringVar(&latency, "latency", "", "add this delay, e.g. 250ms (at most 25s)")
	cmd.AddCommand(add,
		&cobra.Command{Use: "list", Short: "List active faults", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			return call(g, cmd, http.MethodGet, "/admin/v1/faults", nil)
		}},
		&cobra.Command{Use: "delete FAULT_ID", Short: "Remove one fault", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodDelete, "/admin/v1/faults/"+esc(args[0]), nil)
		}},
		&cobra.Command{Use: "clear", Short: "Remove every fault", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			return call(g, cmd, http.MethodDelete, "/admin/v1/faults", nil)
		}},
	)
	return cmd
}

// parseMillis reads a duration the admin API takes in whole milliseconds:
// a part of one would be dropped without a word.
func parseMillis(s string) (int64, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, err
	}
	if d%time.Millisecond != 0 {
		return 0, fmt.Errorf("%q is not a whole number of milliseconds", s)
	}
	return d.Milliseconds(), nil
}

func journalCmd(g *globals) *cobra.Command {
	var skill, customer string
	var limit int
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "Show the recent public-API calls: what your skill asked for and what it got",
		Example: `  profileapi journal --skill amzn1.ask.skill.demo --limit 20
  profileapi journal clear`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return fmt.Errorf("--limit %d: want 1 or more (0 or no --limit: every entry kept)", limit)
			}
			if err := givenEmpty(cmd.Flags(), "skill", "customer"); err != nil {
				return err
			}
			q := url.Values{}
			if skill != "" {
				q.Set("skillId", skill)
			}
			if customer != "" {
				q.Set("customerId", customer)
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			path := "/admin/v1/journal"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			return call(g, cmd, http.MethodGet, path, nil)
		},
	}
	cmd.Flags().StringVar(&skill, "skill", "", "only calls of this skill id")
	cmd.Flags().StringVar(&customer, "customer", "", "only calls for this customer id")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many, newest first")
	cmd.AddCommand(&cobra.Command{Use: "clear", Short: "Forget every recorded call", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return call(g, cmd, http.MethodDelete, "/admin/v1/journal", nil)
	}})
	return cmd
}

func evaluateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "evaluate CUSTOMER_ID SKILL_ID",
		Short: "Say what each operation would answer now for this customer and skill, and why",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{"customerId": {args[0]}, "skillId": {args[1]}}
			return call(g, cmd, http.MethodGet, "/admin/v1/evaluate?"+q.Encode(), nil)
		},
	}
}

func rateLimitCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "rate-limit", Short: "Show or change a skill's rate limit"}
	var rate float64
	var burst int
	set := &cobra.Command{
		Use:     "set SKILL_ID --rate N [--burst N]",
		Short:   "Limit the skill to --rate requests per second (0: unlimited)",
		Example: `  profileapi rate-limit set amzn1.ask.skill.demo --rate 5 --burst 5`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if math.IsNaN(rate) || math.IsInf(rate, 0) {
				return fmt.Errorf("--rate %v: want 0 (unlimited) or from %g to %g requests per second", rate, ratelimit.MinRate, float64(ratelimit.MaxRate))
			}
			body := map[string]any{"ratePerSecond": rate}
			if cmd.Flags().Changed("burst") {
				body["burst"] = burst
			} else if rate > 0 {
				// One second's worth, as --skill-burst: with --redis, nodes
				// count together only under the same limit.
				body["burst"] = int(math.Max(1, math.Ceil(math.Min(rate, ratelimit.MaxRate))))
			}
			return call(g, cmd, http.MethodPut, "/admin/v1/skills/"+esc(args[0])+"/rate-limit", body)
		},
	}
	set.Flags().Float64Var(&rate, "rate", 0, "requests per second")
	set.Flags().IntVar(&burst, "burst", 0, "requests at once above the rate (default: one second's worth)")
	_ = set.MarkFlagRequired("rate")
	cmd.AddCommand(set,
		&cobra.Command{Use: "get SKILL_ID", Short: "Show the skill's limit", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodGet, "/admin/v1/skills/"+esc(args[0])+"/rate-limit", nil)
		}},
		&cobra.Command{Use: "reset SKILL_ID", Short: "Back to the --skill-rate default", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodDelete, "/admin/v1/skills/"+esc(args[0])+"/rate-limit", nil)
		}},
	)
	return cmd
}

// givenEmpty refuses a scoping flag given with no value, as a script's
// unset variable gives it: left out, it would mean every skill or customer.
func givenEmpty(f *pflag.FlagSet, names ...string) error {
	for _, name := range names {
		if v, _ := f.GetString(name); f.Changed(name) && v == "" {
			return fmt.Errorf("--%s is empty (an unset variable?): leave it out to mean every one", name)
		}
	}
	return nil
}
