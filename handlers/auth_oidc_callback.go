package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
)

// errSSOState answers a callback whose state this browser did not issue,
// already used, or let expire: nothing is exchanged or changed.
var errSSOState = &Error{Status: http.StatusBadRequest,
	Message: "Sign-in failed: the request expired or was tampered with, try again."}

// OIDCCallback is GET /auth/oidc/callback, the provider's redirect back.
// The state must be the one in this browser's flow cookie (used up here);
// the code is exchanged and the ID token verified; the verified email then
// signs in, activates or creates an account (models.SSOUser).
func (h *Handler) OIDCCallback(c echo.Context) error {
	if h.oidc == nil {
		return errSSOOff
	}
	ctx := c.Request().Context()
	flow, ok := h.oidc.takeFlow(c)
	state := c.QueryParam("state")
	if !ok || state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(flow.State)) != 1 {
		return errSSOState
	}
	if reason := c.QueryParam("error"); reason != "" {
		return &Error{Status: http.StatusBadRequest,
			Message: "Sign-in failed: the identity provider did not sign you in (" + shortReason(reason) + "). Try again."}
	}
	id, err := h.oidc.identify(ctx, c.QueryParam("code"), flow)
	if err != nil {
		h.log.Warn("single sign-on failed", "err", err)
		return err
	}
	u, err := h.ssoAccount(ctx, id)
	if err != nil {
		return err
	}
	if err := h.startSession(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(flow.Next))
}

// ssoAccount finds, activates or creates the account for a verified
// identity, recording any change in the audit log in the same transaction.
func (h *Handler) ssoAccount(ctx context.Context, id oidcIdentity) (*models.User, error) {
	var u *models.User
	try := func() error {
		return h.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var outcome models.SSOOutcome
			var err error
			u, outcome, err = models.SSOUser(ctx, tx, id.Email, id.Name, h.oidc.cfg.AllowedDomains)
			if err != nil {
				return err
			}
			entry := audit.Entry{ActorID: &u.ID, ActorName: u.Email, Target: u.Email}
			switch outcome {
			case models.SSOCreated:
				entry.Kind = "user.create"
				entry.After = audit.JSON(map[string]any{"email": u.Email, "name": u.Name, "state": u.State, "via": "sso"})
			case models.SSOActivated:
				entry.Kind = "user.activate"
				entry.Before = audit.JSON(map[string]any{"state": models.UserInvited})
				entry.After = audit.JSON(map[string]any{"state": u.State, "via": "sso"})
			default:
				return nil
			}
			return audit.Record(ctx, tx, entry)
		})
	}
	err := try()
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		err = try() // a concurrent first sign-in created the account; this finds it
	}
	switch {
	case errors.Is(err, models.ErrSSODomainNotAllowed):
		return nil, &Error{Status: http.StatusForbidden,
			Message: "There is no account for " + models.NormalizeEmail(id.Email) + ", and accounts for its domain are not created on sign-in. Ask a site admin to invite you."}
	case errors.Is(err, models.ErrSSODeactivated):
		return nil, &Error{Status: http.StatusForbidden, Message: "The account " + models.NormalizeEmail(id.Email) + " is deactivated. Ask a site admin to reactivate it."}
	case errors.Is(err, models.ErrSSOServiceAccount):
		return nil, &Error{Status: http.StatusForbidden, Message: "The account " + models.NormalizeEmail(id.Email) + " is a service account; it cannot sign in."}
	case err != nil:
		return nil, err
	}
	return u, nil
}
