package api

import "github.com/profileapi/profileapi/internal/web"

// routes lists every route of the public listener. The settings path is
// registered once per distinct endpoint prefix ("" for NA, "/eu", "/fe" on
// loopback); the handler tells the region apart. The pattern names no
// method, so the handler can answer an unknown setting with 404 INVALID_KEY
// before a wrong method with 405.
func (s *server) routes(mux *web.Mux) {
	for prefix, regions := range s.Endpoints.Prefixes() {
		mux.Handle(prefix+"/v2/accounts/~current/settings/{field}", s.handleSetting(regions))
	}
}
