package profileapi

import (
	"net"
	"net/url"
	"path"
	"strings"
)

// Endpoints are the advertised apiEndpoint of each region. One process
// serves all three: a request's region is told by its path prefix and, when
// several regions share a prefix, by its Host.
type Endpoints struct {
	byRegion map[Region]endpoint
}

type endpoint struct {
	url    string
	host   string // lower-case host name, no port
	prefix string // path prefix without a trailing slash, "" for none
}

// NewEndpoints parses one absolute http(s) URL per region.
func NewEndpoints(urls map[Region]string) (Endpoints, error) {
	e := Endpoints{byRegion: make(map[Region]endpoint, len(Regions))}
	seen := map[string]Region{}
	for _, r := range Regions {
		raw, ok := urls[r]
		if !ok {
			return Endpoints{}, Errorf(EINVALID, "no endpoint for region %s", r)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
			return Endpoints{}, Errorf(EINVALID, "endpoint %q for region %s must be an absolute http or https URL without query", raw, r)
		}
		// A client joins the settings' path to it as given, and most clean
		// the result: a path with // or dot segments would not be this one.
		if p := strings.TrimSuffix(u.Path, "/"); strings.Contains(u.Path, "//") || p != "" && path.Clean(p) != p {
			return Endpoints{}, Errorf(EINVALID, "endpoint %q for region %s has a path with an empty or dot segment (//, . or ..): give it clean, such as /eu", raw, r)
		}
		ep := endpoint{
			url:    strings.TrimSuffix(u.String(), "/"),
			host:   strings.ToLower(u.Hostname()),
			prefix: strings.TrimSuffix(u.EscapedPath(), "/"),
		}
		key := ep.host + ep.prefix
		if other, dup := seen[key]; dup {
			return Endpoints{}, Errorf(EINVALID, "regions %s and %s have the same endpoint host and path %q: they could not be told apart", other, r, key)
		}
		seen[key] = r
		e.byRegion[r] = ep
	}
	return e, nil
}

// LoopbackEndpoints serves every region on one address: NA at the root,
// EU under /eu and FE under /fe, so that with no configuration at all every
// region works on loopback.
func LoopbackEndpoints(scheme, hostport string) Endpoints {
	host, port, err := net.SplitHostPort(hostport)
	if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		hostport = net.JoinHostPort("127.0.0.1", port)
	}
	base := scheme + "://" + hostport
	e, err := NewEndpoints(map[Region]string{RegionNA: base, RegionEU: base + "/eu", RegionFE: base + "/fe"})
	if err != nil {
		panic(err) // the URLs above are well-formed by construction
	}
	return e
}

// URL is the region's advertised apiEndpoint.
func (e Endpoints) URL(r Region) string { return e.byRegion[r].url }

// Prefixes lists the distinct path prefixes with the regions under each.
func (e Endpoints) Prefixes() map[string][]Region {
	m := map[string][]Region{}
	for _, r := range Regions {
		p := e.byRegion[r].prefix
		m[p] = append(m[p], r)
	}
	return m
}

// feAlias is the FE host as the reference's copy spells it; the FE region
// accepts it too.
const feAlias = "api.fe.amazon.com"

// Hosts lists the host names the endpoints answer to, the FE alias
// included where the FE endpoint is the live one's: what a certificate for
// them must name.
func (e Endpoints) Hosts() []string {
	var hosts []string
	for _, r := range Regions {
		hosts = append(hosts, e.byRegion[r].host)
		if r == RegionFE && e.byRegion[r].host == "api.fe.amazonalexa.com" {
			hosts = append(hosts, feAlias)
		}
	}
	return hosts
}

// RegionOf tells which of the regions sharing a prefix a request is for,
// by its Host. A prefix used by one region needs no Host: proxies and
// load balancers are free to rewrite it.
func (e Endpoints) RegionOf(regions []Region, requestHost string) (Region, bool) {
	if len(regions) == 1 {
		return regions[0], true
	}
	host := strings.ToLower(requestHost)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1] // an IPv6 address without a port
	}
	host = strings.TrimSuffix(host, ".")
	for _, r := range regions {
		ep := e.byRegion[r]
		if ep.host == host || (r == RegionFE && host == feAlias && ep.host == "api.fe.amazonalexa.com") {
			return r, true
		}
	}
	return "", false
}
