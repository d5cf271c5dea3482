package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/payload"
	"github.com/automations-dev/automations/models/runcond"
)

// AutomationSpec is an automation as a user describes it, with names
// already resolved to ids by the caller (who also checked the roles).
type AutomationSpec struct {
	Name         string
	Description  string
	Enabled      bool
	Scope        ScopeType
	ProjectID    *int64
	RegistryID   *int64
	CollectionID *int64 // project: optional filter; registry_collection: required
	EventType    string
	AliasRegex   string
	// RunEvent holds a run event's parameters (nil for artifact events).
	RunEvent     *runcond.Config
	ActionType   string
	TeamID       int64
	WebhookID    *int64
	Payload      string
	ActionConfig string
	// DedupeWindow (seconds, 0: off), RequireApproval and ApprovalTimeout
	// (seconds, 0: the default 72h) are the options of DESIGN.md §16.
	DedupeWindow    int64
	RequireApproval bool
	ApprovalTimeout int64
	// PayloadContext says what the chosen webhook offers (access token,
	// granted secrets), for validating Payload.
	PayloadContext payload.Context
}

// Validate checks everything that does not need the database; errors name
// the field to fix. Every field is checked, so a form can show all its
// errors at once: the result joins one error per field (errors.As finds
// the first, in the order of the form: details, scope and event, action).
func (s *AutomationSpec) Validate() error {
	return errors.Join(s.validateDetails(), s.validateScopeEvent(), s.validateAction())
}

func (s *AutomationSpec) validateDetails() error {
	s.Name = strings.TrimSpace(s.Name)
	var name, desc error
	switch {
	case s.Name == "":
		name = Invalid("name", "is required")
	case len(s.Name) > 100:
		name = Invalid("name", "must be at most 100 characters")
	}
	if len(s.Description) > 2000 {
		desc = Invalid("description", "must be at most 2000 characters")
	}
	return errors.Join(name, desc)
}

func (s *AutomationSpec) validateScopeEvent() error {
	switch s.Scope {
	case ScopeProject:
		if s.ProjectID == nil {
			return Invalid("scope.project", "is required")
		}
	case ScopeRegistry:
		if s.RegistryID == nil {
			return Invalid("scope.registry", "is required")
		}
	case ScopeRegistryCollection:
		if s.RegistryID == nil || s.CollectionID == nil {
			return Invalid("scope.collection", "is required")
		}
	default:
		return Invalid("scope.type", "%q is not a scope: use project, registry or registry_collection", Excerpt(string(s.Scope)))
	}
	if !slices.Contains(EventTypesFor(s.Scope), s.EventType) {
		return Invalid("event.type", "%q does not apply to a %s automation: use %s",
			Excerpt(s.EventType), strings.ReplaceAll(string(s.Scope), "_", " "), strings.Join(EventTypesFor(s.Scope), " or "))
	}
	if s.EventType == EventAddArtifactAlias {
		if _, err := CompileAliasRegex(s.AliasRegex); err != nil {
			return err
		}
	} else {
		s.AliasRegex = ""
	}
	if runcond.IsRunEvent(s.EventType) {
		if s.CollectionID != nil {
			return Invalid("scope.collection", "run events watch the whole project: remove the collection filter")
		}
		if s.RunEvent == nil {
			s.RunEvent = &runcond.Config{}
		}
		if err := s.RunEvent.Normalize(s.EventType); err != nil {
			var fe *runcond.FieldError
			if errors.As(err, &fe) {
				return Invalid(fe.Field, "%s", fe.Message)
			}
			return err
		}
	} else {
		s.RunEvent = nil
	}
	return nil
}

func (s *AutomationSpec) validateAction() error {
	switch s.ActionType {
	case ActionWebhook:
		if s.WebhookID == nil {
			return Invalid("action.webhook", "choose a webhook of the team")
		}
		s.PayloadContext.EventType = payload.EventType(s.EventType)
		if strings.TrimSpace(s.Payload) == "" {
			// A webhook that needs no payload (DESIGN.md §6) sends {}.
			s.Payload = "{}"
		}
		if err := payload.Validate(s.Payload, s.PayloadContext); err != nil {
			return Invalid("action.payload", "%s", err.Error())
		}
	case ActionSlack, ActionLaunch:
		s.WebhookID, s.Payload = nil, ""
		if err := validateActionConfig(s.ActionType, s.ActionConfig); err != nil {
			return err
		}
	default:
		return Invalid("action.type", "%q is not an action: use webhook, slack or launch", Excerpt(s.ActionType))
	}
	if s.ActionConfig == "" {
		s.ActionConfig = "{}"
	}
	return s.validateOptions()
}

