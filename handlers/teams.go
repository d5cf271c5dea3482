package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// TeamsList is GET /teams.
func (h *Handler) TeamsList(c echo.Context) error {
	return h.renderTeams(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderTeams(c echo.Context, status int, form views.Form) error {
	u := CurrentUser(c)
	teams, err := models.TeamsOf(c.Request().Context(), h.db, u)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.TeamsPage(views.TeamsProps{Teams: teams, CanCreate: u.SiteAdmin, Form: form}))
}

// TeamCreate is POST /teams (site admins).
func (h *Handler) TeamCreate(c echo.Context) error {
	u := CurrentUser(c)
	if !u.SiteAdmin {
		return Forbidden()
	}
	name := strings.TrimSpace(c.FormValue("name"))
	t, err := models.CreateTeam(c.Request().Context(), h.db, name, u)
	if errs, status, ok := fieldErrors(err); ok {
		return h.renderTeams(c, status, views.Form{Values: map[string]string{"name": name}, Errors: errs})
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Team "+t.Name+" created.")
	return redirect(c, "/teams/"+t.Name)
}

// TeamSettings is GET /teams/:team: the Team Settings page.
func (h *Handler) TeamSettings(c echo.Context) error {
	return h.renderTeamSettings(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderTeamSettings(c echo.Context, status int, form views.Form) error {
	return h.renderTeamSettingsForms(c, status, form, views.NewForm())
}

// renderTeamSettingsForms renders Team Settings with the add-member form
// and the new-queue form as submitted.
func (h *Handler) renderTeamSettingsForms(c echo.Context, status int, form, queueForm views.Form) error {
	t, role := currentTeam(c), currentRole(c)
	canAdmin := models.CanAdmin(CurrentUser(c), role)
	members, err := models.TeamMembers(c.Request().Context(), h.db, t.ID)
	if err != nil {
		return err
	}
	queues, err := models.QueuesOf(c.Request().Context(), h.db, t.ID)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.TeamSettingsPage(views.TeamSettingsProps{
		Team: t, Role: role, CanAdmin: canAdmin, Members: members, Form: form,
		Launch: views.LaunchQueuesProps{Team: t.Name, CanAdmin: canAdmin, Queues: queues, Form: queueForm},
	}))
}
