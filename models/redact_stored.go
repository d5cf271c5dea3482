package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/redact"
	"github.com/automations-dev/automations/models/secretbox"
)

// redactStoredStep names the data_migrations row of RedactStoredAttempts.
const redactStoredStep = "redact_delivery_attempts"

// redactBatch is how many attempts are read and rewritten at a time.
const redactBatch = 500

// RedactStoredAttempts is the one-time step of migration 00011: attempts
// stored before responses were redacted may hold secret values an endpoint
// echoed. For each team it decrypts the team's secrets and Slack bot
// tokens and rewrites that team's attempts (and its deliveries' last
// error) with every form of them removed, in batches. It returns how many
// attempts changed; once done it does nothing. openBox is called only when
// there is something to decrypt, so a fresh database needs no keys.
//
// Safe when several processes start at once: the whole step is one
// transaction that first updates its data_migrations row. On PostgreSQL
// that row lock makes a second process wait and then find the step done;
// on SQLite the transaction holds the write lock from BEGIN IMMEDIATE.
// Redacting twice changes nothing, so a step cut short is simply run again.
func RedactStoredAttempts(ctx context.Context, db *gorm.DB, openBox func(context.Context) (*secretbox.Box, error)) (int, error) {
	changed := 0
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE data_migrations SET done_at = ? WHERE name = ? AND done_at IS NULL`, time.Now().UTC(), redactStoredStep)
		if res.Error != nil {
			return fmt.Errorf("claim the step: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil // done already, or by the process we waited for
		}
		var teams []int64
		if err := tx.Raw(`SELECT DISTINCT team_id FROM deliveries ORDER BY team_id`).Scan(&teams).Error; err != nil {
			return fmt.Errorf("list teams with deliveries: %w", err)
		}
		var box *secretbox.Box
		for _, team := range teams {
			values, err := teamSecretValues(ctx, tx, team, func() (*secretbox.Box, error) {
				if box == nil {
					b, err := openBox(ctx)
					if err != nil {
						return nil, fmt.Errorf("open the secrets keeper: %w", err)
					}
					box = b
				}
				return box, nil
			})
			if err != nil {
				return err
			}
			if len(values) == 0 {
				continue
			}
			n, err := redactTeamAttempts(tx, team, redact.New(values...))
			changed += n
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return changed, fmt.Errorf("redact stored delivery attempts: %w", err)
	}
	return changed, nil
}

// teamSecretValues decrypts every secret and Slack bot token of a team:
// which of them a past attempt used is not recorded, so all are removed.
func teamSecretValues(ctx context.Context, tx *gorm.DB, teamID int64, box func() (*secretbox.Box, error)) ([]string, error) {
	var sealed [][]byte
	var secrets []secretRow
	if err := tx.Where("team_id = ?", teamID).Find(&secrets).Error; err != nil {
		return nil, fmt.Errorf("load secrets of team %d: %w", teamID, err)
	}
	for _, s := range secrets {
		sealed = append(sealed, s.Ciphertext)
	}
	var slacks []slackIntegrationRow
	if err := tx.Where("team_id = ?", teamID).Find(&slacks).Error; err != nil {
		return nil, fmt.Errorf("load slack integrations of team %d: %w", teamID, err)
	}
	for _, s := range slacks {
		sealed = append(sealed, s.BotToken)
	}
	if len(sealed) == 0 {
		return nil, nil
	}
	b, err := box()
	if err != nil {
		return nil, err
	}
	values := make([]string, 0, len(sealed))
	for _, c := range sealed {
		plain, err := b.Unseal(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("unseal a secret of team %d: %w", teamID, err)
		}
		values = append(values, string(plain))
	}
	return values, nil
}

// redactTeamAttempts rewrites a team's attempts and deliveries that hold a
// value r removes, reading by id in batches.
func redactTeamAttempts(tx *gorm.DB, teamID int64, r *redact.Redactor) (int, error) {
	changed := 0
	for after := int64(0); ; {
		var batch []DeliveryAttempt
		err := tx.Where("delivery_id IN (SELECT id FROM deliveries WHERE team_id = ?) AND id > ?", teamID, after).
			Order("id").Limit(redactBatch).Find(&batch).Error
		if err != nil {
			return changed, fmt.Errorf("read attempts of team %d: %w", teamID, err)
		}
		for _, a := range batch {
			before := a
			a.Redact(r)
			if a == before {
				continue
			}
			err := tx.Model(&DeliveryAttempt{}).Where("id = ?", a.ID).Updates(map[string]any{
				"request_url": a.RequestURL, "request_headers": a.RequestHeaders, "request_body": a.RequestBody,
				"response_headers": a.ResponseHeaders, "response_body": a.ResponseBody, "error": a.Error,
			}).Error
			if err != nil {
				return changed, fmt.Errorf("rewrite attempt %d: %w", a.ID, err)
			}
			changed++
		}
		if len(batch) < redactBatch {
			break
		}
		after = batch[len(batch)-1].ID
	}
	for after := int64(0); ; {
		var batch []Delivery
		err := tx.Select("id, last_error").Where("team_id = ? AND last_error <> '' AND id > ?", teamID, after).
			Order("id").Limit(redactBatch).Find(&batch).Error
		if err != nil {
			return changed, fmt.Errorf("read deliveries of team %d: %w", teamID, err)
		}
		for _, d := range batch {
			if red := r.String(d.LastError); red != d.LastError {
				if err := tx.Model(&Delivery{}).Where("id = ?", d.ID).Update("last_error", red).Error; err != nil {
					return changed, fmt.Errorf("rewrite delivery %d: %w", d.ID, err)
				}
			}
		}
		if len(batch) < redactBatch {
			break
		}
		after = batch[len(batch)-1].ID
	}
	return changed, nil
}
