package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/models/secretbox"
)

// DefaultRotationOverlap is how long the old signing secret keeps signing
// after a rotation unless the admin picks another overlap (DESIGN.md §15).
const DefaultRotationOverlap = 24 * time.Hour

// MaxRotationOverlap bounds the overlap: a rotation is meant to end.
const MaxRotationOverlap = 30 * 24 * time.Hour

// Rotation is a signing secret rotation as an admin asks for it.
type Rotation struct {
	// Secret names the team secret that becomes the signing secret.
	Secret string
	// Overlap is how long the current secret keeps signing beside it; 0
	// switches at once.
	Overlap time.Duration
}

func (r *Rotation) validate() error {
	if err := ValidateSecretName("secret", r.Secret); err != nil {
		return err
	}
	if r.Overlap < 0 || r.Overlap > MaxRotationOverlap {
		return Invalid("overlap", "must be between 0s (switch at once) and 720h (30 days), for example 24h")
	}
	return nil
}

// rotationColumns is the part of a webhook row only rotation touches.
type rotationColumns struct {
	PreviousSigningSecret     string     `gorm:"column:previous_signing_secret"`
	PreviousSigningCiphertext []byte     `gorm:"column:previous_signing_ciphertext"`
	PreviousSigningUntil      *time.Time `gorm:"column:previous_signing_until"`
}

// RotateSigningSecret makes r.Secret the webhook's signing secret. The
// current one keeps signing for r.Overlap: deliveries then carry both
// Standard Webhooks signatures (new first) and X-Wandb-Signature from the
// old secret, so receivers that have not switched keep verifying. The old
// value is copied (still sealed) so the overlap survives the old team
// secret being replaced or deleted. A rotation during another's overlap
// drops the oldest secret. Recorded in the team's audit log.
func RotateSigningSecret(ctx context.Context, db *gorm.DB, webhookID int64, r Rotation, by *User) (*Webhook, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	var out *Webhook
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var w Webhook
		// The row lock orders this against edits and other rotations.
		if err := forUpdate(tx).First(&w, "id = ?", webhookID).Error; err != nil {
			return notFound(err, "webhook")
		}
		if r.Secret == w.SigningSecret {
			return Invalid("secret", "%s already signs this webhook; create a new team secret and rotate to it", r.Secret)
		}
		var rows []secretRow
		// Locked like the secrets a webhook form names (see DeleteSecret).
		err := forUpdate(tx.Model(&secretRow{})).Where("team_id = ? AND name IN ?", w.TeamID, []string{r.Secret, w.SigningSecret}).
			Order("id").Find(&rows).Error
		if err != nil {
			return fmt.Errorf("rotate signing secret: %w", err)
		}
		var next, current *secretRow
		for i := range rows {
			switch rows[i].Name {
			case r.Secret:
				next = &rows[i]
			case w.SigningSecret:
				current = &rows[i]
			}
		}
		if next == nil {
			return Invalid("secret", "no secret named %s in this team; create it under Team secrets first", r.Secret)
		}
		now := time.Now().UTC()
		cols := rotationColumns{}
		if current != nil && r.Overlap > 0 {
			until := now.Add(r.Overlap)
			cols = rotationColumns{PreviousSigningSecret: current.Name, PreviousSigningCiphertext: current.Ciphertext, PreviousSigningUntil: &until}
		}
		err = tx.Model(&Webhook{}).Where("id = ?", w.ID).Updates(map[string]any{
			"signing_secret":              next.Name,
			"previous_signing_secret":     cols.PreviousSigningSecret,
			"previous_signing_ciphertext": cols.PreviousSigningCiphertext,
			"previous_signing_until":      cols.PreviousSigningUntil,
			"updated_at":                  now,
		}).Error
		if err != nil {
			return fmt.Errorf("rotate signing secret of %s: %w", w.Name, err)
		}
		after := map[string]any{"signing_secret": next.Name}
		if cols.PreviousSigningUntil != nil {
			after["previous_signing_secret"] = cols.PreviousSigningSecret
			after["previous_signing_until"] = cols.PreviousSigningUntil.Format(time.RFC3339)
		}
		if err := audit.Record(ctx, tx, audit.Entry{
			TeamID: &w.TeamID, ActorID: &by.ID, ActorName: by.Email, Kind: "webhook.rotate_secret", Target: w.Name,
			Before: audit.JSON(map[string]any{"signing_secret": w.SigningSecret}), After: audit.JSON(after),
		}); err != nil {
			return err
		}
		w.SigningSecret, w.PreviousSigningSecret, w.PreviousSigningUntil, w.UpdatedAt = next.Name, cols.PreviousSigningSecret, cols.PreviousSigningUntil, now
		out = &w
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, loadGrants(db.WithContext(ctx), []*Webhook{out})
}

// RotationInProgress reports whether the old signing secret still signs at now.
func (w *Webhook) RotationInProgress(now time.Time) bool {
	return w.PreviousSigningSecret != "" && w.PreviousSigningUntil != nil && now.Before(*w.PreviousSigningUntil)
}

// resolvePreviousSigning adds the old signing secret to r while the
// webhook's rotation overlap lasts.
func resolvePreviousSigning(ctx context.Context, db *gorm.DB, box *secretbox.Box, w *Webhook, r *ResolvedWebhook) error {
	if !w.RotationInProgress(time.Now()) || w.SigningSecret == "" {
		return nil
	}
	var cols rotationColumns
	if err := db.WithContext(ctx).Model(&Webhook{}).Select("previous_signing_secret, previous_signing_ciphertext, previous_signing_until").
		Where("id = ?", w.ID).Take(&cols).Error; err != nil {
		return fmt.Errorf("load previous signing secret: %w", err)
	}
	if len(cols.PreviousSigningCiphertext) == 0 || cols.PreviousSigningUntil == nil {
		return nil
	}
	plain, err := box.Unseal(ctx, cols.PreviousSigningCiphertext)
	if err != nil {
		return fmt.Errorf("unseal previous signing secret %s: %w", cols.PreviousSigningSecret, err)
	}
	r.PreviousSigningSecret, r.PreviousSigningUntil = string(plain), *cols.PreviousSigningUntil
	return nil
}
