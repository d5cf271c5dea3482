package views

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
)

// ProjectURL is a project's page (its artifacts).
func ProjectURL(team, project string) string {
	return "/projects/" + url.PathEscape(team) + "/" + url.PathEscape(project)
}

// ProjectCollectionURL is a project collection's page.
func ProjectCollectionURL(team, project, collection string) string {
	return ProjectURL(team, project) + "/artifacts/" + url.PathEscape(collection)
}

// RegistryURL is a registry's page (its collections).
func RegistryURL(registry string) string { return "/registries/" + url.PathEscape(registry) }

// RegistryCollectionURL is a registry collection's page.
func RegistryCollectionURL(registry, collection string) string {
	return RegistryURL(registry) + "/collections/" + url.PathEscape(collection)
}

// VersionURL is a version's page under its collection's page; ref is vN or an alias.
func VersionURL(collectionURL, ref string) string { return collectionURL + "/" + url.PathEscape(ref) }

// prettyJSON indents a stored JSON document for display.
func prettyJSON(raw string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(raw), "", "  "); err != nil {
		return raw
	}
	return buf.String()
}

func shortDigest(d string) string {
	if len(d) > 12 {
		return d[:12] + "…"
	}
	return d
}

// AutomationURL is an automation's details page.
func AutomationURL(id int64) string { return "/automations/" + strconv.FormatInt(id, 10) }
