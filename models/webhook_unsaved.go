package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/secretbox"
)

// ResolveUnsavedWebhook checks a webhook as typed in the New or Edit form
// and decrypts the secrets it names, for the form's Test button (seed 000
// step 7): nothing is stored. A name is not needed to test; everything else
// is checked as on save, and a secret the team lacks is an error on its field.
func ResolveUnsavedWebhook(ctx context.Context, db *gorm.DB, box *secretbox.Box, teamID int64, s WebhookSpec) (*Webhook, *ResolvedWebhook, error) {
	named := s.Name
	if s.Name == "" {
		s.Name = "unsaved" // a valid placeholder so validate checks the rest
	}
	if err := s.validate(); err != nil {
		return nil, nil, err
	}
	if named == "" {
		s.Name = ""
	}
	// Outside a transaction the row locks end at once: this only checks
	// that each named secret exists, with lockSecrets' per-field messages.
	if err := s.lockSecrets(db.WithContext(ctx), teamID); err != nil {
		return nil, nil, err
	}
	w := &Webhook{TeamID: teamID}
	s.apply(w)
	names := w.PayloadSecrets()
	values, err := unsealSecrets(ctx, db, box, teamID, names)
	if err != nil {
		return nil, nil, fmt.Errorf("resolve unsaved webhook: %w", err)
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
	return w, r, nil
}
