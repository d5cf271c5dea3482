package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/payload"
	"github.com/automations-dev/automations/models/secretbox"
)

// Webhook is a team's webhook integration: where to POST, and which team
// secrets it uses by name. "" means no access token or no signing secret.
type Webhook struct {
	ID                int64    `gorm:"column:id;primaryKey"`
	TeamID            int64    `gorm:"column:team_id"`
	Name              string   `gorm:"column:name"`
	URL               string   `gorm:"column:url"`
	AccessTokenSecret string   `gorm:"column:access_token_secret"`
	SigningSecret     string   `gorm:"column:signing_secret"`
	Secrets           []string `gorm:"-"` // the other granted secrets, sorted
	// PreviousSigningSecret names the secret signed with before the last
	// rotation; it still signs until PreviousSigningUntil (see RotateSigningSecret).
	PreviousSigningSecret string     `gorm:"column:previous_signing_secret"`
	PreviousSigningUntil  *time.Time `gorm:"column:previous_signing_until"`
	CreatedBy             *int64     `gorm:"column:created_by"`
	CreatedAt             time.Time  `gorm:"column:created_at"`
	UpdatedAt             time.Time  `gorm:"column:updated_at"`
	// MaxConcurrent and MaxPerMinute (0: no per-minute limit) bound the
	// requests to the endpoint across every worker (ClaimDue).
	MaxConcurrent int `gorm:"column:max_concurrent"`
	MaxPerMinute  int `gorm:"column:max_per_minute"`
	// Health is kept by the worker (RecordIntegrationHealth) and Re-enable;
	// saving the webhook never writes it.
	Health IntegrationHealth `gorm:"embedded"`
}

// TableName maps Webhook to its table.
func (Webhook) TableName() string { return "webhooks" }

type webhookSecret struct {
	WebhookID  int64  `gorm:"column:webhook_id;primaryKey"`
	SecretName string `gorm:"column:secret_name;primaryKey"`
}

func (webhookSecret) TableName() string { return "webhook_secrets" }

// PayloadContext says what a payload template sent through this webhook may
// use: ${ACCESS_TOKEN} when it has an access token, and its granted secrets.
// The signing secret and the access token's secret count as granted, by
// their own names (DESIGN.md §6; seed 000: "setting Secret to the secret's
// name" makes $NAME usable in payloads).
func (w *Webhook) PayloadContext(eventType string) payload.Context {
	return payload.Context{
		EventType:      payload.EventType(eventType),
		HasAccessToken: w.AccessTokenSecret != "",
		GrantedSecrets: w.PayloadSecrets(),
	}
}

// PayloadSecrets names every secret a payload may use: the granted ones,
// the signing secret and the access token's secret, sorted, each once.
func (w *Webhook) PayloadSecrets() []string {
	names := slices.Clone(w.Secrets)
	for _, n := range []string{w.SigningSecret, w.AccessTokenSecret} {
		if n != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// WebhookSpec is a webhook as a user describes it.
type WebhookSpec struct {
	Name              string
	URL               string
	AccessTokenSecret string
	SigningSecret     string
	Secrets           []string
	// MaxConcurrent (0: DefaultMaxConcurrent) and MaxPerMinute (0: none).
	MaxConcurrent int
	MaxPerMinute  int
	// CheckURL is the sender's save-time URL rule (jobs/sender ValidateURL,
	// which models cannot import); its error becomes the "url" field's
	// message. Nil only checks that a URL is given.
	CheckURL func(rawURL string) error
}

func (s *WebhookSpec) normalize() {
	s.Name = strings.TrimSpace(s.Name)
	s.URL = strings.TrimSpace(s.URL)
	s.AccessTokenSecret = strings.TrimSpace(s.AccessTokenSecret)
	s.SigningSecret = strings.TrimSpace(s.SigningSecret)
	var granted []string
	for _, n := range s.Secrets {
		if n = strings.TrimSpace(n); n != "" {
			granted = append(granted, n)
		}
	}
	slices.Sort(granted)
	s.Secrets = slices.Compact(granted)
}

// validate checks the fields in form order; referenced secrets are checked
// against the database by lockSecrets.
func (s *WebhookSpec) validate() error {
	s.normalize()
	if err := ValidateName("name", s.Name); err != nil {
		return err
	}
	if s.URL == "" {
		return Invalid("url", "is required, for example https://hooks.example.com/automations")
	}
	if len(s.URL) > 2000 {
		return Invalid("url", "must be at most 2000 characters")
	}
	if s.CheckURL != nil {
		if err := s.CheckURL(s.URL); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return err
			}
			return Invalid("url", "%s", err.Error())
		}
	}
	for _, f := range []struct{ field, name string }{{"access_token_secret", s.AccessTokenSecret}, {"signing_secret", s.SigningSecret}} {
		if f.name != "" {
			if err := ValidateSecretName(f.field, f.name); err != nil {
				return err
			}
		}
	}
	if s.MaxConcurrent == 0 {
		s.MaxConcurrent = DefaultMaxConcurrent
	}
	if s.MaxConcurrent < 1 || s.MaxConcurrent > 1000 {
		return Invalid("max_concurrent", "must be a whole number from 1 to 1000")
	}
	if s.MaxPerMinute < 0 || s.MaxPerMinute > 100000 {
		return Invalid("max_per_minute", "must be a whole number from 0 (no limit) to 100000")
	}
	for _, n := range s.Secrets {
		if n == "ACCESS_TOKEN" {
			return Invalid("secrets", "ACCESS_TOKEN always means the webhook's access token; choose that secret as the Access token instead of granting it")
		}
		if err := ValidateSecretName("secrets", n); err != nil {
			return err
		}
	}
	return nil
}

