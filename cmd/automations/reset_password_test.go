package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/models/people"
)

func TestResetPasswordEndsTheUsersSessions(t *testing.T) {
	db := modeltest.New(t)
	ctx := context.Background()
	ada := modeltest.User(t, db.DB, "ada@example.com", false)
	bob := modeltest.User(t, db.DB, "bob@example.com", false)
	for _, u := range []*models.User{ada, ada, bob} {
		if _, _, err := people.CreateSession(ctx, db.DB, u.ID, "192.0.2.1", "test", time.Now(), people.SessionLimits{}); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := cli(t, db, nil, "admin", "reset-password", "--email", "ada@example.com", "--password", "reset by the operator")
	if code != 0 || !strings.Contains(out, "sessions are ended") {
		t.Fatalf("reset-password: code %d, %q %q", code, out, errOut)
	}
	count := func(u *models.User) int64 {
		var n int64
		if err := db.DB.Model(&people.Session{}).Where("user_id = ?", u.ID).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(ada); n != 0 {
		t.Fatalf("ada has %d sessions after the reset, want 0", n)
	}
	if n := count(bob); n != 1 {
		t.Fatalf("bob has %d sessions, want his 1 untouched", n)
	}
	if _, err := models.Authenticate(ctx, db.DB, "ada@example.com", "reset by the operator"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}
