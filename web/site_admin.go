package web

import (
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/handlers"
)

// requireSiteAdmin guards site-wide administration (Admin → Users and
// /api/v1/users): anyone else gets 403 and nothing changes. It runs after
// requireLogin or apiAuth, so a user is always set.
func requireSiteAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := handlers.CurrentUser(c); u == nil || !u.SiteAdmin {
			return handlers.Forbidden()
		}
		return next(c)
	}
}
