package api

import (
	"net/http"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

// routes lists every route of the public listener. The settings path is
// registered once per distinct endpoint prefix ("" for NA, "/eu", "/fe" on
// loopback); the handler tells the region apart. The pattern names no
// method, so the handler can answer an unknown setting with 404 INVALID_KEY
// before a wrong method with 405.
//
// Every path a skill sends is also a key of s.direct, which ServeHTTP looks
// up before the mux: the same handler, without the mux's pattern matching
// on each call (see ServeHTTP).
func (s *server) routes(mux *web.Mux) {
	s.direct = map[string]directRoute{}
	for prefix, regions := range s.Endpoints.Prefixes() {
		mux.Handle(prefix+"/v2/accounts/~current/settings/{field}", s.handleSetting(regions))
		pattern := prefix + settingsPath + "{field}" // as registered just above
		for _, f := range profileapi.Fields {
			s.direct[prefix+settingsPath+f.String()] = directRoute{pattern: pattern, handler: s.handleField(regions, f.String())}
		}
	}
}

const settingsPath = "/v2/accounts/~current/settings/"

// directRoute is what the mux would find for one clean path of a setting.
type directRoute struct {
	pattern string
	handler web.HandlerFunc
}

// ServeHTTP answers a request for a setting's exact path directly and
// leaves every other path to the mux, which cleans, redirects and answers
// 404 as before. A path in s.direct is already clean and names a setting,
// so the mux would route it to the same handler with the same {field};
// unless it was sent escaped (RawPath set), such as with %2F for a slash,
// which the mux keeps inside a segment.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d, ok := s.direct[r.URL.Path]; ok && r.URL.RawPath == "" && r.Method != http.MethodConnect {
		r.Pattern = d.pattern
		d.handler.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// closeIfBody closes an HTTP/1 connection after the answer to a request
// that announces a body, which no route of this API reads. net/http reads
// an unread body before it writes the answer: one announced and never sent
// would hold the answer until the connection's read timeout. Closing the
// connection skips that.
func closeIfBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 && r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}
