package models_test

import (
	"testing"

	"github.com/automations-dev/automations/models"
)

func TestAllowed(t *testing.T) {
	site := &models.User{SiteAdmin: true}
	user := &models.User{}
	cases := []struct {
		u          *models.User
		have, need models.Role
		want       bool
	}{
		{site, models.RoleNone, models.RoleAdmin, true},
		{user, models.RoleAdmin, models.RoleAdmin, true},
		{user, models.RoleMember, models.RoleAdmin, false},
		{user, models.RoleViewer, models.RoleMember, false},
		{user, models.RoleMember, models.RoleMember, true},
		{user, models.RoleViewer, models.RoleViewer, true},
		{user, models.RoleNone, models.RoleViewer, false},
		{user, models.RoleNone, models.RoleNone, false},
		{nil, models.RoleAdmin, models.RoleViewer, false},
	}
	for _, c := range cases {
		if got := models.Allowed(c.u, c.have, c.need); got != c.want {
			t.Errorf("Allowed(site=%v, have %q, need %q) = %v", c.u != nil && c.u.SiteAdmin, c.have, c.need, got)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"ml", "ML-team_2", "a.b", "0day"} {
		if err := models.ValidateName("name", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "a b", "a/b", "é", "x\n", string(make([]byte, 65))} {
		if err := models.ValidateName("name", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
