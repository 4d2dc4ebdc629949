package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// call runs one admin API request and prints its JSON answer.
func call(g *globals, cmd *cobra.Command, method, path string, body any) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	var out json.RawMessage
	if err := c.do(cmd.Context(), method, path, body, &out); err != nil {
		return err
	}
	if len(out) == 0 {
		return nil
	}
	return printJSON(cmd.OutOrStdout(), out)
}

func esc(s string) string { return url.PathEscape(s) }

func skillsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "skills", Short: "Register, show and remove skills"}
	var id, name string
	var perms []string
	create := &cobra.Command{
		Use:   "create --name NAME [--permission SCOPE]...",
		Short: "Register a skill and the scopes it may ask for",
		Example: `  profileapi skills create --name "Pizza" --permission alexa::profile:given_name:read --permission alexa::profile:mobile_number:read
Scopes: alexa::profile:name:read, alexa::profile:given_name:read,
        alexa::profile:email:read, alexa::profile:mobile_number:read`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if perms == nil {
				perms = []string{}
			}
			body := map[string]any{"name": name, "permissions": perms}
			if id != "" {
				body["id"] = id
			}
			return call(g, cmd, http.MethodPost, "/admin/v1/skills", body)
		},
	}
	create.Flags().StringVar(&id, "id", "", "skill id (default: a fresh amzn1.ask.skill.{uuid})")
	create.Flags().StringVar(&name, "name", "", "skill name (required)")
	create.Flags().StringArrayVar(&perms, "permission", nil, "a scope the skill declares; repeat for several")
	_ = create.MarkFlagRequired("name")
	cmd.AddCommand(create,
		&cobra.Command{Use: "list", Short: "List skills", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			return call(g, cmd, http.MethodGet, "/admin/v1/skills", nil)
		}},
		&cobra.Command{Use: "get SKILL_ID", Short: "Show a skill", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodGet, "/admin/v1/skills/"+esc(args[0]), nil)
		}},
		&cobra.Command{Use: "delete SKILL_ID", Short: "Remove a skill; its tokens stop working", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodDelete, "/admin/v1/skills/"+esc(args[0]), nil)
		}},
	)
	return cmd
}

type profileFlags struct {
	name, givenName, email, countryCode, phone string
}

func (p *profileFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&p.name, "name", "", "full name, e.g. \"John Smith\"")
	f.StringVar(&p.givenName, "given-name", "", "given name, e.g. John")
	f.StringVar(&p.email, "email", "", "email address")
	f.StringVar(&p.countryCode, "country-code", "", "mobile number country code: +1, 001 or 1")
	f.StringVar(&p.phone, "phone-number", "", "mobile number, e.g. \"7799-82-77-11\"")
}

// changed returns the profile members whose flags were given; for update,
// an empty value given explicitly removes the member (null in the patch):
// an empty --country-code or --phone-number the whole mobile number, which
// is nothing without either.
func (p *profileFlags) changed(cmd *cobra.Command, removeEmpty bool) map[string]any {
	out := map[string]any{}
	f := cmd.Flags()
	for flag, member := range map[string]string{"name": "name", "given-name": "givenName", "email": "email"} {
		if !f.Changed(flag) {
			continue
		}
		v, _ := f.GetString(flag)
		if v == "" && removeEmpty {
			out[member] = nil
		} else {
			out[member] = v
		}
	}
	// Only the members given: the patch merges them into the number kept.
	number := map[string]string{}
	for flag, member := range map[string]string{"country-code": "countryCode", "phone-number": "phoneNumber"} {
		if f.Changed(flag) {
			number[member], _ = f.GetString(flag)
		}
	}
	switch {
	case len(number) == 0:
	case removeEmpty && number["countryCode"] == "" && number["phoneNumber"] == "":
		out["mobileNumber"] = nil
	default:
		out["mobileNumber"] = number
	}
	return out
}

func customersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "customers", Short: "Create, show, change and remove customers"}
	var id, region string
	var pf profileFlags
	create := &cobra.Command{
		Use:     "create --region NA|EU|FE [profile flags]",
		Short:   "Create a customer with a profile",
		Example: `  profileapi customers create --region NA --name "John Smith" --given-name John --email jsmith@example.com --country-code +91 --phone-number 7799-82-77-11`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{"region": region, "profile": pf.changed(cmd, false)}
			if id != "" {
				body["id"] = id
			}
			return call(g, cmd, http.MethodPost, "/admin/v1/customers", body)
		},
	}
	create.Flags().StringVar(&id, "id", "", "customer id (default: a fresh amzn1.ask.account.…)")
	create.Flags().StringVar(&region, "region", "NA", "region: NA, EU or FE")
	pf.register(create)

	var upf profileFlags
	var uregion string
	update := &cobra.Command{
		Use:   "update CUSTOMER_ID [profile flags]",
		Short: "Change a customer's profile or region; an empty value removes it",
		Example: `  profileapi customers update amzn1.ask.account.DEMO --email new@example.com --given-name ""
  profileapi customers update amzn1.ask.account.DEMO --phone-number ""   # removes the whole mobile number`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			if p := upf.changed(cmd, true); len(p) > 0 {
				body["profile"] = p
			}
			if cmd.Flags().Changed("region") {
				body["region"] = uregion
			}
			if len(body) == 0 {
				return errors.New("nothing to change: give --region or a profile flag (--name, --given-name, --email, --country-code, --phone-number)")
			}
			return call(g, cmd, http.MethodPatch, "/admin/v1/customers/"+esc(args[0]), body)
		},
	}
	update.Flags().StringVar(&uregion, "region", "", "move the customer to region NA, EU or FE")
	upf.register(update)
	cmd.AddCommand(create, update,
		&cobra.Command{Use: "get CUSTOMER_ID", Short: "Show a customer", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodGet, "/admin/v1/customers/"+esc(args[0]), nil)
		}},
		&cobra.Command{Use: "delete CUSTOMER_ID", Short: "Remove a customer; their tokens stop working", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodDelete, "/admin/v1/customers/"+esc(args[0]), nil)
		}},
	)
	return cmd
}

func consentsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "consents", Short: "Grant, get and revoke what a customer shares with a skill"}
	var scopes []string
	grant := &cobra.Command{
		Use:     "grant CUSTOMER_ID SKILL_ID --scope SCOPE...",
		Short:   "Grant the skill exactly these scopes (each must be declared by the skill)",
		Example: `  profileapi consents grant amzn1.ask.account.DEMO amzn1.ask.skill.demo --scope alexa::profile:email:read`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodPut, "/admin/v1/customers/"+esc(args[0])+"/consents/"+esc(args[1]), map[string]any{"scopes": scopes})
		},
	}
	grant.Flags().StringArrayVar(&scopes, "scope", nil, "a scope to grant; repeat for several")
	// Granting none is revoking, which says so: without a scope, grant
	// would look as if it had granted something.
	_ = grant.MarkFlagRequired("scope")
	cmd.AddCommand(grant,
		&cobra.Command{Use: "get CUSTOMER_ID SKILL_ID", Short: "Show what the customer grants the skill", Args: cobra.ExactArgs(2), RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodGet, "/admin/v1/customers/"+esc(args[0])+"/consents/"+esc(args[1]), nil)
		}},
		&cobra.Command{Use: "revoke CUSTOMER_ID SKILL_ID", Short: "Revoke every scope; enforced on the very next request", Args: cobra.ExactArgs(2), RunE: func(cmd *cobra.Command, args []string) error {
			return call(g, cmd, http.MethodDelete, "/admin/v1/customers/"+esc(args[0])+"/consents/"+esc(args[1]), nil)
		}},
	)
	return cmd
}

func tokensCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Mint apiAccessTokens"}
	var ttl int64
	mint := &cobra.Command{
		Use:     "mint CUSTOMER_ID SKILL_ID",
		Short:   "Mint a token for the customer and skill, at the customer's region's endpoint",
		Example: `  profileapi tokens mint amzn1.ask.account.DEMO amzn1.ask.skill.demo --ttl 600`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"customerId": args[0], "skillId": args[1]}
			if cmd.Flags().Changed("ttl") {
				body["ttlSeconds"] = ttl
			}
			return call(g, cmd, http.MethodPost, "/admin/v1/tokens", body)
		},
	}
	mint.Flags().Int64Var(&ttl, "ttl", 3600, "lifetime in seconds (at most 86400)")
	cmd.AddCommand(mint, tokensBatchCmd(g))
	return cmd
}

func requestsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "requests", Short: "Build the request envelope a skill would receive"}
	var locale string
	launch := &cobra.Command{
		Use:   "launch CUSTOMER_ID SKILL_ID",
		Short: "Build a LaunchRequest envelope with a fresh token",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"type": "LaunchRequest", "customerId": args[0], "skillId": args[1]}
			if locale != "" {
				body["locale"] = locale
			}
			return call(g, cmd, http.MethodPost, "/admin/v1/requests", body)
		},
	}
	var intentLocale string
	intent := &cobra.Command{
		Use:     "intent CUSTOMER_ID SKILL_ID INTENT_NAME",
		Short:   "Build an IntentRequest envelope with a fresh token",
		Example: `  profileapi requests intent amzn1.ask.account.DEMO amzn1.ask.skill.demo OrderPizzaIntent | curl -s -d @- http://localhost:3000/`,
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"type": "IntentRequest", "customerId": args[0], "skillId": args[1], "intent": map[string]any{"name": args[2]}}
			if intentLocale != "" {
				body["locale"] = intentLocale
			}
			return call(g, cmd, http.MethodPost, "/admin/v1/requests", body)
		},
	}
	launch.Flags().StringVar(&locale, "locale", "", "request locale (default: by region, en-US, en-GB or ja-JP)")
	intent.Flags().StringVar(&intentLocale, "locale", "", "request locale (default: by region)")
	cmd.AddCommand(launch, intent)
	return cmd
}
