package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/openapi"
)

// routes is the one route table: every method, path and protection.
func (s *Server) routes() {
	e, h := s.echo, s.h
	admin, member, viewer := models.RoleAdmin, models.RoleMember, models.RoleViewer
	getPost := []string{http.MethodGet, http.MethodPost} // wizards: GET shows, POST steps

	e.GET("/healthz", h.Healthz)
	// Prometheus scrapes: Authorization: Bearer $METRICS_TOKEN when set.
	e.GET("/metrics", echo.WrapHandler(s.scrape))
	e.GET("/login", h.LoginPage)
	e.POST("/login", h.Login)
	e.POST("/logout", h.Logout)
	// Single sign-on (404 unless OIDC_* are set); anyone may start one.
	e.GET("/auth/oidc/login", h.OIDCLogin)
	e.GET("/auth/oidc/callback", h.OIDCCallback)
	// Invitation links: the token is the credential, so no sign-in.
	e.GET("/invite/:token", h.InvitePage)
	e.POST("/invite/:token", h.InviteAccept)

	// Screens: signed in through the session cookie.
	ui := e.Group("", requireLogin)
	ui.GET("/", h.Home)
	ui.GET("/settings", h.UserSettings)
	ui.POST("/settings/api-keys", h.APIKeyCreate)
	ui.POST("/settings/api-keys/:id/revoke", h.APIKeyRevoke)
	// Sessions and password: the handlers act on the signed-in user's own only.
	ui.POST("/settings/sessions/:id/revoke", h.SessionRevoke)
	ui.POST("/settings/sessions/revoke-others", h.SessionsRevokeOthers)
	ui.POST("/settings/sessions/revoke-all", h.SessionsRevokeAll)
	ui.POST("/settings/password", h.PasswordChange)

	// Admin → Users: site admins only.
	ui.GET("/admin/users", h.AdminUsers, requireSiteAdmin)
	ui.POST("/admin/users", h.AdminUserCreate, requireSiteAdmin)
	ui.POST("/admin/users/:id/deactivate", h.AdminUserDeactivate, requireSiteAdmin)
	ui.POST("/admin/users/:id/reactivate", h.AdminUserReactivate, requireSiteAdmin)
	ui.POST("/admin/users/:id/make-site-admin", h.AdminUserMakeSiteAdmin, requireSiteAdmin)
	ui.POST("/admin/users/:id/remove-site-admin", h.AdminUserRemoveSiteAdmin, requireSiteAdmin)
	ui.POST("/admin/users/:id/invite", h.AdminUserReinvite, requireSiteAdmin)

	ui.GET("/teams", h.TeamsList)
	ui.POST("/teams", h.TeamCreate)
	ui.GET("/teams/:team", h.TeamSettings, s.teamAccess(viewer))
	ui.POST("/teams/:team/members", h.TeamMemberAdd, s.teamAccess(admin))
	ui.POST("/teams/:team/members/:user/role", h.TeamMemberRole, s.teamAccess(admin))
	ui.POST("/teams/:team/members/:user/remove", h.TeamMemberRemove, s.teamAccess(admin))
	ui.POST("/teams/:team/secrets", h.SecretCreate, s.teamAccess(admin))
	ui.GET("/teams/:team/secrets/new", h.SecretNew, s.teamAccess(admin))
	ui.POST("/teams/:team/secrets/:name", h.SecretUpdate, s.teamAccess(admin))
	ui.POST("/teams/:team/secrets/:name/delete", h.SecretDelete, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks", h.WebhookCreate, s.teamAccess(admin))
	ui.GET("/teams/:team/webhooks/:name/edit", h.WebhookEdit, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks/:name", h.WebhookUpdate, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks/:name/delete", h.WebhookDelete, s.teamAccess(admin))
	ui.GET("/teams/:team/webhooks/:name/test", h.WebhookTestPanel, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks/:name/test", h.WebhookTestSend, s.teamAccess(admin))
	// A webhook's page: endpoint health and recovery (DESIGN.md §15).
	ui.GET("/teams/:team/webhooks/:name", h.WebhookPage, s.teamAccess(admin))
	ui.GET("/teams/:team/webhooks/:name/chart", h.WebhookChart, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks/:name/rotate-secret", h.WebhookRotateSecret, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks/:name/retry-failed", h.WebhookRetryFailed, s.teamAccess(admin))
	// The New and Edit forms' Test: unsaved values, nothing stored.
	ui.POST("/teams/:team/webhook-test", h.WebhookTestUnsaved, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks/:name/enable", h.WebhookEnable, s.teamAccess(admin))
	// Connect Slack: the callback has no :team; the handler checks admin on
	// the team its OAuth state was issued for.
	ui.GET("/teams/:team/slack/connect", h.SlackConnect, s.teamAccess(admin))
	ui.GET("/slack/callback", h.SlackCallback)
	ui.GET("/teams/:team/slack/channels", h.SlackChannels, s.teamAccess(admin))
	ui.POST("/teams/:team/slack/integrations", h.SlackIntegrationCreate, s.teamAccess(admin))
	ui.POST("/teams/:team/slack/integrations/:id/delete", h.SlackIntegrationDelete, s.teamAccess(admin))
	ui.POST("/teams/:team/service-accounts", h.ServiceAccountCreate, s.teamAccess(admin))
	ui.POST("/teams/:team/service-accounts/:name/delete", h.ServiceAccountDelete, s.teamAccess(admin))
	ui.GET("/teams/:team/audit-log", h.TeamAuditLog, s.teamAccess(admin))
	ui.GET("/admin/audit-log", h.AdminAuditLog) // the handler checks site admin
	ui.POST("/teams/:team/slack/integrations/:id/enable", h.SlackIntegrationEnable, s.teamAccess(admin))

	ui.GET("/projects", h.ProjectsList)
	ui.POST("/projects", h.ProjectCreate) // the handler checks the chosen team's role
	ui.GET("/projects/:team/:project", h.ProjectPage, s.projectAccess(viewer))
	ui.GET("/projects/:team/:project/automations", h.ProjectAutomations, s.projectAccess(viewer))
	ui.Match(getPost, "/projects/:team/:project/automations/new", h.ProjectAutomationNew, s.projectAccess(admin))
	ui.GET("/projects/:team/:project/events", h.ProjectEvents, s.projectAccess(viewer))
	ui.GET("/projects/:team/:project/runs", h.RunsList, s.projectAccess(viewer))
	ui.GET("/projects/:team/:project/runs/:id", h.RunPage, s.projectAccess(viewer))
	ui.GET("/projects/:team/:project/history", h.ProjectHistory, s.projectAccess(viewer))
	ui.GET("/projects/:team/:project/artifacts/:collection", h.CollectionPage, s.projectAccess(viewer))
	ui.GET("/projects/:team/:project/artifacts/:collection/:version", h.VersionPage, s.projectAccess(viewer))
	ui.POST("/projects/:team/:project/artifacts/:collection/:version/aliases", h.VersionAliasAdd, s.projectAccess(member))
	ui.POST("/projects/:team/:project/artifacts/:collection/:version/aliases/:alias/remove", h.VersionAliasRemove, s.projectAccess(member))
	// Linking reads the version; the handler checks member on the chosen registry.
	ui.POST("/projects/:team/:project/artifacts/:collection/:version/links", h.VersionLink, s.projectAccess(viewer))
	ui.POST("/teams/:team/queues", h.QueueCreate, s.teamAccess(admin))
	ui.GET("/teams/:team/queues/:queue", h.QueuePage, s.teamAccess(viewer))
	ui.POST("/teams/:team/queues/:queue/delete", h.QueueDelete, s.teamAccess(admin))

	ui.GET("/registries", h.RegistriesList)
	ui.POST("/registries", h.RegistryCreate)
	ui.GET("/registries/:registry", h.RegistryPage, s.registryAccess(viewer))
	ui.GET("/registries/:registry/automations", h.RegistryAutomations, s.registryAccess(viewer))
	ui.Match(getPost, "/registries/:registry/automations/new", h.RegistryAutomationNew, s.registryAccess(admin))
	ui.Match(getPost, "/registries/:registry/collections/:collection/automations/new", h.RegistryCollectionAutomationNew, s.registryAccess(admin))
	ui.GET("/registries/:registry/events", h.RegistryEvents, s.registryAccess(viewer))
	ui.GET("/registries/:registry/history", h.RegistryHistory, s.registryAccess(viewer))
	ui.GET("/registries/:registry/collections/:collection", h.RegistryCollectionPage, s.registryAccess(viewer))
	ui.GET("/registries/:registry/collections/:collection/:version", h.RegistryVersionPage, s.registryAccess(viewer))
	ui.POST("/registries/:registry/collections/:collection/:version/aliases", h.RegistryVersionAliasAdd, s.registryAccess(member))
	ui.POST("/registries/:registry/collections/:collection/:version/aliases/:alias/remove", h.RegistryVersionAliasRemove, s.registryAccess(member))
	// Automations: the handlers resolve the scope and check §9 roles.
	ui.GET("/automations/:id", h.AutomationDetails)
	ui.Match(getPost, "/automations/:id/edit", h.AutomationEdit)
	ui.POST("/automations/:id/toggle", h.AutomationToggle)
	ui.POST("/automations/:id/delete", h.AutomationDelete)
	ui.GET("/automations/:id/deliveries", h.AutomationDeliveries)
	ui.GET("/automations/:id/chart", h.AutomationChart)
	ui.POST("/automations/:id/retry-failed", h.AutomationRetryFailed)
	ui.POST("/deliveries/:id/redeliver", h.DeliveryRedeliver)
	ui.POST("/deliveries/:id/retry-now", h.DeliveryRetryNow)
	ui.GET("/deliveries/:id/row", h.DeliveryRow)
	// Before and after an automation fires (§16): the handlers resolve the
	// scope from the form or the delivery and check its admin role.
	ui.POST("/automations/preview", h.AutomationPreview)
	ui.POST("/automations/preview/send", h.AutomationPreviewSend)
	ui.POST("/automations/dry-run", h.AutomationDryRun)
	ui.POST("/deliveries/:id/approve", h.DeliveryApprove)
	ui.POST("/deliveries/:id/reject", h.DeliveryReject)
	ui.GET("/events/:id", h.EventLineage)

	ui.GET("/registries/:registry/members", h.RegistryMembers, s.registryAccess(viewer))
	ui.POST("/registries/:registry/members", h.RegistryMemberAdd, s.registryAccess(admin))
	ui.POST("/registries/:registry/members/:user/role", h.RegistryMemberRole, s.registryAccess(admin))
	ui.POST("/registries/:registry/members/:user/remove", h.RegistryMemberRemove, s.registryAccess(admin))

	// JSON API: Bearer API keys. Its description is public.
	e.GET("/api/v1/openapi.json", openapi.Serve)
	api := e.Group("/api/v1", s.apiAuth)
	api.GET("/users", h.APIUsersList, requireSiteAdmin)
	api.POST("/users", h.APIUserCreate, requireSiteAdmin)
	api.PATCH("/users/:email", h.APIUserUpdate, requireSiteAdmin)
	api.DELETE("/users/:email", h.APIUserDeactivate, requireSiteAdmin)
	api.GET("/teams", h.APITeamsList)
	api.POST("/teams", h.APITeamCreate)
	api.GET("/teams/:team/members", h.APITeamMembers, s.teamAccess(viewer))
	api.POST("/teams/:team/members", h.APITeamMemberAdd, s.teamAccess(admin))
	api.PATCH("/teams/:team/members/:email", h.APITeamMemberUpdate, s.teamAccess(admin))
	api.DELETE("/teams/:team/members/:email", h.APITeamMemberRemove, s.teamAccess(admin))
	api.GET("/teams/:team/secrets", h.APISecretsList, s.teamAccess(admin))
	api.POST("/teams/:team/secrets", h.APISecretCreate, s.teamAccess(admin))
	api.PATCH("/teams/:team/secrets/:name", h.APISecretUpdate, s.teamAccess(admin))
	api.DELETE("/teams/:team/secrets/:name", h.APISecretDelete, s.teamAccess(admin))
	api.GET("/teams/:team/webhooks", h.APIWebhooksList, s.teamAccess(admin))
	api.POST("/teams/:team/webhooks", h.APIWebhookCreate, s.teamAccess(admin))
	api.GET("/teams/:team/webhooks/:name", h.APIWebhookGet, s.teamAccess(admin))
	api.PATCH("/teams/:team/webhooks/:name", h.APIWebhookUpdate, s.teamAccess(admin))
	api.DELETE("/teams/:team/webhooks/:name", h.APIWebhookDelete, s.teamAccess(admin))
	api.POST("/teams/:team/webhooks/:name/test", h.APIWebhookTest, s.teamAccess(admin))
	api.POST("/teams/:team/webhooks/:name/rotate-secret", h.APIWebhookRotateSecret, s.teamAccess(admin))
	api.POST("/teams/:team/webhooks/:name/retry-failed", h.APIWebhookRetryFailed, s.teamAccess(admin))
	api.GET("/teams/:team/service-accounts", h.APIServiceAccountsList, s.teamAccess(admin))
	api.POST("/teams/:team/service-accounts", h.APIServiceAccountCreate, s.teamAccess(admin))
	api.DELETE("/teams/:team/service-accounts/:name", h.APIServiceAccountDelete, s.teamAccess(admin))
	api.GET("/teams/:team/audit-log", h.APITeamAuditLog, s.teamAccess(admin))
	api.POST("/teams/:team/webhooks/:name/enable", h.APIWebhookEnable, s.teamAccess(admin))
	api.POST("/teams/:team/slack/integrations/:id/enable", h.APISlackIntegrationEnable, s.teamAccess(admin))

	api.GET("/teams/:team/projects", h.APIProjectsList, s.teamAccess(viewer))
	api.POST("/teams/:team/projects", h.APIProjectCreate, s.teamAccess(member))

	api.GET("/projects/:team/:project/artifacts", h.APICollectionsList, s.projectAccess(viewer))
	api.POST("/projects/:team/:project/artifacts", h.APIArtifactLog, s.projectAccess(member))
	api.GET("/projects/:team/:project/artifacts/:collection/versions", h.APIVersionsList, s.projectAccess(viewer))
	api.GET("/projects/:team/:project/events", h.APIProjectEvents, s.projectAccess(viewer))
	// Runs (§14): members and the team's service accounts log them, viewers read.
	api.POST("/projects/:team/:project/runs", h.APIRunCreate, s.projectAccess(member))
	api.GET("/projects/:team/:project/runs", h.APIRunsList, s.projectAccess(viewer))
	api.GET("/runs/:id", h.APIRunGet, s.runAccess(viewer))
	api.PATCH("/runs/:id", h.APIRunUpdate, s.runAccess(member))
	// A launch job logs its own run with the run's token instead of a key.
	e.POST("/api/v1/runs/:id/history", h.APIRunHistory, s.runTokenOrAPIKey, s.runAccess(member))
	e.POST("/api/v1/runs/:id/heartbeat", h.APIRunHeartbeat, s.runTokenOrAPIKey, s.runAccess(member))

	// Artifact versions by id, project and registry versions alike: the
	// version's project team or registry decides the role.
	api.GET("/artifacts/:id", h.APIArtifactGet, s.artifactAccess(viewer))
	api.POST("/artifacts/:id/aliases", h.APIAliasAdd, s.artifactAccess(member))
	api.DELETE("/artifacts/:id/aliases/:alias", h.APIAliasRemove, s.artifactAccess(member))
	// Linking reads the source; the handler checks member on the registry.
	api.POST("/artifacts/:id/links", h.APIArtifactLink, s.artifactAccess(viewer))

	api.POST("/automations", h.APIAutomationCreate)
	api.GET("/automations", h.APIAutomationsList)
	api.GET("/automations/:id", h.APIAutomationGet)
	api.PATCH("/automations/:id", h.APIAutomationUpdate)
	api.DELETE("/automations/:id", h.APIAutomationDelete)
	api.GET("/automations/:id/deliveries", h.APIAutomationDeliveries)
	api.POST("/deliveries/:id/redeliver", h.APIRedeliver)
	api.POST("/automations/:id/retry-failed", h.APIAutomationRetryFailed)
	api.POST("/automations/preview", h.APIAutomationPreview)
	api.POST("/automations/dry-run", h.APIAutomationDryRun)
	api.GET("/deliveries/awaiting-approval", h.APIAwaitingApproval)
	api.POST("/deliveries/:id/approve", h.APIDeliveryApprove)
	api.POST("/deliveries/:id/reject", h.APIDeliveryReject)

	// Launch: queues (admins manage), agents claim and report (members).
	api.GET("/teams/:team/queues", h.APIQueuesList, s.teamAccess(viewer))
	api.POST("/teams/:team/queues", h.APIQueueCreate, s.teamAccess(admin))
	api.DELETE("/teams/:team/queues/:queue", h.APIQueueDelete, s.teamAccess(admin))
	api.GET("/teams/:team/queues/:queue/items", h.APIQueueItems, s.teamAccess(viewer))
	api.POST("/teams/:team/queues/:queue/claim", h.APIQueueClaim, s.teamAccess(member))
	// The item's team is checked in the handler (member+; others 404).
	api.POST("/run-queue-items/:id/status", h.APIRunItemStatus)

	api.GET("/registries", h.APIRegistriesList)
	api.POST("/registries", h.APIRegistryCreate)
	api.GET("/registries/:registry/members", h.APIRegistryMembers, s.registryAccess(viewer))
	api.POST("/registries/:registry/members", h.APIRegistryMemberAdd, s.registryAccess(admin))
	api.PATCH("/registries/:registry/members/:email", h.APIRegistryMemberUpdate, s.registryAccess(admin))
	api.DELETE("/registries/:registry/members/:email", h.APIRegistryMemberRemove, s.registryAccess(admin))
	api.GET("/registries/:registry/collections", h.APIRegistryCollections, s.registryAccess(viewer))
	api.GET("/registries/:registry/collections/:collection/versions", h.APIRegistryVersions, s.registryAccess(viewer))
	api.GET("/registries/:registry/events", h.APIRegistryEvents, s.registryAccess(viewer))
}
