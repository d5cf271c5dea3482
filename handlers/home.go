package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// homeEvents is how many recent events the overview shows; the full list
// of each project and registry is one click away.
const homeEvents = 10

// Home is GET /: the overview that answers "is anything broken?" —
// automations with failing, retrying or held deliveries across the user's
// teams and registries — with recent events and shortcuts.
func (h *Handler) Home(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	troubled, err := models.TroubledAutomations(ctx, h.db, u)
	if err != nil {
		return err
	}
	recent, err := models.RecentEvents(ctx, h.db, u, homeEvents)
	if err != nil {
		return err
	}
	projects, err := models.ProjectsOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	regs, err := models.RegistriesOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	teams, err := models.TeamsOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	waiting, err := models.AwaitingApprovalFor(ctx, h.db, u, waitingLimit)
	if err != nil {
		return err
	}
	p := views.HomeProps{Waiting: waiting}
	for _, t := range troubled {
		row := views.TroubleRow{Name: t.Name, URL: views.AutomationURL(t.ID), LastState: t.LastState, Failed: t.Failed, Retrying: t.Retrying, Held: t.Held}
		if t.RegistryName != "" {
			row.Where = views.Link{Label: "Registry " + t.RegistryName, Href: views.RegistryURL(t.RegistryName) + "/history"}
		} else {
			row.Where = views.Link{Label: t.TeamName + "/" + t.ProjectName, Href: views.ProjectURL(t.TeamName, t.ProjectName) + "/history"}
		}
		if t.LastAt != nil {
			row.LastAt = *t.LastAt
		}
		p.Troubled = append(p.Troubled, row)
	}
	for _, ev := range recent {
		p.Events = append(p.Events, views.EventRow{
			ID: ev.ID, Type: ev.Type, VersionString: ev.VersionString, VersionURL: eventVersionURL(ev.HistoryEvent),
			Author: ev.Author, Alias: ev.Alias, Time: ev.CreatedAt,
		})
	}
	for _, pr := range projects {
		p.Projects = append(p.Projects, views.Link{Label: pr.TeamName + "/" + pr.Name, Href: views.ProjectURL(pr.TeamName, pr.Name)})
	}
	for _, r := range regs {
		p.Registries = append(p.Registries, views.Link{Label: r.Name, Href: views.RegistryURL(r.Name)})
	}
	for _, t := range teams {
		if models.CanAdmin(u, t.Role) {
			p.AdminTeams = append(p.AdminTeams, views.Link{Label: t.Name, Href: "/teams/" + t.Name})
		}
	}
	return h.Render(c, http.StatusOK, views.HomePage(p))
}