// DefaultApprovalTimeout is how long a delivery waits for approval.
const DefaultApprovalTimeout = 72 * 3600

// maxOptionWindow bounds the dedupe window and the approval timeout.
const maxOptionWindow = 90 * 24 * 3600

func (s *AutomationSpec) validateOptions() error {
	if s.DedupeWindow < 0 || s.DedupeWindow > maxOptionWindow {
		return Invalid("dedupe_window", "must be between 1s and 90d (empty: off)")
	}
	if s.ApprovalTimeout == 0 {
		s.ApprovalTimeout = DefaultApprovalTimeout
	}
	if s.ApprovalTimeout < 60 || s.ApprovalTimeout > maxOptionWindow {
		return Invalid("approval_timeout", "must be between 1m and 90d, e.g. 72h")
	}
	return nil
}

func (s *AutomationSpec) apply(a *Automation) {
	a.Name, a.Description, a.Enabled = s.Name, strings.TrimSpace(s.Description), s.Enabled
	a.ScopeType, a.ProjectID, a.RegistryID, a.CollectionID = s.Scope, s.ProjectID, s.RegistryID, s.CollectionID
	a.EventType, a.AliasRegex, a.EventConfig = s.EventType, s.AliasRegex, "{}"
	if s.RunEvent != nil {
		a.EventConfig = s.RunEvent.JSON()
	}
	a.ActionType, a.TeamID, a.WebhookID, a.Payload, a.ActionConfig = s.ActionType, s.TeamID, s.WebhookID, s.Payload, s.ActionConfig
	a.DedupeWindow, a.RequireApproval, a.ApprovalTimeout = s.DedupeWindow, s.RequireApproval, s.ApprovalTimeout
}

// Draft is the automation s describes, not saved: what preview and dry
// run match and render with, exactly as the saved one would.
func (s *AutomationSpec) Draft() *Automation {
	a := &Automation{}
	s.apply(a)
	return a
}

// CreateAutomation validates and stores a new automation.
func CreateAutomation(ctx context.Context, db *gorm.DB, s AutomationSpec, creator *User) (*Automation, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	a := &Automation{CreatedBy: creator.ID}
	s.apply(a)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockIntegration(tx, a); err != nil {
			return err
		}
		if err := checkNameFree(tx, a); err != nil {
			return err
		}
		if err := tx.Create(a).Error; err != nil {
			return nameTaken(err, a)
		}
		return saveRevision(tx, a)
	})
	if err != nil {
		return nil, fmt.Errorf("create automation: %w", err)
	}
	return a, nil
}

// UpdateAutomation validates and replaces an automation's configuration.
// Deliveries already queued keep what they were queued with.
func UpdateAutomation(ctx context.Context, db *gorm.DB, a *Automation, s AutomationSpec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.apply(a)
	a.UpdatedAt = time.Now().UTC()
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockIntegration(tx, a); err != nil {
			return err
		}
		if err := checkNameFree(tx, a); err != nil {
			return err
		}
		if err := tx.Save(a).Error; err != nil {
			return nameTaken(err, a)
		}
		return saveRevision(tx, a)
	})
	if err != nil {
		return fmt.Errorf("update automation: %w", err)
	}
	return nil
}

// saveRevision records a's payload template and action configuration as
// its current revision, the one deliveries queued from now on point at.
func saveRevision(tx *gorm.DB, a *Automation) error {
	rev := AutomationRevision{AutomationID: a.ID, PayloadTemplate: a.Payload, ActionConfig: a.ActionConfig, CreatedAt: time.Now().UTC()}
	if err := tx.Create(&rev).Error; err != nil {
		return fmt.Errorf("save revision: %w", err)
	}
	if err := tx.Model(a).Update("revision_id", rev.ID).Error; err != nil {
		return fmt.Errorf("save revision: %w", err)
	}
	a.RevisionID = &rev.ID
	return nil
}

// lockIntegration locks the webhook or Slack integration a uses until the
// transaction ends, so it cannot be deleted between the check that it is
// unused (which locks it too) and this automation's save.
func lockIntegration(tx *gorm.DB, a *Automation) error {
	switch a.ActionType {
	case ActionWebhook:
		if a.WebhookID == nil {
			return nil
		}
		var w Webhook
		if err := forUpdate(tx).Where("team_id = ?", a.TeamID).First(&w, "id = ?", *a.WebhookID).Error; err != nil {
			return Invalid("action.webhook", "the webhook was deleted; choose another")
		}
	case ActionSlack:
		c, err := ParseSlackActionConfig(a.ActionConfig)
		if err != nil {
			return err
		}
		if _, err := LockSlackIntegration(tx, a.TeamID, c.IntegrationID); err != nil {
			return Invalid("action.channel", "the Slack integration was deleted; choose another channel")
		}
	}
	return nil
}

