package web

import (
	"github.com/automations-dev/automations/models"
)

// routes is the one route table: every method, path and protection.
func (s *Server) routes() {
	e, h := s.echo, s.h
	admin, member, viewer := models.RoleAdmin, models.RoleMember, models.RoleViewer

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
	ui.POST("/teams/:team/queues", h.QueueCreate, s.teamAccess(admin))
	ui.GET("/teams/:team/queues/:queue", h.QueuePage, s.teamAccess(viewer))
	ui.POST("/teams/:team/queues/:queue/delete", h.QueueDelete, s.teamAccess(admin))

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
}
