package payload

import "encoding/json"

// EventType is the kind of artifact mutation that fired an automation; it is
// the value of ${event_type}.
type EventType string

// The event types an automation can watch for (DESIGN.md §5).
const (
	CreateArtifact   EventType = "CREATE_ARTIFACT"
	AddArtifactAlias EventType = "ADD_ARTIFACT_ALIAS"
	LinkArtifact     EventType = "LINK_ARTIFACT"
	// Run events (DESIGN.md §14).
	RunState        EventType = "RUN_STATE"
	RunMetric       EventType = "RUN_METRIC"
	RunMetricChange EventType = "RUN_METRIC_CHANGE"
	RunMetricZScore EventType = "RUN_METRIC_ZSCORE"
)

// EventTypes returns every event type, in the order the wizard lists them.
func EventTypes() []EventType {
	return []EventType{CreateArtifact, AddArtifactAlias, LinkArtifact}
}

// Valid reports whether e is one of the defined event types.
func (e EventType) Valid() bool {
	switch e {
	case CreateArtifact, AddArtifactAlias, LinkArtifact, RunState, RunMetric, RunMetricChange, RunMetricZScore:
		return true
	}
	return false
}

// IsRun reports whether e is a run event: run variables apply to it,
// artifact variables do not.
func (e EventType) IsRun() bool {
	return e == RunState || e == RunMetric || e == RunMetricChange || e == RunMetricZScore
}

// Vars is the event's variable snapshot, the values a template's
// placeholders render to. Fields are rendered as given.
type Vars struct {
	EntityName             string
	ProjectName            string
	EventType              string
	EventAuthor            string
	ArtifactCollectionName string
	ArtifactVersion        string // wandb-artifact://_id/<base64 of "Artifact:<id>">
	ArtifactVersionString  string // <entity>/<project>/<collection>:<alias or vN>
	ArtifactVersionIndex   int
	AutomationName         string
	Alias                  string // the alias added; ADD_ARTIFACT_ALIAS only
	// ArtifactMetadata holds the top-level keys of the version's metadata
	// object, each value as JSON.
	ArtifactMetadata map[string]json.RawMessage

	// Run events.
	RunID     string // the run's id in /api/v1/runs/{id}
	RunName   string // display name
	RunURL    string
	RunState  string
	RunUser   string
	RunConfig map[string]json.RawMessage // top-level keys of the run's config
	// Metric events: the metric, the value that fired (see runcond.Eval),
	// the threshold or amount compared with, and the step; numbers are
	// JSON number text, "" when not set.
	MetricName      string
	MetricValue     string
	MetricThreshold string
	MetricStep      string
}

// Context is what applies to a template when it is saved: the automation's
// event and what its webhook offers.
type Context struct {
	// EventType is the automation's event. Empty means the event is not
	// known (the webhook test panel): event-specific checks are skipped.
	EventType      EventType
	HasAccessToken bool
	GrantedSecrets []string // names of the secrets granted to the webhook
}

// VariableDoc describes one payload variable for the wizard's variable list.
type VariableDoc struct {
	Placeholder string      // as written in a template, e.g. "${project_name}"
	Description string      // one line
	Events      []EventType // the events it applies to; nil means every event
	// Condition says when it is available beyond the event, if at all.
	Condition string
}

// Names of the documented variables, as written between ${ and }.
const (
	varProjectName            = "project_name"
	varEntityName             = "entity_name"
	varEventType              = "event_type"
	varEventAuthor            = "event_author"
	varArtifactCollectionName = "artifact_collection_name"
	varArtifactVersion        = "artifact_version"
	varArtifactVersionString  = "artifact_version_string"
	varArtifactVersionIndex   = "artifact_version_index"
	varAutomationName         = "automation_name"
	varAlias                  = "alias"
	metadataPrefix            = "artifact_metadata."
	varRunID                  = "run_id"
	varRunName                = "run_name"
	varRunURL                 = "run_url"
	varRunState               = "run_state"
	varRunUser                = "run_user"
	varMetricName             = "metric_name"
	varMetricValue            = "metric_value"
	varMetricThreshold        = "metric_threshold"
	varMetricStep             = "metric_step"
	runConfigPrefix           = "run_config."
	accessTokenName           = "ACCESS_TOKEN"
)

// variableNames lists the plain documented variables, used for lookup and for
// "did you mean" suggestions.
var variableNames = []string{
	varProjectName, varEntityName, varEventType, varEventAuthor,
	varArtifactCollectionName, varArtifactVersion, varArtifactVersionString,
	varArtifactVersionIndex, varAutomationName, varAlias,
	varRunID, varRunName, varRunURL, varRunState, varRunUser,
	varMetricName, varMetricValue, varMetricThreshold, varMetricStep,
}

// artifactOnly and runOnly say which variables apply to which events;
// metricOnly ones apply to run metric events, not RUN_STATE.
func artifactOnly(name string) bool {
	switch name {
	case varArtifactCollectionName, varArtifactVersion, varArtifactVersionString, varArtifactVersionIndex, varAlias:
		return true
	}
	return false
}

func runOnly(name string) bool {
	switch name {
	case varRunID, varRunName, varRunURL, varRunState, varRunUser:
		return true
	}
	return metricOnly(name)
}