// SetAutomationEnabled turns an automation on or off.
func SetAutomationEnabled(ctx context.Context, db *gorm.DB, id int64, enabled bool) error {
	err := db.WithContext(ctx).Model(&Automation{}).Where("id = ?", id).
		Updates(map[string]any{"enabled": enabled, "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("enable automation: %w", err)
	}
	return nil
}

// DeleteAutomation removes an automation; its queued deliveries still go
// out ("actions in progress are not affected"), keeping their snapshot.
func DeleteAutomation(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Its deliveries stay (queued ones are still sent), detached: on
		// PostgreSQL no foreign key does this, to keep queueing cheap.
		if err := tx.Model(&Delivery{}).Where("automation_id = ?", id).Update("automation_id", nil).Error; err != nil {
			return fmt.Errorf("detach the automation's deliveries: %w", err)
		}
		if err := tx.Delete(&Automation{}, "id = ?", id).Error; err != nil {
			return fmt.Errorf("delete automation: %w", err)
		}
		return nil
	})
}

// AutomationByID loads an automation.
func AutomationByID(ctx context.Context, db *gorm.DB, id int64) (*Automation, error) {
	var a Automation
	if err := db.WithContext(ctx).First(&a, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "automation")
	}
	return &a, nil
}

// AutomationListing is an automation with its last delivery's state and
// the names its ids refer to, read in the listing's one query.
type AutomationListing struct {
	Automation
	LastState string `gorm:"column:last_state"`
	// TeamName is the team that owns the action's integration.
	TeamName string `gorm:"column:team_name"`
	// WebhookName is nil when the action has no webhook or it was deleted.
	WebhookName *string `gorm:"column:webhook_name"`
	// CollectionName is the collection the automation is narrowed to, if any.
	CollectionName string `gorm:"column:collection_name"`
}

// ListAutomations lists the automations of a project (projectID) or of a
// registry (registryID; collectionID narrows to those that apply to it).
func ListAutomations(ctx context.Context, db *gorm.DB, projectID, registryID, collectionID *int64) ([]AutomationListing, error) {
	q, err := automationListing(ctx, db, projectID, registryID, collectionID)
	if err != nil {
		return nil, err
	}
	var out []AutomationListing
	if err := q.Order("a.name, a.id").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list automations: %w", err)
	}
	return out, nil
}

// automationListing is the query behind ListAutomations and AutomationsPage.
func automationListing(ctx context.Context, db *gorm.DB, projectID, registryID, collectionID *int64) (*gorm.DB, error) {
	q := db.WithContext(ctx).Table("automations AS a").Select(`a.*, COALESCE((SELECT d.state FROM deliveries d
		WHERE d.automation_id = a.id ORDER BY d.id DESC LIMIT 1), '') AS last_state,
		COALESCE(t.name, '') AS team_name, w.name AS webhook_name, COALESCE(c.name, '') AS collection_name`).
		Joins("LEFT JOIN teams t ON t.id = a.team_id").
		Joins("LEFT JOIN webhooks w ON w.id = a.webhook_id").
		Joins("LEFT JOIN artifact_collections c ON c.id = a.collection_id")
	switch {
	case projectID != nil:
		q = q.Where("a.project_id = ?", *projectID)
	case registryID != nil && collectionID != nil:
		q = q.Where("a.registry_id = ? AND (a.scope_type = ? OR a.collection_id = ?)", *registryID, ScopeRegistry, *collectionID)
	case registryID != nil:
		q = q.Where("a.registry_id = ?", *registryID)
	default:
		return nil, errors.New("list automations: no scope")
	}
	return q, nil
}

// AutomationNamesUsingWebhook names the automations that use a webhook, so
// deleting it can be refused with their names.
func AutomationNamesUsingWebhook(ctx context.Context, db *gorm.DB, webhookID int64) ([]string, error) {
	var names []string
	err := db.WithContext(ctx).Model(&Automation{}).Where("webhook_id = ?", webhookID).Order("name").Pluck("name", &names).Error
	if err != nil {
		return nil, fmt.Errorf("automations using webhook: %w", err)
	}
	return names, nil
}
