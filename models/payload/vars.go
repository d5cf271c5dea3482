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
)

// EventTypes returns every event type, in the order the wizard lists them.
func EventTypes() []EventType {
	return []EventType{CreateArtifact, AddArtifactAlias, LinkArtifact}
}

// Valid reports whether e is one of the defined event types.
func (e EventType) Valid() bool {
	switch e {
	case CreateArtifact, AddArtifactAlias, LinkArtifact:
		return true
	}
	return false
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
	accessTokenName           = "ACCESS_TOKEN"
)

// variableNames lists the plain documented variables, used for lookup and for
// "did you mean" suggestions.
var variableNames = []string{
	varProjectName, varEntityName, varEventType, varEventAuthor,
	varArtifactCollectionName, varArtifactVersion, varArtifactVersionString,
	varArtifactVersionIndex, varAutomationName, varAlias,
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
	}
	return ""
}

// Variables lists the documented variables with one-line descriptions, in
// the order the wizard shows them.
func Variables() []VariableDoc {
	return []VariableDoc{
		{Placeholder: "${project_name}", Description: "The name of the project that owns the mutation that triggered the action (wandb-registry-<registry> for registry events)."},
		{Placeholder: "${entity_name}", Description: "The name of the team that owns the mutation that triggered the action (the organization for registry events)."},
		{Placeholder: "${event_type}", Description: "The type of event that triggered the action: CREATE_ARTIFACT, ADD_ARTIFACT_ALIAS or LINK_ARTIFACT."},
		{Placeholder: "${event_author}", Description: "The user that triggered the action."},
		{Placeholder: "${artifact_collection_name}", Description: "The name of the artifact collection that the artifact version is linked to."},
		{Placeholder: "${artifact_metadata.<KEY>}", Description: "The value of a top-level metadata key of the artifact version; alone in a string value it keeps its JSON type."},
		{Placeholder: "${artifact_version}", Description: "The Wandb.Artifact reference of the artifact version: wandb-artifact://_id/<id>."},
		{Placeholder: "${artifact_version_string}", Description: "The artifact version as <entity>/<project>/<collection>:<alias or vN>."},
		{Placeholder: "${artifact_version_index}", Description: "The version number N of vN; alone in a string value it renders as a JSON number."},
		{Placeholder: "${automation_name}", Description: "The name of the automation that fired."},
		{Placeholder: "${alias}", Description: "The alias that was added.", Events: []EventType{AddArtifactAlias}},
		{Placeholder: "${ACCESS_TOKEN}", Description: "The webhook's access token, also sent as Authorization: Bearer; $ACCESS_TOKEN works too.", Condition: "only when the webhook has an access token"},
		{Placeholder: "${<SECRET>}", Description: "The value of a team secret granted to the webhook; $<SECRET> works too.", Condition: "only for secrets granted to the webhook"},
	}
}
