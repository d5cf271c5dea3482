package views

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// ListNav is where a paged list is and how it is filtered: every page link
// keeps the filters.
type ListNav struct {
	// Path is the list's page (or fragment) without a query.
	Path string
	// Query is the search text, State the state filter (history lists).
	Query string
	State string
	// Page counts from 1; More says an older page exists.
	Page int
	More bool
}

// URL is page n of the list with the same filters.
func (n ListNav) URL(page int) string {
	v := url.Values{}
	if n.Query != "" {
		v.Set("q", n.Query)
	}
	if n.State != "" {
		v.Set("state", n.State)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return n.Path
	}
	return n.Path + "?" + v.Encode()
}

// Filtered reports whether a search or filter narrows the list.
func (n ListNav) Filtered() bool { return n.Query != "" || n.State != "" }

// timeText is t in the reader's zone (loc), or in UTC saying so.
func timeText(t time.Time, loc *time.Location) string {
	if loc == nil || loc == time.UTC {
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

func utcAttr(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// actionVals tells a row's poll, Redeliver and Retry now which list kind
// the row is in (static/app.js adds whether it is open).
func actionVals(scope bool) string { return pollVals(scope, "") }

// pollVals is actionVals for a row's poll, which also carries the code of
// the action that started it (its notice stays while the row refreshes).
func pollVals(scope bool, done string) string {
	v := map[string]string{}
	if scope {
		v["scope"] = "1"
	}
	if done != "" {
		v["done"] = done
	}
	b, _ := json.Marshal(v) // a map of strings always encodes
	return string(b)
}

func overridesText(raw []byte) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	return prettyJSON(string(raw))
}

// agentCommand is the command that runs an agent on a queue.
func agentCommand(p QueueProps) string {
	return "automations agent --queue " + p.Team.Name + "/" + p.Queue.Name + " --url " + p.BaseURL + " --api-key $AUTOMATIONS_API_KEY -- CMD [ARGS]"
}
