package handlers

import (
	"maps"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
)

// Automation changes, recorded in the log of the automation's scope (the
// project's team, or the registry) in the transaction that makes them.

// scopeLog is the audit log an automation of scope belongs to.
func scopeLog(scope *automationScope) audit.Entry {
	if scope.Type == models.ScopeProject {
		return teamLog(scope.Team)
	}
	return registryLog(scope.Registry)
}

// automationSummary is the before/after of an automation: what it does,
// never a secret's value (payloads name secrets, they do not hold them).
func automationSummary(a *models.Automation, scope *automationScope) map[string]any {
	var webhookID int64 // a value, not the pointer: summaries are compared
	if a.WebhookID != nil {
		webhookID = *a.WebhookID
	}
	return map[string]any{
		"name": a.Name, "description": a.Description, "enabled": a.Enabled, "scope": scope.Label(),
		"event_type": a.EventType, "alias_regex": a.AliasRegex, "action_type": a.ActionType,
		"webhook_id": webhookID, "payload": a.Payload, "action_config": a.ActionConfig,
	}
}

func (h *Handler) createAutomation(c echo.Context, scope *automationScope, spec models.AutomationSpec) (*models.Automation, error) {
	var a *models.Automation
	err := h.audited(c, scopeLog(scope), func(tx *gorm.DB, e *audit.Entry) error {
		var err error
		if a, err = models.CreateAutomation(c.Request().Context(), tx, spec, CurrentUser(c)); err != nil {
			return err
		}
		e.Kind, e.Target = auditAutomationCreate, a.Name
		e.After = audit.JSON(automationSummary(a, scope))
		return nil
	})
	return a, err
}

// updateAutomation saves spec over a (which it updates in place). An edit
// that only switches enabled is recorded as automation.enable or .disable.
func (h *Handler) updateAutomation(c echo.Context, scope *automationScope, a *models.Automation, spec models.AutomationSpec) error {
	before := automationSummary(a, scope)
	return h.audited(c, scopeLog(scope), func(tx *gorm.DB, e *audit.Entry) error {
		if err := models.UpdateAutomation(c.Request().Context(), tx, a, spec); err != nil {
			return err
		}
		after := automationSummary(a, scope)
		e.Kind, e.Target = auditAutomationUpdate, a.Name
		if before["enabled"] != after["enabled"] {
			onlyEnabled := maps.Clone(before)
			onlyEnabled["enabled"] = after["enabled"]
			if maps.Equal(onlyEnabled, after) {
				e.Kind = enableKind(a.Enabled)
			}
		}
		e.Before, e.After = audit.JSON(before), audit.JSON(after)
		return nil
	})
}

func enableKind(enabled bool) string {
	if enabled {
		return auditAutomationEnable
	}
	return auditAutomationDisable
}

func (h *Handler) setAutomationEnabled(c echo.Context, scope *automationScope, a *models.Automation, enabled bool) error {
	return h.audited(c, scopeLog(scope), func(tx *gorm.DB, e *audit.Entry) error {
		if err := models.SetAutomationEnabled(c.Request().Context(), tx, a.ID, enabled); err != nil {
			return err
		}
		e.Kind, e.Target = enableKind(enabled), a.Name
		e.Before = audit.JSON(map[string]any{"enabled": a.Enabled})
		e.After = audit.JSON(map[string]any{"enabled": enabled})
		return nil
	})
}

func (h *Handler) deleteAutomation(c echo.Context, scope *automationScope, a *models.Automation) error {
	return h.audited(c, scopeLog(scope), func(tx *gorm.DB, e *audit.Entry) error {
		if err := models.DeleteAutomation(c.Request().Context(), tx, a.ID); err != nil {
			return err
		}
		e.Kind, e.Target = auditAutomationDelete, a.Name
		e.Before = audit.JSON(automationSummary(a, scope))
		return nil
	})
}
