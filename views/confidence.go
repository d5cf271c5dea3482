package views

import (
	"strconv"
	"time"

	"github.com/automations-dev/automations/models"
)

// WizardScope names the wizard's scope in hidden fields, so the Preview and
// Dry run panels (one route each for every scope) know where they are.
type WizardScope struct {
	Type, Project, Registry, Collection string
	AutomationID                        int64 // editing: the automation
}

// PreviewEvent is one event a preview can render against.
type PreviewEvent struct {
	ID      int64
	Time    time.Time
	Version string // artifact_version_string
	Author  string
	Type    string
}

// AutomationPreview is what an automation would send for one event.
type AutomationPreview struct {
	Error string // the automation is not complete enough to preview
	// Event is the one rendered; Sample when no stored event matches (a
	// made-up event from the scope's real names).
	Event  PreviewEvent
	Sample bool
	// Events are the recent matching events the user can pick instead.
	Events []PreviewEvent
	// Exactly one of these, by action type.
	Webhook *TestRequest
	Slack   string // the chat.postMessage body (JSON)
	Launch  string // the run-queue item's job, version, config and destination (JSON)
	// CanSend shows "Send as test" (webhooks, for the owning team's admins).
	CanSend bool
}

// DryRun is "would have fired N times in the last D days".
type DryRun struct {
	Error   string
	Days    int
	Matches int
	Events  []PreviewEvent // the newest of them
	Elapsed time.Duration
	// RunEvent: the answer replays stored runs; Runs lists the newest fires
	// (MetricEvent: with the step and metric_value). Partial: only the most
	// recently active runs were replayed.
	RunEvent, MetricEvent, Partial bool
	Runs                           []DryRunFire
}

// DryRunFire is one time a run automation would have fired.
type DryRunFire struct {
	Time    time.Time
	RunID   int64
	RunName string
	RunURL  string
	Author  string
	State   string // RUN_STATE: the state entered
	Metric  bool   // metric events: Step and Value apply
	Step    int64
	Value   float64
}

// EventURL is an event's lineage page.
func EventURL(id int64) string { return "/events/" + strconv.FormatInt(id, 10) }

// LineageProps is an event's lineage page.
type LineageProps struct {
	Event      PreviewEvent
	Alias      string
	Scope      string
	VersionURL string
	CanDecide  bool // admins of the scope approve or reject here too
	Matched    []LineageAutomation
	Unmatched  []LineageAutomation
	// Orphans are deliveries of automations deleted since.
	Orphans  []models.DeliveryWithAttempts
	RunItems []models.RunItemWithQueue
	// Runs are the runs those launch items produced, with the events each
	// run caused in turn (each a link to its own lineage page).
	Runs []LineageRun
}

// LineageRun is a run a launch item produced and the events it caused.
type LineageRun struct {
	Item   int64
	Run    Link
	State  string
	Events []Link
}

// LineageAutomation is one automation of the event's scope on its lineage page.
type LineageAutomation struct {
	ID      int64
	Name    string
	Trigger string
	Matched bool
	// Rule and Detail say why it did not match.
	Rule, Detail string
	Deliveries   []models.DeliveryWithAttempts
}
