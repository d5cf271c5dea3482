package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// ProjectsList is GET /projects.
func (h *Handler) ProjectsList(c echo.Context) error {
	return h.renderProjects(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderProjects(c echo.Context, status int, form views.Form) error {
	u := CurrentUser(c)
	ctx := c.Request().Context()
	ps, err := models.ProjectsOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	teams, err := models.TeamsOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	var writable []string
	for _, t := range teams {
		if models.CanWrite(u, t.Role) {
			writable = append(writable, t.Name)
		}
	}
	return h.Render(c, status, views.ProjectsPage(views.ProjectsProps{Projects: ps, Teams: writable, Form: form}))
}

// ProjectCreate is POST /projects: the New project form (team members).
func (h *Handler) ProjectCreate(c echo.Context) error {
	u := CurrentUser(c)
	ctx := c.Request().Context()
	teamName := strings.TrimSpace(c.FormValue("team"))
	name := strings.TrimSpace(c.FormValue("name"))
	form := views.Form{Values: map[string]string{"team": teamName, "name": name}, Errors: map[string]string{}}
	t, role, err := models.TeamByNameWithRole(ctx, h.db, teamName, u.ID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && !models.CanView(u, role)) {
		form.Errors["team"] = "no team named " + teamName + " that you are a member of"
		return h.renderProjects(c, http.StatusNotFound, form)
	}
	if err != nil {
		return err
	}
	if !models.CanWrite(u, role) {
		return Forbidden()
	}
	p, err := models.CreateProject(ctx, h.db, t, name, u)
	if errs, status, ok := fieldErrors(err); ok {
		form.Errors = errs
		return h.renderProjects(c, status, form)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Project "+t.Name+"/"+p.Name+" created.")
	return redirect(c, views.ProjectURL(t.Name, p.Name))
}

// ProjectShell is the frame of a project page for the route's project;
// collection is the collection shown, if any, and trail continues the
// breadcrumbs.
func (h *Handler) ProjectShell(c echo.Context, collection string, trail ...views.Link) (views.ProjectShellProps, error) {
	t, p := currentTeam(c), currentProject(c)
	cs, err := models.CollectionsOfProject(c.Request().Context(), h.db, p.ID)
	if err != nil {
		return views.ProjectShellProps{}, err
	}
	return views.ProjectShellProps{Team: t.Name, Project: p.Name, Collections: cs, Collection: collection, Trail: trail}, nil
}

// ProjectPage is GET /projects/:team/:project: the project's artifacts.
func (h *Handler) ProjectPage(c echo.Context) error {
	shell, err := h.ProjectShell(c, "")
	if err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.ProjectPage(shell))
}

// ProjectEvents is GET /projects/:team/:project/events.
func (h *Handler) ProjectEvents(c echo.Context) error {
	shell, err := h.ProjectShell(c, "", views.Link{Label: "Events"})
	if err != nil {
		return err
	}
	nav := listNav(c, views.ProjectURL(shell.Team, shell.Project)+"/events")
	evs, more, err := models.EventsPage(c.Request().Context(), h.db, models.ScopeKindProject, currentProject(c).ID, nav.Query, pageOf(nav))
	if err != nil {
		return err
	}
	nav.More = more
	rows := eventRows(evs, func(ev models.Event) string {
		return views.ProjectCollectionURL(shell.Team, shell.Project, ev.Vars.ArtifactCollectionName)
	})
	return h.Render(c, http.StatusOK, views.ProjectEventsPage(shell, views.EventsProps{Nav: nav, Events: rows}))
}

// eventRows prepares events for an events list; collectionURL gives the
// page of an event's collection.
func eventRows(evs []models.Event, collectionURL func(models.Event) string) []views.EventRow {
	rows := make([]views.EventRow, len(evs))
	for i, ev := range evs {
		rows[i] = views.EventRow{
			ID: ev.ID, Type: ev.Type, VersionString: ev.Vars.ArtifactVersionString,
			VersionURL: views.VersionURL(collectionURL(ev), "v"+strconv.Itoa(ev.Vars.ArtifactVersionIndex)),
			Author:     ev.Vars.EventAuthor, Time: ev.CreatedAt, Alias: ev.Vars.Alias,
		}
	}
	return rows
}
