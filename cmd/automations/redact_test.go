package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/models/redact"
	"github.com/automations-dev/automations/models/secretbox"
)

// `migrate` runs migration 00011's Go step: an attempt stored with an
// echoed secret (as before redaction existed) is rewritten redacted.
func TestMigrateRedactsStoredAttempts(t *testing.T) {
	ctx := context.Background()
	db := modeltest.New(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secretbox.Open(ctx, "", key)
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	admin := modeltest.User(t, db.DB, "admin@example.com", true)
	team := modeltest.Team(t, db.DB, "ml", admin)
	const secret = `pässwörd"<&>\-from-before`
	if _, err := models.CreateSecret(ctx, db.DB, box, team.ID, "API_KEY", secret, admin); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	d := models.Delivery{UID: models.NewDeliveryUID(), EventID: 1, AutomationName: "a", ActionType: "webhook", TeamID: team.ID,
		State: models.DeliverySucceeded, Attempts: 1, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	if err := db.DB.Create(&d).Error; err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"key": secret})
	a := models.DeliveryAttempt{DeliveryID: d.ID, Number: 1, StartedAt: now, Outcome: "succeeded",
		ResponseBody: "echo " + base64.StdEncoding.EncodeToString(body)}
	if err := db.DB.Create(&a).Error; err != nil {
		t.Fatal(err)
	}

	out, errOut, code := cli(t, db, []string{"ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(key), "SECRET_KEY=0123456789abcdef0123"}, "migrate")
	if code != 0 {
		t.Fatalf("migrate: code %d, %q %q", code, out, errOut)
	}
	if err := db.DB.First(&a, a.ID).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.ResponseBody, redact.Marker) {
		t.Fatalf("the stored attempt was not redacted: %q", a.ResponseBody)
	}
	for _, form := range redact.Forms(secret) {
		if strings.Contains(a.ResponseBody, form) {
			t.Fatalf("the stored attempt still holds %q: %q", form, a.ResponseBody)
		}
	}
	if !strings.Contains(errOut, "redacted secret values from stored delivery attempts") {
		t.Errorf("migrate did not say what it did: %q", errOut)
	}
}
