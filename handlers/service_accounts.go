package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/views"
)

// createServiceAccount creates the account and records it (with its key's
// prefix, never the key) in the team's audit log.
func (h *Handler) createServiceAccount(c echo.Context, name string, role models.Role) (*people.ServiceAccount, string, error) {
	t := currentTeam(c)
	var sa *people.ServiceAccount
	var key string
	err := h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		var err error
		if sa, key, err = people.CreateServiceAccount(c.Request().Context(), tx, t, name, role); err != nil {
			return err
		}
		e.Kind, e.Target = auditServiceAccountCreate, sa.Name
		e.After = audit.JSON(map[string]any{"name": sa.Name, "role": sa.Role, "key_prefix": sa.KeyPrefix})
		return nil
	})
	return sa, key, err
}

// deleteServiceAccount deactivates the account named by the :name param.
func (h *Handler) deleteServiceAccount(c echo.Context) (*people.ServiceAccount, error) {
	t := currentTeam(c)
	var sa *people.ServiceAccount
	err := h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		var err error
		if sa, err = people.DeactivateServiceAccount(c.Request().Context(), tx, t, c.Param("name")); err != nil {
			return err
		}
		e.Kind, e.Target = auditServiceAccountDelete, sa.Name
		e.Before = audit.JSON(map[string]any{"name": sa.Name, "role": sa.Role, "key_prefix": sa.KeyPrefix})
		return nil
	})
	return sa, err
}

// ServiceAccountCreate is POST /teams/:team/service-accounts: the New
// service account form. The page comes back (201, not a redirect) with
// the key shown once.
func (h *Handler) ServiceAccountCreate(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	role := c.FormValue("role")
	form := views.Form{Values: map[string]string{"name": name, "role": role}, Errors: map[string]string{}}
	sa, key, err := h.createServiceAccount(c, name, models.Role(role))
	status := http.StatusCreated
	if errs, st, ok := fieldErrors(err); ok {
		form.Errors, status = errs, st
	} else if err != nil {
		return err
	}
	p, err := h.settingsProps(c, views.NewForm(), views.SettingsPanel{}, views.NewForm())
	if err != nil {
		return err
	}
	if sa != nil {
		p.ServiceAccounts.NewName, p.ServiceAccounts.NewKey = sa.Name, key
	} else {
		p.ServiceAccounts.Form = form
	}
	// A freshly minted key must not be cached anywhere on the way back.
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.Render(c, status, views.TeamSettingsPage(p))
}

// ServiceAccountDelete is POST /teams/:team/service-accounts/:name/delete.
func (h *Handler) ServiceAccountDelete(c echo.Context) error {
	sa, err := h.deleteServiceAccount(c)
	if err != nil {
		return err
	}
	h.flash(c, "success", "Service account "+sa.Name+" deleted; its API key no longer works.")
	return redirect(c, settingsURL(currentTeam(c).Name, "service-accounts"))
}
