package collector

// routes lists the whole API. Every route here must be documented in the
// OpenAPI document and appear in the route × role test table.
func (s *Server) routes() {
	d := s.deps
	e := s.engine
	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", handleReadyz(d.DB))

	api := e.Group("/api/v1")
	api.GET("/version", handleVersion(d.Version))

	authed := api.Group("", authenticate(d.Users, s.limiter, d.Logger, d.Auditor))
	authed.GET("/me", handleMe())
}
