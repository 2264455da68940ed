package collector

import (
	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/console"
	"github.com/dotm-survey/dotm/webclient"
)

// routes lists the whole API. Every route here must be documented in the
// OpenAPI document (openapi.json) and appear in the route × role test table.
func (s *Server) routes() {
	d := s.deps
	e := s.engine
	// The offline web client's static files at /collect/ (webclient.Prefix):
	// served before routing, so they are not API routes and need no token.
	e.Use(webclient.Middleware())
	// The console for supervisors and survey managers at /console/, the
	// same way.
	e.Use(serveFiles(console.Prefix, console.Handler()))
	e.GET("/", handleRoot())
	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", handleReadyz(d.DB, s.diskFull))

	api := e.Group("/api/v1")
	api.GET("/version", handleVersion(d.Version))
	api.GET("/openapi.json", handleOpenAPI())

	const (
		enu  = dotm.RoleEnumerator
		sup  = dotm.RoleSupervisor
		stat = dotm.RoleStatistician
		adm  = dotm.RoleAdmin
	)
	authed := api.Group("", authenticate(d.Users, s.tokens, s.limiter, s.signIns))
	authed.GET("/me", handleMe())
	admin := authed.Group("", allow(dotm.RoleAdmin))
	admin.GET("/users", handleListUsers(d.Accounts))
	admin.POST("/users", handleAddUser(d.Accounts, d.Surveys, d.Auditor))
	admin.DELETE("/users/:name", handleRevokeUser(d.Accounts, s.tokens, d.Auditor))

	authed.POST("/surveys", allow(adm), handleCreateSurvey(d.Surveys))
	authed.GET("/surveys", handleListSurveys(d.Surveys))
	authed.GET("/surveys/:survey", handleGetSurvey(d.Surveys, d.Forms))
	authed.POST("/surveys/:survey/forms", allow(adm), handleUploadForm(d.Surveys, d.Forms, d.Auditor))
	authed.POST("/surveys/:survey/assignments", allow(adm), handleCreateAssignments(d.Surveys, d.Assignments))
	authed.POST("/surveys/:survey/listings", allow(sup, enu), handlePostListing(d.Surveys, d.Listings, d.Assignments))
	authed.GET("/surveys/:survey/listings", allow(sup, stat, adm), handleGetListings(d.Surveys, d.Listings))
	authed.POST("/surveys/:survey/sample/psus", allow(adm), handleDrawPSUs(d.Surveys, d.Design, d.Auditor))
	authed.GET("/surveys/:survey/sample/psus", allow(sup, stat, adm), handleGetPSUSample(d.Surveys, d.Design))
	authed.POST("/surveys/:survey/sample/households", allow(adm), handleDrawHouseholds(d.Surveys, d.Design, d.Listings, d.Assignments, d.Auditor))
	authed.POST("/surveys/:survey/weights", allow(stat, adm), handleComputeWeights(s))
	authed.GET("/surveys/:survey/weights", allow(stat, adm), handleGetWeights(d.Surveys, d.Weights))
	authed.POST("/surveys/:survey/analyses", allow(stat, adm), handleAnalyses(s))
	authed.GET("/surveys/:survey/progress", allow(sup, stat, adm), handleProgress(d.Surveys, d.Tallies, d.Auditor))

	authed.GET("/forms/:form", allow(enu, sup, stat, adm), handleGetForm(d.Forms, true))
	authed.GET("/forms/:form/versions/:version", allow(enu, sup, stat, adm), handleGetForm(d.Forms, false))

	authed.GET("/assignments", allow(enu, sup, adm), handleListAssignments(d.Assignments, d.Design))

	authed.POST("/submissions", allow(enu), s.needKeys(), limitBody(MaxSubmissionBytes), handlePostSubmission(s.ingest))
	authed.POST("/submissions/batch", allow(enu), s.needKeys(), handlePostBatch(s.ingest))
	authed.GET("/submissions", allow(enu, sup, stat, adm), handleListSubmissions(d.Submissions))
	authed.GET("/submissions/:id", allow(enu, sup, stat, adm), s.needKeys(), handleGetSubmission(d.Submissions, s.Keys, d.Auditor))
	authed.GET("/submissions/:id/attachments", allow(sup, adm), s.needKeys(), s.needAttachments(), handleListAttachments(d.Submissions, s.ingest.forms, s.attach))
	authed.GET("/submissions/:id/attachments/:name", allow(sup, adm), s.needKeys(), s.needAttachments(), handleGetAttachment(d.Submissions, s.ingest.forms, s.attach, d.Auditor))
	authed.POST("/submissions/:id/review", allow(sup), handleReview(d.Submissions, d.Assignments, d.Tallies, &s.tallyBehind, d.Auditor, d.Logger))

	authed.POST("/surveys/:survey/releases", allow(stat, adm), handleCreateRelease(s))
	authed.POST("/releases/:id/publish", allow(adm), handlePublishRelease(d.Releases, d.Auditor))
	authed.GET("/releases", allow(dotm.RoleResearcher, stat, adm), handleListReleases(d.Releases))
	authed.GET("/releases/:id", allow(dotm.RoleResearcher, stat, adm), handleGetRelease(d.Releases))
	authed.GET("/releases/:id/files/:name", allow(dotm.RoleResearcher, stat, adm), handleReleaseFile(d.Releases, d.Auditor))

	authed.GET("/audit", allow(adm), handleAudit(d.AuditLog))

	// ODK Collect, KoboCollect and Enketo: the OpenRosa API (openrosa.go).
	s.openRosaRoutes()
}
