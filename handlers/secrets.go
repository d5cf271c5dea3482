package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/views"
)

func settingsURL(team, section string) string { return "/teams/" + team + "#" + section }

// SecretCreate is POST /teams/:team/secrets: the New secret form.
func (h *Handler) SecretCreate(c echo.Context) error {
	t := currentTeam(c)
	name := c.FormValue("name")
	_, err := h.createSecret(c, t, name, c.FormValue("value"))
	if errs, status, ok := fieldErrors(err); ok {
		// The value is never sent back: the user types it again.
		form := views.Form{Values: map[string]string{"name": name}, Errors: errs}
		if c.FormValue("from") == "page" {
			return h.Render(c, status, views.NewSecretPage(t.Name, form))
		}
		return h.renderSettings(c, status, views.NewForm(), views.SettingsPanel{Open: views.PanelNewSecret, Form: form}, views.NewForm())
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Secret "+name+" created.")
	return redirect(c, settingsURL(t.Name, "secrets"))
}

// SecretUpdate is POST /teams/:team/secrets/:name: Edit replaces the value.
func (h *Handler) SecretUpdate(c echo.Context) error {
	t, name := currentTeam(c), c.Param("name")
	err := h.updateSecret(c, t, name, c.FormValue("value"))
	if errs, status, ok := fieldErrors(err); ok {
		form := views.Form{Values: map[string]string{}, Errors: errs}
		return h.renderSettings(c, status, views.NewForm(), views.SettingsPanel{Open: views.PanelEditSecret, Name: name, Form: form}, views.NewForm())
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Secret "+name+" now has its new value.")
	return redirect(c, settingsURL(t.Name, "secrets"))
}

// SecretDelete is POST /teams/:team/secrets/:name/delete. A refusal (a
// webhook uses it) comes back as a flash naming the webhooks.
func (h *Handler) SecretDelete(c echo.Context) error {
	t, name := currentTeam(c), c.Param("name")
	err := h.deleteSecret(c, t, name)
	if h.flashRefusal(c, err) {
		return redirect(c, settingsURL(t.Name, "secrets"))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Secret "+name+" deleted.")
	return redirect(c, settingsURL(t.Name, "secrets"))
}
