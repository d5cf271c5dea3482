package handlers

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/jobs/mailer"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/views"
)

// deliverInvite returns the invitation's link and, when SMTP_URL is set,
// also mails it. where names what the person was invited to (`the team
// "ml"`). A mail that cannot be sent is logged and reported as not mailed:
// the invitation stands and the admin still has the link to pass on.
func (h *Handler) deliverInvite(c echo.Context, inv *people.Invite, where string) (link string, mailed bool) {
	link = inv.URL(h.baseURL)
	if h.mailer == nil {
		return link, false
	}
	inviter := CurrentUser(c)
	who := "A site admin"
	if inviter != nil {
		who = inviter.DisplayName()
		if inviter.Name != "" && inviter.Name != inviter.Email {
			who += " (" + inviter.Email + ")"
		}
	}
	body := fmt.Sprintf(`Hello,

%s invited you to %s on Automations (%s).

Set your password to sign in:

%s

The link works once and expires on %s.
If you did not expect this, you can ignore this message.
`, who, where, h.orgName, link, inv.ExpiresAt.Format("2006-01-02 15:04 MST"))
	err := h.mailer.Send(c.Request().Context(), mailer.Message{
		To:      inv.Email,
		Subject: "You are invited to " + where + " on Automations",
		Body:    body,
	})
	if err != nil {
		h.log.Warn("invitation not mailed; the link was shown to the inviter instead", "to", inv.Email, "err", err)
		return link, false
	}
	return link, true
}

// flashInvite shows the invitation link, with a Copy button, on the next page.
func (h *Handler) flashInvite(c echo.Context, email, link string, mailed bool) {
	msg := email + " has no password yet: send them this link to set one (it works once, within 7 days)."
	if mailed {
		msg = "The invitation was mailed to " + email + ". The link, in case it does not arrive (it works once, within 7 days):"
	}
	h.flash(c, "success", msg)
	h.flash(c, views.FlashInviteLink, link)
}
