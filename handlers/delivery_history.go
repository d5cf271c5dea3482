package handlers

import (
	"context"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// deliveryDetail is what u may read of the delivery history of a: the
// whole of it only as a site admin or an admin of the team that owns the
// automation's integration (DESIGN.md §13).
func (h *Handler) deliveryDetail(ctx context.Context, u *models.User, a *models.Automation) (models.DeliveryDetail, error) {
	return h.teamDetail(ctx, u, a.TeamID)
}

// teamDetail is what u may read of deliveries through an integration of
// team teamID.
func (h *Handler) teamDetail(ctx context.Context, u *models.User, teamID int64) (models.DeliveryDetail, error) {
	if u.SiteAdmin {
		return models.DeliveryFull, nil
	}
	role, err := models.TeamRole(ctx, h.db, teamID, u.ID)
	if err != nil {
		return models.DeliverySummary, err
	}
	return models.DeliveryDetailFor(u, role), nil
}

// visibleHistory reads one page of a's deliveries and attempts cut down
// to what u may read, for the API.
func (h *Handler) visibleHistory(ctx context.Context, u *models.User, a *models.Automation, page models.Page) ([]models.DeliveryWithAttempts, bool, error) {
	detail, err := h.deliveryDetail(ctx, u, a)
	if err != nil {
		return nil, false, err
	}
	ds, _, _, more, err := models.DeliveryHistory(ctx, h.db, models.HistoryFilter{AutomationID: &a.ID}, page)
	if err != nil {
		return nil, false, err
	}
	return models.VisibleDeliveries(detail, ds), more, nil
}

// listNav reads a list's search text, state filter and page number from
// the query string.
func listNav(c echo.Context, path string) views.ListNav {
	n, _ := strconv.Atoi(c.QueryParam("page"))
	nav := views.ListNav{Path: path, Query: strings.TrimSpace(c.QueryParam("q")), Page: max(n, 1)}
	if st := models.DeliveryState(c.QueryParam("state")); st != "" {
		for _, known := range models.DeliveryStates {
			if st == known {
				nav.State = string(st)
			}
		}
	}
	return nav
}

func pageOf(nav views.ListNav) models.Page { return models.NewPage(nav.Page, models.DefaultPageSize) }

// historyRows reads one page of deliveries chosen by f and prepares them
// for the viewer u: each passes through models.VisibleDeliveries with
// what u may read of its integration's team. canAct says whether u
// administers the scope (and may redeliver).
func (h *Handler) historyRows(ctx context.Context, u *models.User, f models.HistoryFilter, page models.Page, canAct bool) ([]views.HistoryRow, bool, error) {
	ds, events, launches, more, err := models.DeliveryHistory(ctx, h.db, f, page)
	if err != nil {
		return nil, false, err
	}
	details := map[int64]models.DeliveryDetail{}
	rows := make([]views.HistoryRow, len(ds))
	for i, d := range ds {
		detail, ok := details[d.TeamID]
		if !ok {
			if detail, err = h.teamDetail(ctx, u, d.TeamID); err != nil {
				return nil, false, err
			}
			details[d.TeamID] = detail
		}
		visible := models.VisibleDeliveries(detail, []models.DeliveryWithAttempts{d})[0]
		rows[i] = views.HistoryRow{
			Delivery: visible, Detail: detail, Event: events[i], EventURL: eventVersionURL(events[i]),
			CanAct: canAct && d.AutomationID != nil,
		}
		if d.AutomationID != nil {
			rows[i].AutomationURL = views.AutomationURL(*d.AutomationID)
		}
		if l, ok := launches[d.ID]; ok {
			rows[i].Launch = &l
		}
	}
	return rows, more, nil
}

// eventVersionURL is the page of the artifact version an event is about.
func eventVersionURL(ev models.HistoryEvent) string {
	ref := "v" + strconv.Itoa(ev.VersionIndex)
	switch {
	case ev.Collection == "":
		return ""
	case ev.RegistryName != "":
		return views.VersionURL(views.RegistryCollectionURL(ev.RegistryName, ev.Collection), ref)
	case ev.TeamName != "":
		return views.VersionURL(views.ProjectCollectionURL(ev.TeamName, ev.ProjectName, ev.Collection), ref)
	}
	return ""
}

// automationHistory is the Delivery history section of a's page.
func (h *Handler) automationHistory(c echo.Context, a *models.Automation, scope *automationScope) (views.HistoryProps, error) {
	nav := listNav(c, views.AutomationURL(a.ID))
	f := models.HistoryFilter{AutomationID: &a.ID, State: models.DeliveryState(nav.State), Query: nav.Query}
	rows, more, err := h.historyRows(c.Request().Context(), CurrentUser(c), f, pageOf(nav), scope.CanAdmin(CurrentUser(c)))
	nav.More = more
	return views.HistoryProps{Nav: nav, Rows: rows}, err
}