// lockSecrets checks that every secret the spec names exists in the team and
// locks those rows until the transaction ends (see DeleteSecret).
func (s *WebhookSpec) lockSecrets(tx *gorm.DB, teamID int64) error {
	names := slices.Clone(s.Secrets)
	for _, n := range []string{s.AccessTokenSecret, s.SigningSecret} {
		if n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	var found []string
	err := forUpdate(tx.Model(&secretRow{})).Where("team_id = ? AND name IN ?", teamID, names).
		Order("id").Pluck("name", &found).Error
	if err != nil {
		return fmt.Errorf("check webhook secrets: %w", err)
	}
	missing := func(n string) bool { return n != "" && !slices.Contains(found, n) }
	switch {
	case missing(s.AccessTokenSecret):
		return Invalid("access_token_secret", "no secret named %s in this team; create it under Team secrets first", Excerpt(s.AccessTokenSecret))
	case missing(s.SigningSecret):
		return Invalid("signing_secret", "no secret named %s in this team; create it under Team secrets first", Excerpt(s.SigningSecret))
	}
	for _, n := range s.Secrets {
		if missing(n) {
			return Invalid("secrets", "no secret named %s in this team; create it under Team secrets first", Excerpt(n))
		}
	}
	return nil
}

func (s *WebhookSpec) apply(w *Webhook) {
	w.Name, w.URL = s.Name, s.URL
	w.AccessTokenSecret, w.SigningSecret = s.AccessTokenSecret, s.SigningSecret
	w.Secrets = slices.Clone(s.Secrets)
	w.MaxConcurrent, w.MaxPerMinute = s.MaxConcurrent, s.MaxPerMinute
}

func replaceGrants(tx *gorm.DB, w *Webhook) error {
	if err := tx.Delete(&webhookSecret{}, "webhook_id = ?", w.ID).Error; err != nil {
		return fmt.Errorf("save webhook secrets: %w", err)
	}
	if len(w.Secrets) == 0 {
		return nil
	}
	rows := make([]webhookSecret, len(w.Secrets))
	for i, n := range w.Secrets {
		rows[i] = webhookSecret{WebhookID: w.ID, SecretName: n}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("save webhook secrets: %w", err)
	}
	return nil
}

func duplicateWebhook(err error, name string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return Conflict("name", "a webhook named %s already exists in this team", name)
	}
	return fmt.Errorf("save webhook %s: %w", name, err)
}

