package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/profileapi/profileapi"
	"github.com/profileapi/profileapi/internal/web"
)

// healthz says the process is up.
func healthz(w http.ResponseWriter, r *http.Request) {
	web.Encode(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says the store answers, so a load balancer can take a node out
// while its database is away.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		if profileapi.ErrorKind(err) != profileapi.EUNAVAILABLE {
			err = profileapi.Unavailable(err, time.Second)
		}
		return err
	}
	web.Encode(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
