package web

import (
	"github.com/automations-dev/automations/models"
)

// routes is the one route table: every method, path and protection.
func (s *Server) routes() {
	e, h := s.echo, s.h
	admin, viewer := models.RoleAdmin, models.RoleViewer

	e.GET("/healthz", h.Healthz)
	e.GET("/login", h.LoginPage)
	e.POST("/login", h.Login)
	e.POST("/logout", h.Logout)

	// Screens: signed in through the session cookie.
	ui := e.Group("", requireLogin)
	ui.GET("/", h.Home)
	ui.GET("/settings", h.UserSettings)
	ui.POST("/settings/api-keys", h.APIKeyCreate)
	ui.POST("/settings/api-keys/:id/revoke", h.APIKeyRevoke)

	ui.GET("/teams", h.TeamsList)
	ui.POST("/teams", h.TeamCreate)
	ui.GET("/teams/:team", h.TeamSettings, s.teamAccess(viewer))
	ui.POST("/teams/:team/members", h.TeamMemberAdd, s.teamAccess(admin))
	ui.POST("/teams/:team/members/:user/role", h.TeamMemberRole, s.teamAccess(admin))
	ui.POST("/teams/:team/members/:user/remove", h.TeamMemberRemove, s.teamAccess(admin))
	ui.POST("/teams/:team/secrets", h.SecretCreate, s.teamAccess(admin))
	ui.POST("/teams/:team/secrets/:name", h.SecretUpdate, s.teamAccess(admin))
	ui.POST("/teams/:team/secrets/:name/delete", h.SecretDelete, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks", h.WebhookCreate, s.teamAccess(admin))
	ui.GET("/teams/:team/webhooks/:name/edit", h.WebhookEdit, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks/:name", h.WebhookUpdate, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks/:name/delete", h.WebhookDelete, s.teamAccess(admin))
	ui.GET("/teams/:team/webhooks/:name/test", h.WebhookTestPanel, s.teamAccess(admin))
	ui.POST("/teams/:team/webhooks/:name/test", h.WebhookTestSend, s.teamAccess(admin))

	ui.GET("/registries", h.RegistriesList)
	ui.POST("/registries", h.RegistryCreate)
	ui.GET("/registries/:registry", h.RegistryMembers, s.registryAccess(viewer))
	ui.GET("/registries/:registry/members", h.RegistryMembers, s.registryAccess(viewer))
	ui.POST("/registries/:registry/members", h.RegistryMemberAdd, s.registryAccess(admin))
	ui.POST("/registries/:registry/members/:user/role", h.RegistryMemberRole, s.registryAccess(admin))
	ui.POST("/registries/:registry/members/:user/remove", h.RegistryMemberRemove, s.registryAccess(admin))

	// JSON API: Bearer API keys.
	api := e.Group("/api/v1", s.apiAuth)
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

	api.GET("/registries", h.APIRegistriesList)
	api.POST("/registries", h.APIRegistryCreate)
	api.GET("/registries/:registry/members", h.APIRegistryMembers, s.registryAccess(viewer))
	api.POST("/registries/:registry/members", h.APIRegistryMemberAdd, s.registryAccess(admin))
	api.PATCH("/registries/:registry/members/:email", h.APIRegistryMemberUpdate, s.registryAccess(admin))
	api.DELETE("/registries/:registry/members/:email", h.APIRegistryMemberRemove, s.registryAccess(admin))
}
