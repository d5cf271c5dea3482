package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
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
	waiting, err := models.AwaitingApprovalFor(c.Request().Context(), h.db, u, waitingLimit)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.TeamsPage(views.TeamsProps{Teams: teams, CanCreate: u.SiteAdmin, Form: form, Waiting: waiting}))
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

// renderTeamSettings re-renders the page with the Add member form's state.
func (h *Handler) renderTeamSettings(c echo.Context, status int, form views.Form) error {
	return h.renderSettings(c, status, form, views.SettingsPanel{}, views.NewForm())
}

// renderSettings renders Team Settings with one secrets/webhooks panel open
// and the add-member and new-queue forms as submitted. Secrets and
// webhooks are only loaded for admins, who alone see them.
func (h *Handler) renderSettings(c echo.Context, status int, form views.Form, panel views.SettingsPanel, queueForm views.Form) error {
	p, err := h.settingsProps(c, form, panel, queueForm)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.TeamSettingsPage(p))
}

// settingsProps loads what Team Settings shows; sections with their own
// state (service accounts) adjust it before rendering.
func (h *Handler) settingsProps(c echo.Context, form views.Form, panel views.SettingsPanel, queueForm views.Form) (views.TeamSettingsProps, error) {
	ctx := c.Request().Context()
	t, role := currentTeam(c), currentRole(c)
	members, err := models.TeamMembers(ctx, h.db, t.ID)
	if err != nil {
		return views.TeamSettingsProps{}, err
	}
	queues, err := models.QueuesOf(ctx, h.db, t.ID)
	if err != nil {
		return views.TeamSettingsProps{}, err
	}
	canAdmin := models.CanAdmin(CurrentUser(c), role)
	p := views.TeamSettingsProps{
		Team: t, Role: role, CanAdmin: canAdmin, Members: members, Form: form, Panel: panel,
		Launch:          views.LaunchQueuesProps{Team: t.Name, CanAdmin: canAdmin, Queues: queues, Form: queueForm},
		ServiceAccounts: views.ServiceAccountsProps{Team: t.Name, Form: views.NewForm()},
	}
	if p.CanAdmin {
		if p.Secrets, err = models.SecretsOf(ctx, h.db, t.ID); err != nil {
			return views.TeamSettingsProps{}, err
		}
		if p.Webhooks, err = models.WebhooksOf(ctx, h.db, t.ID); err != nil {
			return views.TeamSettingsProps{}, err
		}
		if p.Slack, err = h.slackProps(ctx, t); err != nil {
			return views.TeamSettingsProps{}, err
		}
		if p.ServiceAccounts.Accounts, err = people.ServiceAccountsOf(ctx, h.db, t.ID); err != nil {
			return views.TeamSettingsProps{}, err
		}
		if p.Disabled, err = models.DisabledIntegrationsOf(ctx, h.db, t.ID); err != nil {
			return views.TeamSettingsProps{}, err
		}
	}
	return p, nil
}
