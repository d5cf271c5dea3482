package handlers

import (
	"context"
	"strings"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// launchChoices fills the launch action's selects (seed 001): the job
// collections in team's projects, the chosen job's versions and aliases,
// and the projects u may write to. A value the form already holds that is
// not among them (an automation from before, or a job elsewhere) stays
// selectable, so editing never silently changes it; the save checks it.
func (h *Handler) launchChoices(ctx context.Context, u *models.User, team *models.Team, form views.Form, p *views.WizardProps) error {
	jobs, err := models.JobCollectionsOfTeam(ctx, h.db, team.ID)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		path := team.Name + "/" + j.ProjectName + "/" + j.Name
		p.Jobs = append(p.Jobs, views.Option{Value: path, Label: path})
	}
	if form.Values["job"] == "" && len(p.Jobs) > 0 {
		form.Values["job"] = p.Jobs[0].Value
	}
	p.Jobs = keepChoice(p.Jobs, form.Value("job"))

	p.JobVersions = []views.Option{{Value: "latest", Label: "latest (the newest version when the automation fires)"}}
	versions, err := h.jobVersions(ctx, u, form.Value("job"))
	if err != nil {
		return err
	}
	if len(versions) > 0 {
		var aliases, fixed []views.Option
		for _, v := range versions {
			for _, a := range v.Aliases {
				if a != "latest" {
					aliases = append(aliases, views.Option{Value: a, Label: a + " (now " + v.Version() + ")"})
				}
			}
			label := v.Version()
			if len(v.Aliases) > 0 {
				label += " (" + strings.Join(v.Aliases, ", ") + ")"
			}
			fixed = append(fixed, views.Option{Value: v.Version(), Label: label})
		}
		p.JobVersions = append(append(p.JobVersions, aliases...), fixed...)
	}
	p.JobVersions = keepChoice(p.JobVersions, form.Value("job_version"))

	projects, err := models.ProjectsOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	for _, pr := range projects {
		if models.CanWrite(u, pr.Role) {
			path := pr.TeamName + "/" + pr.Name
			p.Destinations = append(p.Destinations, views.Option{Value: path, Label: path})
		}
	}
	if form.Values["destination_project"] == "" && len(p.Destinations) > 0 {
		form.Values["destination_project"] = p.Destinations[0].Value
	}
	p.Destinations = keepChoice(p.Destinations, form.Value("destination_project"))
	return nil
}

// jobVersions lists the versions of job (team/project/collection), newest
// first. A job u cannot see, or that is not a job, has none here: the save
// says what is wrong with it.
func (h *Handler) jobVersions(ctx context.Context, u *models.User, job string) ([]models.ArtifactVersion, error) {
	parts := strings.Split(job, "/")
	if len(parts) != 3 {
		return nil, nil
	}
	project, _, err := h.projectByPath(ctx, u, parts[0]+"/"+parts[1], "action.job")
	if err != nil {
		return nil, nil //nolint:nilerr // not visible: no versions to offer
	}
	col, err := models.CollectionInProject(ctx, h.db, project.ID, parts[2])
	if err != nil || col.Type != "job" {
		return nil, nil //nolint:nilerr // no such job: no versions to offer
	}
	return models.VersionsOf(ctx, h.db, col.ID)
}

// keepChoice adds value to options when it is set and not there yet.
func keepChoice(options []views.Option, value string) []views.Option {
	if value == "" {
		return options
	}
	for _, o := range options {
		if o.Value == value {
			return options
		}
	}
	return append(options, views.Option{Value: value, Label: value})
}
