package people_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/models/people"
)

func TestLookupSessionEndsAtIdleTimeoutAndMaxAge(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	u := modeltest.User(t, db, "ada@example.com", false)
	limits := people.SessionLimits{IdleTimeout: time.Hour, MaxAge: 3 * time.Hour}
	t0 := time.Now().UTC().Truncate(time.Second)
	token, _, err := people.CreateSession(ctx, db, u.ID, "192.0.2.1", "test", t0, limits)
	if err != nil {
		t.Fatal(err)
	}
	// Each look-up inside the idle timeout keeps the session going ...
	for _, at := range []time.Duration{59 * time.Minute, 118 * time.Minute, 177 * time.Minute} {
		s, err := people.LookupSession(ctx, db, token, t0.Add(at), limits)
		if err != nil {
			t.Fatalf("at +%v: %v", at, err)
		}
		if !s.LastSeenAt.Equal(t0.Add(at)) {
			t.Fatalf("at +%v: last seen %v, want it bumped", at, s.LastSeenAt)
		}
	}
	// ... until the lifetime ends, however recent the last request.
	if _, err := people.LookupSession(ctx, db, token, t0.Add(3*time.Hour), limits); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("at the max age: %v, want not found", err)
	}
	// The expired row is gone: even an earlier clock finds nothing.
	if _, err := people.LookupSession(ctx, db, token, t0, limits); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("after expiry: %v, want the row deleted", err)
	}

	idle, _, err := people.CreateSession(ctx, db, u.ID, "192.0.2.1", "test", t0, limits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := people.LookupSession(ctx, db, idle, t0.Add(time.Hour), limits); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("idle for the whole timeout: %v, want not found", err)
	}
	if _, err := people.LookupSession(ctx, db, "not-a-token", t0, limits); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown token: %v, want not found", err)
	}
}

func TestUserSessionsListsOnlyLiveSessionsOfThatUser(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	ada := modeltest.User(t, db, "ada@example.com", false)
	bob := modeltest.User(t, db, "bob@example.com", false)
	limits := people.SessionLimits{IdleTimeout: time.Hour, MaxAge: 24 * time.Hour}
	t0 := time.Now().UTC().Truncate(time.Second)
	_, old, _ := people.CreateSession(ctx, db, ada.ID, "", "", t0.Add(-2*time.Hour), limits)
	_, live, _ := people.CreateSession(ctx, db, ada.ID, "", "", t0, limits)
	_, _, _ = people.CreateSession(ctx, db, bob.ID, "", "", t0, limits)
	got, err := people.UserSessions(ctx, db, ada.ID, t0, limits)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != live.ID {
		t.Fatalf("listed %+v, want only session %d", got, live.ID)
	}
	var n int64
	db.Model(&people.Session{}).Where("id = ?", old.ID).Count(&n)
	if n != 0 {
		t.Error("the idle session's row was kept")
	}
}