// CreateWebhook validates and stores a new webhook of the team.
func CreateWebhook(ctx context.Context, db *gorm.DB, teamID int64, s WebhookSpec, by *User) (*Webhook, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	w := &Webhook{TeamID: teamID, CreatedBy: &by.ID, CreatedAt: now, UpdatedAt: now}
	s.apply(w)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockSecrets(tx, teamID); err != nil {
			return err
		}
		if err := tx.Create(w).Error; err != nil {
			return duplicateWebhook(err, w.Name)
		}
		return replaceGrants(tx, w)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// UpdateWebhook validates s and replaces the webhook's configuration
// (renaming is allowed: automations refer to webhooks by id). Deliveries
// already queued send with the webhook's settings at the time they run.
func UpdateWebhook(ctx context.Context, db *gorm.DB, id int64, s WebhookSpec) (*Webhook, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	var w *Webhook
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row Webhook
		if err := forUpdate(tx).First(&row, "id = ?", id).Error; err != nil {
			return notFound(err, "webhook")
		}
		if err := s.lockSecrets(tx, row.TeamID); err != nil {
			return err
		}
		s.apply(&row)
		row.UpdatedAt = time.Now().UTC()
		if err := tx.Save(&row).Error; err != nil {
			return duplicateWebhook(err, row.Name)
		}
		w = &row
		return replaceGrants(tx, w)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteWebhook removes a webhook, refusing while automations use it and
// naming them. The row lock serialises concurrent edits and deletes of the
// webhook; an automation saved in the same instant could still slip past the
// check, and its deliveries then fail with ResolveWebhook's ErrNotFound.
func DeleteWebhook(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var w Webhook
		if err := forUpdate(tx).First(&w, "id = ?", id).Error; err != nil {
			return notFound(err, "webhook")
		}
		names, err := AutomationNamesUsingWebhook(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(names) > 0 {
			return Conflict("name", "webhook %s is used by %s; delete %s or switch %s to another webhook first",
				w.Name, listNames(names, "automation", "automations"), pronoun(len(names)), pronoun(len(names)))
		}
		if err := tx.Delete(&webhookSecret{}, "webhook_id = ?", id).Error; err != nil {
			return fmt.Errorf("delete webhook %s: %w", w.Name, err)
		}
		if err := tx.Delete(&Webhook{}, "id = ?", id).Error; err != nil {
			return fmt.Errorf("delete webhook %s: %w", w.Name, err)
		}
		return nil
	})
}

// WebhookByName loads a team's webhook with its granted secrets.
func WebhookByName(ctx context.Context, db *gorm.DB, teamID int64, name string) (*Webhook, error) {
	var w Webhook
	if err := db.WithContext(ctx).First(&w, "team_id = ? AND name = ?", teamID, name).Error; err != nil {
		return nil, notFound(err, "webhook "+name)
	}
	return &w, loadGrants(db.WithContext(ctx), []*Webhook{&w})
}

// WebhookByID loads a webhook with its granted secrets.
func WebhookByID(ctx context.Context, db *gorm.DB, id int64) (*Webhook, error) {
	var w Webhook
	if err := db.WithContext(ctx).First(&w, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "webhook")
	}
	return &w, loadGrants(db.WithContext(ctx), []*Webhook{&w})
}

// WebhooksOf lists a team's webhooks by name, with their granted secrets.
func WebhooksOf(ctx context.Context, db *gorm.DB, teamID int64) ([]Webhook, error) {
	return webhooksOf(db.WithContext(ctx), teamID)
}

func webhooksOf(tx *gorm.DB, teamID int64) ([]Webhook, error) {
	var out []Webhook
	if err := tx.Where("team_id = ?", teamID).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	ptrs := make([]*Webhook, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, loadGrants(tx, ptrs)
}

func loadGrants(tx *gorm.DB, hooks []*Webhook) error {
	if len(hooks) == 0 {
		return nil
	}
	byID := make(map[int64]*Webhook, len(hooks))
	ids := make([]int64, len(hooks))
	for i, w := range hooks {
		byID[w.ID], ids[i] = w, w.ID
	}
	var rows []webhookSecret
	if err := tx.Where("webhook_id IN ?", ids).Order("secret_name").Find(&rows).Error; err != nil {
		return fmt.Errorf("load webhook secrets: %w", err)
	}
	for _, r := range rows {
		w := byID[r.WebhookID]
		w.Secrets = append(w.Secrets, r.SecretName)
	}
	return nil
}

// ResolvedWebhook is a webhook with its secrets decrypted, for sending only:
// never render, log or store it.
type ResolvedWebhook struct {
	URL           string
	AccessToken   string
	SigningSecret string
	// PreviousSigningSecret also signs until PreviousSigningUntil: a
	// rotation's overlap ("" when none is in progress).
	PreviousSigningSecret string
	PreviousSigningUntil  time.Time
	Secrets               map[string]string // payload secrets by name (Webhook.PayloadSecrets)
}

// ResolveWebhook loads a team's webhook and decrypts the secrets it uses.
// A webhook that is gone (or belongs to another team) is an error wrapping
// ErrNotFound.
func ResolveWebhook(ctx context.Context, db *gorm.DB, box *secretbox.Box, teamID, webhookID int64) (*ResolvedWebhook, error) {
	w, err := WebhookByID(ctx, db, webhookID)
	if err != nil {
		return nil, err
	}
	if w.TeamID != teamID {
		return nil, fmt.Errorf("webhook: %w", ErrNotFound)
	}
	names := w.PayloadSecrets()
	values, err := unsealSecrets(ctx, db, box, teamID, names)
	if err != nil {
		return nil, fmt.Errorf("resolve webhook %s: %w", w.Name, err)
	}
	r := &ResolvedWebhook{URL: w.URL, Secrets: make(map[string]string, len(names))}
	if w.AccessTokenSecret != "" {
		r.AccessToken = values[w.AccessTokenSecret]
	}
	if w.SigningSecret != "" {
		r.SigningSecret = values[w.SigningSecret]
	}
	for _, n := range names {
		r.Secrets[n] = values[n]
	}
	if err := resolvePreviousSigning(ctx, db, box, w, r); err != nil {
		return nil, fmt.Errorf("resolve webhook %s: %w", w.Name, err)
	}
	return r, nil
}
