package handler

import (
	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// routes registers every route of the server, in the order of the HTTP
// contract's sections (docs/openapi.yaml): login and roles, reporting,
// tasks, staff, statistics, the console, Open311, the platform. Who may
// call a route is said where it is registered: a group's middleware
// (authenticate: a valid bearer token or the console's cookie; requireRole:
// one of the roles) or a route's own. cmd/server's TestAuthorizationMatrix
// holds what every role gets from every route, and handler's
// TestOpenAPIMatchesRoutes that every route is documented: a new route is
// one line here, a row in authzTable and its operation in docs/openapi.yaml
// (CONTRIBUTING.md).
//
// Staff routes name the staff roles that may use them (least privilege,
// docs/privacy.md): admin — accounts, people, grids, categories, keys,
// settings; dispatcher — tickets and every workflow step, hotline intake;
// leader — figures, lists and maps, read only, masked; auditor — the
// access trail.
func routes(e *echo.Echo, h *handlers) {
	var (
		resident = requireRole(model.RoleResident)
		assignee = requireRole(model.RoleGridWorker, model.RolePartyMember)
		member   = requireRole(model.RolePartyMember)
		staffer  = requireRole(model.RoleStaff)

		admin      = requireRole(model.RoleAdmin)
		dispatcher = requireRole(model.RoleDispatcher)
		handling   = requireRole(model.RoleDispatcher, model.RoleAdmin)                   // identities, originals
		viewers    = requireRole(model.RoleDispatcher, model.RoleAdmin, model.RoleLeader) // lists, maps, figures
		auditor    = requireRole(model.RoleAuditor)
	)
	api := e.Group("/api/v1")                       // anyone
	user := api.Group("", authenticate(h.Auth))     // any signed-in user
	tasks := user.Group("/tasks", assignee)         // grid workers and party members
	activities := user.Group("/activities", member) // party members
	staff := user.Group("/admin", staffer)          // staff
	stats := user.Group("/stats", staffer, viewers) // staff who read figures

	// Login and roles.
	api.POST("/auth/wechat", h.loginWeChat)
	api.POST("/auth/staff", h.loginStaff)
	user.GET("/me", h.me)
	user.POST("/me/bind", h.bind)
	user.PUT("/me/duty", h.setDuty)
	user.POST("/auth/logout", h.logout) // and clears the console's cookie
	user.PUT("/me/password", h.changePassword, staffer)
	user.GET("/me/data", h.myData, resident)
	user.DELETE("/me", h.deleteMe, resident)

	// Reporting: residents report with photos and follow their reports; a
	// report is also read by its assignee and by staff (the service decides).
	api.GET("/categories", h.listCategories)
	api.GET("/labels", h.labels)
	user.POST("/photos", h.uploadPhoto, resident)
	e.GET("/media/photos/:id/:variant", h.servePhoto) // signed URLs: no token
	user.POST("/reports", h.submitReport, resident)
	user.GET("/reports/mine", h.myReports, resident)
	user.GET("/reports/nearby", h.nearbyReports, resident)
	user.GET("/reports/:id", h.getReport)
	user.POST("/reports/:id/feedback", h.giveFeedback, resident)
	user.PUT("/reports/:id/feedback", h.changeFeedback, resident)
	user.POST("/me/subscriptions", h.recordSubscriptions)

	// Tasks: the assignee's side of a ticket.
	tasks.GET("", h.myTasks)
	tasks.GET("/pool", h.taskPool)
	tasks.POST("/:id/claim", h.claimTask)
	tasks.POST("/:id/accept", h.acceptTask)
	tasks.POST("/:id/return", h.returnTask)
	tasks.POST("/:id/resolve", h.resolveTask)
	tasks.POST("/:id/extension", h.requestExtension)

	// Staff: the catalogue and the grids.
	staff.PUT("/categories/:code", h.putCategory, admin)
	staff.POST("/grids", h.uploadGrids, admin)
	staff.GET("/grids", h.listGrids, viewers)
	staff.GET("/grids/locate", h.locatePoint, viewers)

	// Staff: the address book (地址库) and the map's base layers.
	staff.POST("/addresses", h.importAddresses, admin)
	staff.GET("/addresses", h.searchAddresses, viewers)
	staff.POST("/layers", h.uploadLayer, admin)
	staff.GET("/layers", h.listLayers, viewers)
	staff.DELETE("/layers/:id", h.deleteLayer, admin)

	// Staff: the staff's own accounts (人员 → 工作人员).
	staff.POST("/staff", h.createStaff, admin)
	staff.GET("/staff", h.listStaff, admin)
	staff.PATCH("/staff/:id", h.patchStaff, admin)
	staff.POST("/staff/:id/password", h.resetStaffPassword, admin)

	// Staff: the people directory, one code path for both rosters (the
	// group's withRoster says whose).
	for _, r := range []struct {
		path   string
		roster roster
	}{
		{"/workers", workerRoster{h.People}},
		{"/party-members", memberRoster{h.People}},
	} {
		people := staff.Group(r.path, admin, withRoster(r.roster))
		people.POST("", h.createPerson)
		people.GET("", h.listPeople)
		people.GET("/:id", h.getPerson)
		people.PATCH("/:id", h.patchPerson)
		people.POST("/:id/invite", h.invitePerson)
	}
	staff.POST("/branches", h.createBranch, admin)
	staff.GET("/branches", h.listBranches, admin)
	staff.PATCH("/branches/:id", h.renameBranch, admin)

	// Staff: tickets, and the steps of the workflow staff take.
	staff.GET("/overview", h.overview, viewers)
	staff.GET("/tickets", h.staffTickets, viewers)
	staff.GET("/tickets/export.xlsx", h.exportTickets, viewers)
	staff.POST("/tickets", h.takeCall, dispatcher) // a 12345 hotline case
	staff.GET("/tickets/:id", h.staffTicket, viewers)
	staff.GET("/tickets/:id/candidates", h.ticketCandidates, dispatcher)
	staff.POST("/tickets/:id/dispatch", h.dispatchTicket, dispatcher)
	staff.POST("/tickets/:id/reject", h.rejectTicket, dispatcher)
	staff.POST("/tickets/:id/extension", h.decideExtension, dispatcher)
	staff.POST("/tickets/:id/defer", h.deferTicket, dispatcher)
	staff.POST("/tickets/:id/resume", h.resumeTicket, dispatcher)
	staff.POST("/tickets/:id/urge", h.urgeTicket, dispatcher)
	staff.POST("/tickets/:id/verify", h.verifyTicket, dispatcher)
	staff.POST("/tickets/:id/reveal", h.revealTicket, handling)
	staff.POST("/photos/:id/redact", h.redactPhoto, handling)
	staff.GET("/dead-letters", h.deadLetters, admin)
	staff.GET("/events", h.liveEvents, viewers)

	// Staff: the access trail (auditors only).
	staff.GET("/audit", h.listAudit, auditor)
	staff.GET("/audit/export.xlsx", h.exportAudit, auditor)

	// Staff and party members: activities.
	staff.POST("/activities", h.createActivity, admin)
	staff.GET("/activities", h.listActivities, viewers)
	staff.GET("/activities/:id", h.activityDetail, viewers)
	staff.PATCH("/activities/:id", h.patchActivity, admin)
	staff.POST("/activities/:id/cancel", h.cancelActivity, admin)
	activities.GET("", h.upcomingActivities)
	activities.POST("/:id/checkin", h.checkIn)

	// Statistics (staff).
	stats.GET("/summary", h.statsSummary)
	stats.GET("/ranking", h.statsRanking)
	stats.GET("/party-building", h.statsPartyBuilding)
	stats.GET("/export.xlsx", h.exportStats)

	// The staff console: static files, no token (its API calls carry one).
	e.GET("/admin", h.consoleRedirect)
	e.GET("/admin/", h.consoleFile)
	e.GET("/admin/*", h.consoleFile)

	// Open311 GeoReport v2 (docs/open311.md): public reads, POST with an
	// api_key, each resource in XML and JSON, errors in GeoReport's own body
	// (open311 and open311ID adapt the shape); staff issue the keys.
	o311 := e.Group("/open311/v2")
	for _, f := range []o311Format{fmtXML, fmtJSON} {
		o311.GET("/discovery."+string(f), h.open311(f, h.o311Discovery))
		o311.GET("/services."+string(f), h.open311(f, h.o311Services))
		o311.GET("/requests."+string(f), h.open311(f, h.o311Requests))
		o311.POST("/requests."+string(f), h.open311(f, h.o311Create))
	}
	o311.GET("/services/:service_code", h.open311ID("service_code", h.o311Definition))
	o311.GET("/requests/:service_request_id", h.open311ID("service_request_id", h.o311Request))
	o311.GET("/tokens/:token", h.open311ID("token", h.o311Token))
	o311.Any("/*", h.o311Unknown)
	staff.POST("/open311/keys", h.issueOpen311Key, admin)
	staff.GET("/open311/keys", h.listOpen311Keys, admin)
	staff.DELETE("/open311/keys/:id", h.revokeOpen311Key, admin)

	// The platform: probes, metrics (on this port only with the operator's
	// token; Metrics serves them on a listener of their own), this
	// document, WeChat's push.
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", h.serveMetrics)
	e.GET("/openapi.json", h.openapi)
	e.GET("/wechat/push", h.wechatVerify)
	e.POST("/wechat/push", h.wechatPush)
}