func metricOnly(name string) bool {
	switch name {
	case varMetricName, varMetricValue, varMetricThreshold, varMetricStep:
		return true
	}
	return false
}

// numeric variables render as JSON numbers when they are a whole string
// value; their text is already a JSON number.
func numeric(name string) bool {
	return name == varMetricValue || name == varMetricThreshold || name == varMetricStep
}

func isVariable(name string) bool {
	for _, v := range variableNames {
		if v == name {
			return true
		}
	}
	return false
}

// text returns the value of a plain documented variable.
func (v *Vars) text(name string) string {
	switch name {
	case varProjectName:
		return v.ProjectName
	case varEntityName:
		return v.EntityName
	case varEventType:
		return v.EventType
	case varEventAuthor:
		return v.EventAuthor
	case varArtifactCollectionName:
		return v.ArtifactCollectionName
	case varArtifactVersion:
		return v.ArtifactVersion
	case varArtifactVersionString:
		return v.ArtifactVersionString
	case varAutomationName:
		return v.AutomationName
	case varAlias:
		return v.Alias
	case varRunID:
		return v.RunID
	case varRunName:
		return v.RunName
	case varRunURL:
		return v.RunURL
	case varRunState:
		return v.RunState
	case varRunUser:
		return v.RunUser
	case varMetricName:
		return v.MetricName
	case varMetricValue:
		return v.MetricValue
	case varMetricThreshold:
		return v.MetricThreshold
	case varMetricStep:
		return v.MetricStep
	}
	return ""
}

var (
	runEvents    = []EventType{RunState, RunMetric, RunMetricChange, RunMetricZScore}
	metricEvents = []EventType{RunMetric, RunMetricChange, RunMetricZScore}
	artifactEvts = []EventType{CreateArtifact, AddArtifactAlias, LinkArtifact}
)

// Variables lists the documented variables with one-line descriptions, in
// the order the wizard shows them.
func Variables() []VariableDoc {
	return []VariableDoc{
		{Placeholder: "${project_name}", Description: "The name of the project that owns the mutation that triggered the action (wandb-registry-<registry> for registry events)."},
		{Placeholder: "${entity_name}", Description: "The name of the team that owns the mutation that triggered the action (the organization for registry events)."},
		{Placeholder: "${event_type}", Description: "The type of event that triggered the action: CREATE_ARTIFACT, ADD_ARTIFACT_ALIAS or LINK_ARTIFACT."},
		{Placeholder: "${event_author}", Description: "The user that triggered the action."},
		{Placeholder: "${artifact_collection_name}", Description: "The name of the artifact collection that the artifact version is linked to.", Events: artifactEvts},
		{Placeholder: "${artifact_metadata.<KEY>}", Description: "The value of a top-level metadata key of the artifact version; alone in a string value it keeps its JSON type.", Events: artifactEvts},
		{Placeholder: "${artifact_version}", Description: "The Wandb.Artifact reference of the artifact version: wandb-artifact://_id/<id>.", Events: artifactEvts},
		{Placeholder: "${artifact_version_string}", Description: "The artifact version as <entity>/<project>/<collection>:<alias or vN>.", Events: artifactEvts},
		{Placeholder: "${artifact_version_index}", Description: "The version number N of vN; alone in a string value it renders as a JSON number.", Events: artifactEvts},
		{Placeholder: "${automation_name}", Description: "The name of the automation that fired."},
		{Placeholder: "${alias}", Description: "The alias that was added.", Events: []EventType{AddArtifactAlias}},
		{Placeholder: "${run_id}", Description: "The run's id (as in /api/v1/runs/<id>).", Events: runEvents},
		{Placeholder: "${run_name}", Description: "The run's display name.", Events: runEvents},
		{Placeholder: "${run_url}", Description: "The link to the run's page.", Events: runEvents},
		{Placeholder: "${run_state}", Description: "The run's state: running, finished, failed, crashed or killed.", Events: runEvents},
		{Placeholder: "${run_user}", Description: "The user (or service account) that logged the run.", Events: runEvents},
		{Placeholder: "${run_config.<KEY>}", Description: "The value of a top-level key of the run's config; alone in a string value it keeps its JSON type.", Events: runEvents},
		{Placeholder: "${metric_name}", Description: "The metric the automation watches.", Events: metricEvents},
		{Placeholder: "${metric_value}", Description: "The value that fired: the aggregate (RUN_METRIC), the current window's mean (RUN_METRIC_CHANGE) or the newest value (RUN_METRIC_ZSCORE); a JSON number when alone in a string value.", Events: metricEvents},
		{Placeholder: "${metric_threshold}", Description: "The threshold (or change amount) compared with; a JSON number when alone.", Events: metricEvents},
		{Placeholder: "${metric_step}", Description: "The step at which the condition held; a JSON number when alone.", Events: metricEvents},
		{Placeholder: "${ACCESS_TOKEN}", Description: "The webhook's access token, also sent as Authorization: Bearer; $ACCESS_TOKEN works too.", Condition: "only when the webhook has an access token"},
		{Placeholder: "${<SECRET>}", Description: "The value of a team secret granted to the webhook; $<SECRET> works too.", Condition: "only for secrets granted to the webhook"},
	}
}
