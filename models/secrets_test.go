package models_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/models/secretbox"
)

type secretsFixture struct {
	db         *gorm.DB
	box        *secretbox.Box
	admin, bob *models.User
	team       *models.Team
}

func newSecretsFixture(t *testing.T) *secretsFixture {
	t.Helper()
	db := modeltest.Open(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secretbox.Open(context.Background(), "", key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { box.Close() })
	admin := modeltest.User(t, db, "admin@example.com", false)
	return &secretsFixture{db: db, box: box, admin: admin, bob: modeltest.User(t, db, "bob@example.com", false),
		team: modeltest.Team(t, db, "ml", admin)}
}

func (f *secretsFixture) secret(t *testing.T, name, value string) {
	t.Helper()
	if _, err := models.CreateSecret(context.Background(), f.db, f.box, f.team.ID, name, value, f.admin); err != nil {
		t.Fatalf("create secret %s: %v", name, err)
	}
}

func (f *secretsFixture) ciphertext(t *testing.T, name string) []byte {
	t.Helper()
	var raw []byte
	if err := f.db.Table("team_secrets").Select("ciphertext").Where("team_id = ? AND name = ?", f.team.ID, name).Row().Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func wantField(t *testing.T, err error, field, text string) {
	t.Helper()
	var ve *models.ValidationError
	var ce *models.ConflictError
	switch {
	case errors.As(err, &ve):
		if ve.Field != field || !strings.Contains(ve.Message, text) {
			t.Fatalf("error %s: %q, want field %s with %q", ve.Field, ve.Message, field, text)
		}
	case errors.As(err, &ce):
		if ce.Field != field || !strings.Contains(ce.Message, text) {
			t.Fatalf("conflict %s: %q, want field %s with %q", ce.Field, ce.Message, field, text)
		}
	default:
		t.Fatalf("error %v, want a field error on %s with %q", err, field, text)
	}
}

func TestSecretIsStoredSealedAndListedWithoutValue(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	const value = "ghp_live_token_123"
	f.secret(t, "GITHUB_TOKEN", value)

	raw := f.ciphertext(t, "GITHUB_TOKEN")
	for _, form := range []string{value, base64.StdEncoding.EncodeToString([]byte(value)), base64.RawStdEncoding.EncodeToString([]byte(value))} {
		if bytes.Contains(raw, []byte(form)) {
			t.Fatalf("the ciphertext column contains %q", form)
		}
	}
	if got, err := f.box.Unseal(ctx, raw); err != nil || string(got) != value {
		t.Fatalf("column does not unseal to the value: %v", err)
	}
	list, err := models.SecretsOf(ctx, f.db, f.team.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	s := list[0]
	if s.Name != "GITHUB_TOKEN" || s.CreatedBy != "admin@example.com" || s.UpdatedBy != "admin@example.com" || s.CreatedAt.IsZero() {
		t.Fatalf("listing = %+v", s)
	}
}

func TestSecretNameAndValueRules(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	f.secret(t, "TOKEN", "v")
	cases := []struct {
		name, value, field, text string
	}{
		{"", "v", "name", "is required"},
		{"my-token", "v", "name", "letters, numbers and _"},
		{"TOKEN.X", "v", "name", "not a valid secret name"},
		{"ÄPI", "v", "name", "not a valid secret name"},
		{strings.Repeat("A", 65), "v", "name", "at most 64"},
		{"OK_NAME", "", "value", "is required"},
		{"OK_NAME", "  \n", "value", "is required"},
		{"OK_NAME", strings.Repeat("x", models.MaxSecretValueBytes+1), "value", "at most"},
		{"TOKEN", "other", "name", "already exists"},
	}
	for _, c := range cases {
		_, err := models.CreateSecret(ctx, f.db, f.box, f.team.ID, c.name, c.value, f.admin)
		wantField(t, err, c.field, c.text)
		if err != nil && len(c.value) > 3 && strings.Contains(err.Error(), c.value) {
			t.Fatalf("error repeats the value: %v", err)
		}
	}
	if list, _ := models.SecretsOf(ctx, f.db, f.team.ID); len(list) != 1 {
		t.Fatalf("refused secrets were stored: %v", list)
	}
	// The seeds allow letters, numbers and _ in any order: a leading digit too.
	if _, err := models.CreateSecret(ctx, f.db, f.box, f.team.ID, "2FA_SEED", "v", f.admin); err != nil {
		t.Fatalf("secret name starting with a digit: %v", err)
	}
	// Names are per team: another team may use the same one.
	other := modeltest.Team(t, f.db, "vision", f.admin)
	if _, err := models.CreateSecret(ctx, f.db, f.box, other.ID, "TOKEN", "v", f.admin); err != nil {
		t.Fatalf("same name in another team: %v", err)
	}
}

func TestUpdateSecretRotatesTheValue(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	f.secret(t, "TOKEN", "old-value")
	before := f.ciphertext(t, "TOKEN")
	hook, err := models.CreateWebhook(ctx, f.db, f.team.ID, models.WebhookSpec{Name: "ci", URL: "https://ci.example.com/hook", AccessTokenSecret: "TOKEN"}, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := models.UpdateSecret(ctx, f.db, f.box, f.team.ID, "TOKEN", "new-value", f.bob); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if bytes.Equal(before, f.ciphertext(t, "TOKEN")) {
		t.Fatal("ciphertext unchanged after rotation")
	}
	r, err := models.ResolveWebhook(ctx, f.db, f.box, f.team.ID, hook.ID)
	if err != nil || r.AccessToken != "new-value" {
		t.Fatalf("after rotation the webhook sends %q (%v)", r.AccessToken, err)
	}
	s, err := models.SecretByName(ctx, f.db, f.team.ID, "TOKEN")
	if err != nil || s.CreatedBy != "admin@example.com" || s.UpdatedBy != "bob@example.com" {
		t.Fatalf("after rotation: %+v %v", s, err)
	}
	err = models.UpdateSecret(ctx, f.db, f.box, f.team.ID, "NOPE", "x", f.bob)
	if !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("rotate a missing secret: %v", err)
	}
	wantField(t, models.UpdateSecret(ctx, f.db, f.box, f.team.ID, "TOKEN", "", f.bob), "value", "is required")
}

func TestDeleteSecretRefusedWhileAWebhookUsesIt(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	for _, n := range []string{"TOKEN", "SIGNING", "EXTRA", "UNUSED"} {
		f.secret(t, n, "value-of-"+n)
	}
	if _, err := models.CreateWebhook(ctx, f.db, f.team.ID, models.WebhookSpec{
		Name: "ci", URL: "https://ci.example.com", AccessTokenSecret: "TOKEN", SigningSecret: "SIGNING", Secrets: []string{"EXTRA"},
	}, f.admin); err != nil {
		t.Fatal(err)
	}
	if _, err := models.CreateWebhook(ctx, f.db, f.team.ID, models.WebhookSpec{
		Name: "teams", URL: "https://teams.example.com", Secrets: []string{"EXTRA", "TOKEN"},
	}, f.admin); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"TOKEN":   "used by webhooks ci (access token) and teams (granted)",
		"SIGNING": "used by webhook ci (signing secret)",
		"EXTRA":   "used by webhooks ci (granted) and teams (granted)",
	}
	for name, want := range cases {
		err := models.DeleteSecret(ctx, f.db, f.team.ID, name)
		wantField(t, err, "name", want)
		if strings.Contains(err.Error(), "value-of-") {
			t.Fatalf("refusal shows a value: %v", err)
		}
	}
	if list, _ := models.SecretsOf(ctx, f.db, f.team.ID); len(list) != 4 {
		t.Fatalf("a refused delete removed a secret: %v", list)
	}
	if err := models.DeleteSecret(ctx, f.db, f.team.ID, "UNUSED"); err != nil {
		t.Fatalf("delete unused: %v", err)
	}
	if err := models.DeleteSecret(ctx, f.db, f.team.ID, "UNUSED"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestWebhookValidation(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	f.secret(t, "TOKEN", "v")
	refuseIP := func(raw string) error {
		if strings.Contains(raw, "127.0.0.1") {
			return models.Invalid("url", "must use a host name, not an IP address")
		}
		return nil
	}
	if _, err := models.CreateWebhook(ctx, f.db, f.team.ID, models.WebhookSpec{Name: "ci", URL: "https://a.example.com"}, f.admin); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		spec        models.WebhookSpec
		field, text string
	}{
		{models.WebhookSpec{Name: "", URL: "https://x.example.com"}, "name", "is required"},
		{models.WebhookSpec{Name: "bad name", URL: "https://x.example.com"}, "name", "not a valid name"},
		{models.WebhookSpec{Name: "x", URL: ""}, "url", "is required"},
		{models.WebhookSpec{Name: "x", URL: "http://127.0.0.1/", CheckURL: refuseIP}, "url", "not an IP address"},
		{models.WebhookSpec{Name: "x", URL: "https://x.example.com", CheckURL: func(string) error { return errors.New("plain reason") }}, "url", "plain reason"},
		{models.WebhookSpec{Name: "x", URL: "https://x.example.com", AccessTokenSecret: "MISSING"}, "access_token_secret", "no secret named MISSING"},
		{models.WebhookSpec{Name: "x", URL: "https://x.example.com", SigningSecret: "MISSING"}, "signing_secret", "no secret named MISSING"},
		{models.WebhookSpec{Name: "x", URL: "https://x.example.com", Secrets: []string{"TOKEN", "MISSING"}}, "secrets", "no secret named MISSING"},
		{models.WebhookSpec{Name: "x", URL: "https://x.example.com", Secrets: []string{"bad-name"}}, "secrets", "not a valid secret name"},
		{models.WebhookSpec{Name: "x", URL: "https://x.example.com", Secrets: []string{"ACCESS_TOKEN"}}, "secrets", "ACCESS_TOKEN always means"},
		{models.WebhookSpec{Name: "ci", URL: "https://x.example.com"}, "name", "already exists"},
	}
	for _, c := range cases {
		_, err := models.CreateWebhook(ctx, f.db, f.team.ID, c.spec, f.admin)
		wantField(t, err, c.field, c.text)
	}
	if hooks, _ := models.WebhooksOf(ctx, f.db, f.team.ID); len(hooks) != 1 {
		t.Fatalf("refused webhooks were stored: %v", hooks)
	}
	// A secret of another team does not count.
	other := modeltest.Team(t, f.db, "vision", f.admin)
	_, err := models.CreateWebhook(ctx, f.db, other.ID, models.WebhookSpec{Name: "x", URL: "https://x.example.com", AccessTokenSecret: "TOKEN"}, f.admin)
	wantField(t, err, "access_token_secret", "no secret named TOKEN")
}

func TestWebhookUpdateAndPayloadContext(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	for _, n := range []string{"TOKEN", "SIGNING", "A", "B"} {
		f.secret(t, n, "value-of-"+n)
	}
	w, err := models.CreateWebhook(ctx, f.db, f.team.ID, models.WebhookSpec{
		Name: "ci", URL: " https://ci.example.com ", SigningSecret: "SIGNING", Secrets: []string{"B", "A", "B", " "},
	}, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	got, err := models.WebhookByName(ctx, f.db, f.team.ID, "ci")
	if err != nil || got.URL != "https://ci.example.com" || !slices.Equal(got.Secrets, []string{"A", "B"}) || got.SigningSecret != "SIGNING" {
		t.Fatalf("stored webhook = %+v, %v", got, err)
	}
	pc := got.PayloadContext("LINK_ARTIFACT")
	if pc.HasAccessToken || !slices.Equal(pc.GrantedSecrets, []string{"A", "B", "SIGNING"}) || pc.EventType != "LINK_ARTIFACT" {
		t.Fatalf("payload context = %+v (the signing secret counts as granted)", pc)
	}

	up, err := models.UpdateWebhook(ctx, f.db, w.ID, models.WebhookSpec{
		Name: "ci-renamed", URL: "https://ci2.example.com", AccessTokenSecret: "TOKEN", Secrets: []string{"B"},
	})
	if err != nil {
		t.Fatal(err)
	}
	byID, err := models.WebhookByID(ctx, f.db, w.ID)
	if err != nil || byID.Name != "ci-renamed" || byID.SigningSecret != "" || byID.AccessTokenSecret != "TOKEN" || !slices.Equal(byID.Secrets, []string{"B"}) || up.Name != "ci-renamed" {
		t.Fatalf("after update = %+v, %v", byID, err)
	}
	if !byID.PayloadContext("").HasAccessToken {
		t.Fatal("access token not in the payload context")
	}
	// "A" is no longer used and may go; a failed update changes nothing.
	if err := models.DeleteSecret(ctx, f.db, f.team.ID, "A"); err != nil {
		t.Fatalf("delete a secret the webhook stopped using: %v", err)
	}
	_, err = models.UpdateWebhook(ctx, f.db, w.ID, models.WebhookSpec{Name: "ci-renamed", URL: "https://ci2.example.com", Secrets: []string{"A"}})
	wantField(t, err, "secrets", "no secret named A")
	if again, _ := models.WebhookByID(ctx, f.db, w.ID); !slices.Equal(again.Secrets, []string{"B"}) || again.AccessTokenSecret != "TOKEN" {
		t.Fatalf("refused update changed the webhook: %+v", again)
	}
	if _, err := models.UpdateWebhook(ctx, f.db, 999999, models.WebhookSpec{Name: "x", URL: "https://x.example.com"}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("update missing webhook: %v", err)
	}

	r, err := models.ResolveWebhook(ctx, f.db, f.box, f.team.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.URL != "https://ci2.example.com" || r.AccessToken != "value-of-TOKEN" || r.SigningSecret != "" || len(r.Secrets) != 2 || r.Secrets["B"] != "value-of-B" || r.Secrets["TOKEN"] != "value-of-TOKEN" {
		t.Fatalf("resolved = %+v", r)
	}
	other := modeltest.Team(t, f.db, "vision", f.admin)
	if _, err := models.ResolveWebhook(ctx, f.db, f.box, other.ID, w.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("resolve through another team: %v", err)
	}
}

func TestDeleteWebhookRefusedWhileAnAutomationUsesIt(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	w, err := models.CreateWebhook(ctx, f.db, f.team.ID, models.WebhookSpec{Name: "ci", URL: "https://ci.example.com"}, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := models.CreateRegistry(ctx, f.db, "models", "", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	var autos []*models.Automation
	for _, name := range []string{"deploy on prod", "evaluate new links"} {
		a, err := models.CreateAutomation(ctx, f.db, models.AutomationSpec{
			Name: name, Enabled: true, Scope: models.ScopeRegistry, RegistryID: &reg.ID,
			EventType: models.EventLinkArtifact, ActionType: models.ActionWebhook, TeamID: f.team.ID,
			WebhookID: &w.ID, Payload: `{"v": "${artifact_version_string}"}`, PayloadContext: w.PayloadContext(""),
		}, f.admin)
		if err != nil {
			t.Fatal(err)
		}
		autos = append(autos, a)
	}
	wantField(t, models.DeleteWebhook(ctx, f.db, w.ID), "name", "used by automations deploy on prod and evaluate new links")
	if err := models.DeleteAutomation(ctx, f.db, autos[0].ID); err != nil {
		t.Fatal(err)
	}
	wantField(t, models.DeleteWebhook(ctx, f.db, w.ID), "name", "used by automation evaluate new links;")
	if _, err := models.WebhookByID(ctx, f.db, w.ID); err != nil {
		t.Fatalf("refused delete removed the webhook: %v", err)
	}
	if err := models.DeleteAutomation(ctx, f.db, autos[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := models.DeleteWebhook(ctx, f.db, w.ID); err != nil {
		t.Fatalf("delete unused webhook: %v", err)
	}
	if _, err := models.ResolveWebhook(ctx, f.db, f.box, f.team.ID, w.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("resolve deleted webhook: %v", err)
	}
	if err := models.DeleteWebhook(ctx, f.db, w.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	// Saving an automation re-reads (and locks) its webhook in the same
	// transaction: one deleted in the meantime is refused on the field.
	_, err = models.CreateAutomation(ctx, f.db, models.AutomationSpec{
		Name: "late", Enabled: true, Scope: models.ScopeRegistry, RegistryID: &reg.ID,
		EventType: models.EventLinkArtifact, ActionType: models.ActionWebhook, TeamID: f.team.ID,
		WebhookID: &w.ID, Payload: `{}`, PayloadContext: w.PayloadContext(""),
	}, f.admin)
	wantField(t, err, "action.webhook", "was deleted")
}
