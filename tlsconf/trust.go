package tlsconf

import (
	"runtime"
	"strings"
)

// TrustInstructions returns the text to print once, when Auto has created
// the certificate authority in caFile: how to make Node.js, Python, Java, Go
// and curl clients trust it.
func TrustInstructions(caFile string) string {
	ca := shellQuote(caFile)
	r := strings.NewReplacer("{ca}", ca)
	return r.Replace(`profileapi serves HTTPS with a certificate from its own local CA.
Make each client trust {ca}
(share only that file; keep ca-key.pem private):

  Node.js  NODE_EXTRA_CA_CERTS={ca} node skill.js
  Python   REQUESTS_CA_BUNDLE={ca} python skill.py
           SSL_CERT_FILE={ca} python skill.py
             The first is for requests, which the ASK SDK uses; the second for
             the ssl module and urllib. Each REPLACES the default CA bundle: to
             keep public CAs too, point it at a copy of the file that
             "python -m certifi" prints, with ca.pem appended.
  Java     keytool -importcert -alias profileapi -file {ca} -keystore profileapi-truststore.jks -storepass changeit -noprompt
           java -Djavax.net.ssl.trustStore=profileapi-truststore.jks -Djavax.net.ssl.trustStorePassword=changeit ...
             This trust store replaces the JVM's default one.
  Go       SSL_CERT_FILE={ca} ./skill
             Linux and BSD; on macOS and Windows add ca.pem to the system trust store.
  curl     curl --cacert {ca} https://localhost:PORT/...
`)
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path characters.
func shellQuote(s string) string {
	safe := func(c rune) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.ContainsRune("/._-+:,@%=", c) || c == '\\' && runtime.GOOS == "windows"
	}
	if s != "" && strings.IndexFunc(s, func(c rune) bool { return !safe(c) }) < 0 {
		return s
	}
	if runtime.GOOS == "windows" {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
