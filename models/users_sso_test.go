package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

func TestSSOUserDecidesByAccountStateAndDomain(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	setState := func(email string, s models.UserState) {
		u := modeltest.User(t, db, email, false)
		if err := db.Model(u).Update("state", s).Error; err != nil {
			t.Fatal(err)
		}
	}
	modeltest.User(t, db, "ada@example.com", false)
	setState("grace@example.com", models.UserInvited)
	setState("gone@example.com", models.UserDeactivated)
	allowed := []string{"example.com"}

	for _, tc := range []struct {
		email   string
		want    models.SSOOutcome
		wantErr error
	}{
		{"ADA@example.com", models.SSOSignedIn, nil},
		{"grace@example.com", models.SSOActivated, nil},
		{"grace@example.com", models.SSOSignedIn, nil}, // activated once
		{"gone@example.com", "", models.ErrSSODeactivated},
		{"new@Example.com", models.SSOCreated, nil},
		{"new@example.com", models.SSOSignedIn, nil},
		{"eve@elsewhere.org", "", models.ErrSSODomainNotAllowed},
		{"eve@sub.example.com", "", models.ErrSSODomainNotAllowed}, // subdomains are listed themselves
	} {
		u, got, err := models.SSOUser(ctx, db, tc.email, "", allowed)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Fatalf("%s: %q, %v; want %q, %v", tc.email, got, err, tc.want, tc.wantErr)
		}
		if err == nil && (u.Email != models.NormalizeEmail(tc.email) || !u.Active()) {
			t.Fatalf("%s: signed in as %s (%s)", tc.email, u.Email, u.State)
		}
	}
	if n, _ := models.CountUsers(ctx, db); n != 4 {
		t.Fatalf("%d users, want 4 (only new@example.com created)", n)
	}
}
