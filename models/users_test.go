package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

func TestUsersAndAuthentication(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	u, err := models.CreateUser(ctx, db, models.NewUser{Email: " Ada@Example.COM ", Password: "long enough", Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ada@example.com" || u.Username != "ada" || u.PasswordHash == "long enough" {
		t.Fatalf("stored %+v", u)
	}
	var ce *models.ConflictError
	if _, err := models.CreateUser(ctx, db, models.NewUser{Email: "ADA@example.com", Password: "long enough"}); !errors.As(err, &ce) {
		t.Fatalf("duplicate email: %v", err)
	}
	var ve *models.ValidationError
	if _, err := models.CreateUser(ctx, db, models.NewUser{Email: "not-an-email", Password: "long enough"}); !errors.As(err, &ve) || ve.Field != "email" {
		t.Fatalf("bad email: %v", err)
	}
	if got, err := models.Authenticate(ctx, db, "ADA@example.com", "long enough"); err != nil || got.ID != u.ID {
		t.Fatalf("authenticate: %v", err)
	}
	for _, c := range [][2]string{{"ada@example.com", "wrong pass"}, {"bob@example.com", "long enough"}} {
		if _, err := models.Authenticate(ctx, db, c[0], c[1]); !errors.Is(err, models.ErrBadCredentials) {
			t.Errorf("%v: %v, want ErrBadCredentials", c, err)
		}
	}
	if err := models.SetPassword(ctx, db, u.ID, "another secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := models.Authenticate(ctx, db, "ada@example.com", "another secret"); err != nil {
		t.Fatalf("after reset: %v", err)
	}
}
