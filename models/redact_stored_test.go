package models_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/redact"
	"github.com/automations-dev/automations/models/secretbox"
)

// Attempts stored before redaction existed hold echoed secrets; the
// one-time step of migration 00011 rewrites them, for every team, and
// leaves other teams' text and text without secrets alone.
func TestRedactStoredAttemptsRemovesEchoedSecrets(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	const secret = `pässwörd"<&>\tok`
	const token = "access-token-1234567890"
	f.secret(t, "API_KEY", secret)
	f.secret(t, "TOKEN", token)
	other := "other team's text pässwörd"

	jsonInner := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
	echoes := []string{
		secret, jsonInner(secret), html.EscapeString(secret), url.QueryEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(`{"k":"` + jsonInner(secret) + `"}`)),
		"Authorization: Bearer " + token, base64.StdEncoding.EncodeToString([]byte("xBearer " + token)),
	}
	delivery := func(teamID int64, lastError string) int64 {
		d := models.Delivery{UID: models.NewDeliveryUID(), EventID: 1, AutomationName: "a", ActionType: "webhook", TeamID: teamID,
			State: models.DeliveryFailed, Attempts: 1, NextAttemptAt: time.Now().UTC(), LastError: lastError,
			CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
		if err := f.db.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	status := 500
	attempt := func(deliveryID int64, text string) int64 {
		a := models.DeliveryAttempt{DeliveryID: deliveryID, Number: 1, StartedAt: time.Now().UTC(), ResponseStatus: &status,
			RequestURL: "https://example.com/" + url.PathEscape(text), RequestHeaders: "X-Echo: " + text, RequestBody: `{"v":"` + text + `"}`,
			ResponseHeaders: "X-Echo: " + text, ResponseBody: "got " + text, Error: "Slack answered " + text, Outcome: "failed"}
		if err := f.db.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	mine := delivery(f.team.ID, "Slack answered "+secret)
	for _, e := range echoes {
		attempt(mine, e)
	}
	clean := attempt(mine, "nothing secret here")
	otherTeam := redactOtherTeam(t, f, "other")
	foreign := attempt(delivery(otherTeam, ""), other)

	// Two processes starting at once: one does the work, the other waits
	// for it and finds the step done.
	opened := 0
	var mu sync.Mutex
	open := func(context.Context) (*secretbox.Box, error) { mu.Lock(); opened++; mu.Unlock(); return f.box, nil }
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); counts[i], errs[i] = models.RedactStoredAttempts(ctx, f.db, open) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if counts[0]+counts[1] != len(echoes) || opened != 1 {
		t.Fatalf("changed %v attempts with the box opened %d times, want %d in total by one run", counts, opened, len(echoes))
	}

	var rows []models.DeliveryAttempt
	if err := f.db.Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	forms := append(redact.Forms(secret), redact.Forms(token)...)
	for _, a := range rows {
		text := strings.Join([]string{a.RequestURL, a.RequestHeaders, a.RequestBody, a.ResponseHeaders, a.ResponseBody, a.Error}, "\n")
		for _, form := range forms {
			if strings.Contains(text, form) {
				t.Errorf("attempt %d still holds %q: %q", a.ID, form, text)
			}
		}
		switch a.ID {
		case clean:
			if a.ResponseBody != "got nothing secret here" {
				t.Errorf("an attempt without secrets changed: %q", a.ResponseBody)
			}
		case foreign:
			if a.ResponseBody != "got "+other {
				t.Errorf("another team's attempt changed: %q", a.ResponseBody)
			}
		default:
			if !strings.Contains(a.ResponseBody, redact.Marker) || !strings.Contains(a.ResponseHeaders, redact.Marker) {
				t.Errorf("attempt %d: response not redacted: %q", a.ID, a.ResponseBody)
			}
		}
	}
	d, err := models.DeliveryByUID(ctx, f.db, mustUID(t, f, mine))
	if err != nil {
		t.Fatal(err)
	}
	if d.LastError != "Slack answered "+redact.Marker {
		t.Errorf("last_error = %q", d.LastError)
	}

	// Done once: a later start changes nothing and opens no keys.
	attempt(mine, secret)
	if n, err := models.RedactStoredAttempts(ctx, f.db, open); err != nil || n != 0 || opened != 1 {
		t.Fatalf("second run changed %d (err %v, box opened %d times), want nothing", n, err, opened)
	}
}

func redactOtherTeam(t *testing.T, f *secretsFixture, name string) int64 {
	t.Helper()
	var id int64
	tm, err := models.CreateTeam(context.Background(), f.db, name, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	id = tm.ID
	return id
}

func mustUID(t *testing.T, f *secretsFixture, id int64) string {
	t.Helper()
	var d models.Delivery
	if err := f.db.First(&d, "id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	return d.UID
}
