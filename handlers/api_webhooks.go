package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

type webhookJSON struct {
	ID                int64    `json:"id"`
	Name              string   `json:"name"`
	URL               string   `json:"url"`
	AccessTokenSecret string   `json:"access_token_secret"`
	SigningSecret     string   `json:"signing_secret"`
	Secrets           []string `json:"secrets"`
	// During a signing secret rotation: the old secret and until when it
	// still signs.
	PreviousSigningSecret string     `json:"previous_signing_secret,omitempty"`
	PreviousSigningUntil  string     `json:"previous_signing_until,omitempty"`
	CreatedAt             string     `json:"created_at"`
	UpdatedAt             string     `json:"updated_at"`
	MaxConcurrent         int        `json:"max_concurrent"`
	MaxPerMinute          int        `json:"max_per_minute"`
	Health                healthJSON `json:"health"`
}

// healthJSON is an integration's endpoint health (DESIGN.md §15).
type healthJSON struct {
	Disabled       bool    `json:"disabled"`
	DisabledAt     *string `json:"disabled_at"`
	DisabledReason string  `json:"disabled_reason"`
	FailureStreak  int     `json:"failure_streak"`
	FailingSince   *string `json:"failing_since"`
}

func toHealthJSON(h models.IntegrationHealth) healthJSON {
	at := func(t *time.Time) *string {
		if t == nil {
			return nil
		}
		s := t.UTC().Format(timeFormat)
		return &s
	}
	return healthJSON{Disabled: h.Disabled(), DisabledAt: at(h.DisabledAt), DisabledReason: h.DisabledReason,
		FailureStreak: h.FailureStreak, FailingSince: at(h.FailingSince)}
}

func toWebhookJSON(w *models.Webhook) webhookJSON {
	granted := w.Secrets
	if granted == nil {
		granted = []string{}
	}
	out := webhookJSON{ID: w.ID, Name: w.Name, URL: w.URL, AccessTokenSecret: w.AccessTokenSecret,
		SigningSecret: w.SigningSecret, Secrets: granted,
		CreatedAt: w.CreatedAt.UTC().Format(timeFormat), UpdatedAt: w.UpdatedAt.UTC().Format(timeFormat),
		MaxConcurrent: w.MaxConcurrent, MaxPerMinute: w.MaxPerMinute, Health: toHealthJSON(w.Health)}
	if w.RotationInProgress(time.Now()) {
		out.PreviousSigningSecret, out.PreviousSigningUntil = w.PreviousSigningSecret, w.PreviousSigningUntil.UTC().Format(timeFormat)
	}
	return out
}

// webhookBody is the JSON of POST and PATCH; in a PATCH, absent fields keep
// their values.
type webhookBody struct {
	Name              *string   `json:"name"`
	URL               *string   `json:"url"`
	AccessTokenSecret *string   `json:"access_token_secret"`
	SigningSecret     *string   `json:"signing_secret"`
	Secrets           *[]string `json:"secrets"`
	MaxConcurrent     *int      `json:"max_concurrent"`
	MaxPerMinute      *int      `json:"max_per_minute"`
}

func (b webhookBody) over(spec models.WebhookSpec) models.WebhookSpec {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&spec.Name, b.Name)
	set(&spec.URL, b.URL)
	set(&spec.AccessTokenSecret, b.AccessTokenSecret)
	set(&spec.SigningSecret, b.SigningSecret)
	if b.Secrets != nil {
		spec.Secrets = *b.Secrets
	}
	if b.MaxConcurrent != nil {
		spec.MaxConcurrent = *b.MaxConcurrent
	}
	if b.MaxPerMinute != nil {
		spec.MaxPerMinute = *b.MaxPerMinute
	}
	return spec
}

// APIWebhooksList is GET /api/v1/teams/:team/webhooks.
func (h *Handler) APIWebhooksList(c echo.Context) error {
	hooks, err := models.WebhooksOf(c.Request().Context(), h.db, currentTeam(c).ID)
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(hooks))
	for i := range hooks {
		out[i] = toWebhookJSON(&hooks[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"webhooks": out})
}

// APIWebhookCreate is POST /api/v1/teams/:team/webhooks
// {name, url, access_token_secret, signing_secret, secrets}.
func (h *Handler) APIWebhookCreate(c echo.Context) error {
	var body webhookBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	spec := body.over(models.WebhookSpec{CheckURL: h.checkWebhookURL})
	w, err := h.createWebhook(c, currentTeam(c), spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toWebhookJSON(w))
}

// APIWebhookGet is GET /api/v1/teams/:team/webhooks/:name.
func (h *Handler) APIWebhookGet(c echo.Context) error {
	w, err := models.WebhookByName(c.Request().Context(), h.db, currentTeam(c).ID, c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookJSON(w))
}

// APIWebhookUpdate is PATCH /api/v1/teams/:team/webhooks/:name.
func (h *Handler) APIWebhookUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := models.WebhookByName(ctx, h.db, currentTeam(c).ID, c.Param("name"))
	if err != nil {
		return err
	}
	var body webhookBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	spec := body.over(models.WebhookSpec{
		Name: w.Name, URL: w.URL, AccessTokenSecret: w.AccessTokenSecret, SigningSecret: w.SigningSecret,
		Secrets: w.Secrets, MaxConcurrent: w.MaxConcurrent, MaxPerMinute: w.MaxPerMinute, CheckURL: h.checkWebhookURL,
	})
	updated, err := h.updateWebhook(c, currentTeam(c), w, spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookJSON(updated))
}

// APIWebhookDelete is DELETE /api/v1/teams/:team/webhooks/:name; 409 naming
// the automations while any use it.
func (h *Handler) APIWebhookDelete(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := models.WebhookByName(ctx, h.db, currentTeam(c).ID, c.Param("name"))
	if err != nil {
		return err
	}
	if err := h.deleteWebhook(c, currentTeam(c), w); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
