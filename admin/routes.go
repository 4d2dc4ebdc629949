package admin

import (
	"net/http"

	"github.com/profileapi/profileapi/internal/web"
)

// routes lists every route of the admin listener.
func (s *server) routes(mux *web.Mux) {
	key := s.requireKey
	mux.Handle("POST /admin/v1/skills", key(web.HandlerFunc(s.createSkill)))
	mux.Handle("GET /admin/v1/skills", key(web.HandlerFunc(s.listSkills)))
	mux.Handle("GET /admin/v1/skills/{id}", key(web.HandlerFunc(s.getSkill)))
	mux.Handle("DELETE /admin/v1/skills/{id}", key(web.HandlerFunc(s.deleteSkill)))

	mux.Handle("POST /admin/v1/customers", key(web.HandlerFunc(s.createCustomer)))
	mux.Handle("GET /admin/v1/customers/{id}", key(web.HandlerFunc(s.getCustomer)))
	mux.Handle("PATCH /admin/v1/customers/{id}", key(web.HandlerFunc(s.patchCustomer)))
	mux.Handle("DELETE /admin/v1/customers/{id}", key(web.HandlerFunc(s.deleteCustomer)))
	mux.Handle("POST /admin/v1/import", key(web.HandlerFunc(s.importCustomers)))
	mux.Handle("GET /admin/v1/export", key(web.HandlerFunc(s.exportCustomers)))

	mux.Handle("PUT /admin/v1/customers/{id}/consents/{skillId}", key(web.HandlerFunc(s.putConsent)))
	mux.Handle("GET /admin/v1/customers/{id}/consents/{skillId}", key(web.HandlerFunc(s.getConsent)))
	mux.Handle("DELETE /admin/v1/customers/{id}/consents/{skillId}", key(web.HandlerFunc(s.deleteConsent)))

	mux.Handle("POST /admin/v1/tokens", key(web.HandlerFunc(s.createToken)))
	mux.Handle("POST /admin/v1/tokens/batch", key(web.HandlerFunc(s.createTokens)))
	mux.Handle("POST /admin/v1/requests", key(web.HandlerFunc(s.createRequest)))
	mux.Handle("GET /admin/v1/evaluate", key(web.HandlerFunc(s.evaluate)))

	mux.Handle("GET /openapi.json", http.HandlerFunc(serveOpenAPI))
	mux.Handle("GET /healthz", http.HandlerFunc(healthz))
	mux.Handle("GET /readyz", web.HandlerFunc(s.readyz))
}
