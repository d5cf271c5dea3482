package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// QueuePage is GET /teams/:team/queues/:queue: the queue's items.
func (h *Handler) QueuePage(c echo.Context) error {
	q, err := h.teamQueue(c)
	if err != nil {
		return err
	}
	items, err := models.RunItemsOfQueue(c.Request().Context(), h.db, q.ID)
	if err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.QueuePage(views.QueueProps{
		Team: currentTeam(c), Queue: q, Items: items, Now: time.Now().UTC(), BaseURL: h.baseURL,
	}))
}

// QueueCreate is POST /teams/:team/queues (team admins): the New queue
// form of Team Settings, re-rendered with the error beside the name.
func (h *Handler) QueueCreate(c echo.Context) error {
	t := currentTeam(c)
	name := strings.TrimSpace(c.FormValue("name"))
	q, err := h.createQueue(c, t, name)
	if errs, status, ok := fieldErrors(err); ok {
		form := views.Form{Values: map[string]string{"name": name}, Errors: errs}
		return h.renderSettings(c, status, views.NewForm(), views.SettingsPanel{}, form)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Queue "+q.Name+" created.")
	return redirect(c, settingsURL(t.Name, "queues"))
}

// QueueDelete is POST /teams/:team/queues/:queue/delete (team admins); a
// queue with live items stays, and the flash says why.
func (h *Handler) QueueDelete(c echo.Context) error {
	t := currentTeam(c)
	q, err := h.teamQueue(c)
	if err != nil {
		return err
	}
	err = h.deleteQueue(c, t, q)
	if h.flashRefusal(c, err) {
		return redirect(c, settingsURL(t.Name, "queues"))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Queue "+q.Name+" deleted.")
	return redirect(c, settingsURL(t.Name, "queues"))
}
