package people_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/models/people"
)

// Two requests racing with the same invitation token: exactly one sets its
// password; the other is told the link is not valid.
func TestInvitationIsUsedOnceUnderConcurrency(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	admin := modeltest.User(t, db, "site@example.com", true)
	team := modeltest.Team(t, db, "ml", admin)
	added, err := people.AddMember(ctx, db, admin, people.Team(team.ID), "racer@example.com", models.RoleMember)
	if err != nil || added.Invite == nil {
		t.Fatalf("invite: %v %+v", err, added)
	}
	passwords := []string{"first password", "second password"}
	errs := make([]error, len(passwords))
	var wg sync.WaitGroup
	for i, p := range passwords {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = people.AcceptInvitation(ctx, db, added.Invite.Token, p)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if won >= 0 {
				t.Fatal("both requests accepted the invitation")
			}
			won = i
		case !errors.Is(err, people.ErrInvitationInvalid):
			t.Fatalf("accept %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("neither request accepted the invitation")
	}
	if _, err := models.Authenticate(ctx, db, "racer@example.com", passwords[won]); err != nil {
		t.Fatalf("the winner's password does not work: %v", err)
	}
	if _, err := models.Authenticate(ctx, db, "racer@example.com", passwords[1-won]); err == nil {
		t.Fatal("the loser's password works")
	}
}

// Two site admins demoting each other at once cannot leave the site
// without an active site admin: at most one change goes through.
func TestConcurrentDemotionsKeepASiteAdmin(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	a := modeltest.User(t, db, "a@example.com", true)
	b := modeltest.User(t, db, "b@example.com", true)
	no := false
	changes := []struct {
		actor, target *models.User
		change        models.UserChange
	}{
		{a, b, models.UserChange{SiteAdmin: &no}},
		{b, a, models.UserChange{Active: &no}},
	}
	errs := make([]error, len(changes))
	var wg sync.WaitGroup
	for i, c := range changes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = people.ChangePerson(ctx, db, c.actor, c.target.ID, c.change)
		}()
	}
	wg.Wait()
	var conflicts int
	for _, err := range errs {
		var ce *models.ConflictError
		if errors.As(err, &ce) {
			conflicts++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	var active int64
	if err := db.Model(&models.User{}).Where("site_admin = ? AND state = ?", true, models.UserActive).Count(&active).Error; err != nil {
		t.Fatal(err)
	}
	if conflicts != 1 || active != 1 {
		t.Fatalf("%d conflicts, %d active site admins; want 1 and 1", conflicts, active)
	}
}
