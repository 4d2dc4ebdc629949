package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/tlsconf"
)

// tlsMode is how serve speaks TLS.
const (
	tlsOff  = "off"
	tlsAuto = "auto"
)

func tlsDir(dataDir string) string { return filepath.Join(dataDir, "tls") }

// scheme is the scheme both listeners speak with these options.
func (o *serveOptions) scheme() (string, error) {
	switch {
	case o.tls != tlsOff && o.tls != tlsAuto:
		return "", fmt.Errorf("--tls %q: want off or auto", o.tls)
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return "", errors.New("--tls-cert and --tls-key go together: give both or neither")
	case o.tlsCert != "" && o.tls == tlsAuto:
		return "", errors.New("--tls auto makes its own certificate: drop --tls-cert and --tls-key, or --tls auto")
	case o.tlsCert != "" && o.tlsSet:
		return "", errors.New("--tls off and --tls-cert contradict each other: the certificate files turn TLS on; drop one")
	case o.tlsCert != "" || o.tls == tlsAuto:
		return "https", nil
	}
	return "http", nil
}

// checkAutoEndpoints checks, for --tls auto, the endpoints given: each is
// https (the listeners speak nothing else) with a host name the local CA
// can certify.
func (o *serveOptions) checkAutoEndpoints() error {
	for _, e := range []struct{ flag, url string }{
		{"--endpoint-na", o.endpointNA}, {"--endpoint-eu", o.endpointEU}, {"--endpoint-fe", o.endpointFE},
	} {
		if e.url == "" {
			continue
		}
		u, err := url.Parse(e.url)
		if err != nil {
			continue // endpointsFor says what is wrong with it
		}
		if u.Scheme != "https" {
			return fmt.Errorf("%s %s: --tls auto serves https only: give an https:// endpoint", e.flag, e.url)
		}
		if err := tlsconf.CheckHosts([]string{u.Hostname()}); err != nil {
			return fmt.Errorf("%s %s: %w", e.flag, e.url, err)
		}
	}
	return nil
}

// tlsConfig returns the listeners' TLS configuration, or nil for plain
// HTTP, and the CA file clients must trust under --tls auto.
func (o *serveOptions) tlsConfig(dataDir string, endpoints profileapi.Endpoints, listenAddrs []string, stdout io.Writer) (*tls.Config, string, error) {
	if o.tlsCert != "" {
		cfg, err := tlsconf.Files(o.tlsCert, o.tlsKey)
		return cfg, "", err
	}
	if o.tls != tlsAuto {
		return nil, "", nil
	}
	hosts := endpoints.Hosts()
	for _, a := range listenAddrs {
		if h, _, err := net.SplitHostPort(a); err == nil && h != "" && !net.ParseIP(h).IsUnspecified() {
			hosts = append(hosts, h)
		}
	}
	b, err := tlsconf.Auto(tlsDir(dataDir), hosts, nil)
	if err != nil {
		return nil, "", err
	}
	if b.Created {
		fmt.Fprintln(stdout)
		fmt.Fprint(stdout, tlsconf.TrustInstructions(b.CAFile))
		fmt.Fprintln(stdout)
	}
	return b.Config(), b.CAFile, nil
}

// httpClient trusts the local CA of the data directory, if there is one,
// besides the system's, so the CLI needs no CA flag for a --tls auto server
// of the same --data-dir. It still needs that server's https:// URL in
// --admin-url: the scheme is never switched behind the user's back, and
// adminClient.do says which URL to use when an http:// one meets TLS.
func (g *globals) httpClient() (*http.Client, error) {
	pem, err := os.ReadFile(filepath.Join(tlsDir(g.dataDir), "ca.pem"))
	if errors.Is(err, fs.ErrNotExist) {
		return &http.Client{Timeout: adminTimeout}, nil
	} else if err != nil {
		return nil, err
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	roots.AppendCertsFromPEM(pem)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: adminTimeout, Transport: tr}, nil
}

func tlsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tls", Short: "The local certificate authority of --tls auto"}
	cmd.AddCommand(&cobra.Command{
		Use:   "ca-path",
		Short: "Print the path of the CA certificate clients must trust (on a terminal, how to trust it)",
		Long: `ca-path prints the path of the local CA's certificate, and on a terminal how
each SDK's runtime is made to trust it. In $(profileapi tls ca-path) it prints
the path alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ca := filepath.Join(tlsDir(g.dataDir), "ca.pem")
			if _, err := os.Stat(ca); err != nil {
				return fmt.Errorf("no local CA in %s yet: run `profileapi serve --tls auto` once (%w)", tlsDir(g.dataDir), err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), ca)
			if out, ok := cmd.OutOrStdout().(*os.File); ok && isTerminal(out) {
				fmt.Fprintln(cmd.ErrOrStderr())
				fmt.Fprint(cmd.ErrOrStderr(), tlsconf.TrustInstructions(ca))
			}
			return nil
		},
	})
	return cmd
}

// isTerminal reports whether f is a terminal (a character device), as
// standard output is when a person reads it, not a command substitution.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
