package web

import (
	"context"
	"fmt"
	"log/slog"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/secretbox"
)

// RedactStoredAttempts runs migration 00011's one-time Go step
// (models.RedactStoredAttempts) with the configured secrets keeper; serve,
// worker and migrate call it after the SQL migrations. Keys are loaded only
// when there are secrets to decrypt.
func RedactStoredAttempts(ctx context.Context, cfg Config, db *gorm.DB, log *slog.Logger) error {
	var box *secretbox.Box
	n, err := models.RedactStoredAttempts(ctx, db, func(ctx context.Context) (*secretbox.Box, error) {
		keys, err := LoadKeys(cfg)
		if err != nil {
			return nil, err
		}
		box, err = secretbox.Open(ctx, cfg.SecretsKeeperURL, keys.Encryption)
		return box, err
	})
	if box != nil {
		_ = box.Close()
	}
	if err != nil {
		return fmt.Errorf("%w (set ENCRYPTION_KEY or SECRETS_KEEPER_URL as serve has them)", err)
	}
	if n > 0 {
		log.Info("redacted secret values from stored delivery attempts", "attempts", n)
	}
	return nil
}
