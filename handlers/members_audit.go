package handlers

import (
	"fmt"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/models/people"
)

// Member changes of a team or registry, each recorded in its audit log in
// the transaction that makes it.

// addMember adds (or invites, through people.AddMember) and records it.
func (h *Handler) addMember(c echo.Context, s memberScope, email string, role models.Role) (*people.AddedMember, error) {
	var added *people.AddedMember
	err := h.audited(c, s.log, func(tx *gorm.DB, e *audit.Entry) error {
		var err error
		if added, err = people.AddMember(c.Request().Context(), tx, CurrentUser(c), s.scope, email, role); err != nil {
			return err
		}
		m := added.Member
		e.Kind, e.Target = auditMemberAdd, m.Email
		e.After = audit.JSON(map[string]any{"email": m.Email, "role": m.Role})
		return nil
	})
	return added, err
}

func (h *Handler) setMemberRole(c echo.Context, s memberScope, userID int64, role models.Role) error {
	return h.audited(c, s.log, func(tx *gorm.DB, e *audit.Entry) error {
		ctx := c.Request().Context()
		u, before, err := memberBefore(c, tx, s, userID)
		if err != nil {
			return err
		}
		if err := s.setRole(ctx, tx, s.id, userID, role); err != nil {
			return err
		}
		if before == role {
			return nil // nothing changed, nothing to record
		}
		e.Kind, e.Target = auditMemberRole, u.Email
		e.Before = audit.JSON(map[string]any{"role": before})
		e.After = audit.JSON(map[string]any{"role": role})
		return nil
	})
}

func (h *Handler) removeMember(c echo.Context, s memberScope, userID int64) error {
	return h.audited(c, s.log, func(tx *gorm.DB, e *audit.Entry) error {
		u, before, err := memberBefore(c, tx, s, userID)
		if err != nil {
			return err
		}
		if err := s.remove(c.Request().Context(), tx, s.id, userID); err != nil {
			return err
		}
		e.Kind, e.Target = auditMemberRemove, u.Email
		e.Before = audit.JSON(map[string]any{"email": u.Email, "role": before})
		return nil
	})
}

// memberBefore loads the member's user and current role for the entry.
// Service accounts are not members here: their role is set when they are
// created (member or admin) and they leave by being deleted, so these
// routes answer as for someone who is not a member.
func memberBefore(c echo.Context, tx *gorm.DB, s memberScope, userID int64) (*models.User, models.Role, error) {
	ctx := c.Request().Context()
	u, err := models.UserByID(ctx, tx, userID)
	if err != nil {
		return nil, models.RoleNone, err
	}
	if u.IsServiceAccount() {
		return nil, models.RoleNone, fmt.Errorf("member %d: %w", userID, models.ErrNotFound)
	}
	role, err := s.role(ctx, tx, s.id, userID)
	return u, role, err
}
