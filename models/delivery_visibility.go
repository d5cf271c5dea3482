package models

import (
	"strconv"
	"strings"
)

// DeliveryDetail is how much of a delivery's history a viewer may read.
type DeliveryDetail int

const (
	// DeliverySummary is state, times, attempt count, HTTP status and an
	// error class: nothing an endpoint wrote, nothing naming the endpoint.
	DeliverySummary DeliveryDetail = iota
	// DeliveryFull adds the endpoint URL, request headers and body,
	// response headers and body, and the (redacted) error text.
	DeliveryFull
)

// DeliveryDetailFor says what u may read of deliveries through an
// integration owned by a team in which u has integrationTeamRole (RoleNone
// when not a member): everything for site admins and that team's admins,
// the summary for everyone else who may view the automation (DESIGN.md §13).
func DeliveryDetailFor(u *User, integrationTeamRole Role) DeliveryDetail {
	if u != nil && (u.SiteAdmin || integrationTeamRole == RoleAdmin) {
		return DeliveryFull
	}
	return DeliverySummary
}

// VisibleDeliveries is the one place delivery history is cut down to what
// a viewer may read: every page, fragment and API answer showing
// deliveries or attempts passes through it (or VisibleDelivery).
func VisibleDeliveries(detail DeliveryDetail, ds []DeliveryWithAttempts) []DeliveryWithAttempts {
	out := make([]DeliveryWithAttempts, len(ds))
	for i, d := range ds {
		out[i].Delivery = VisibleDelivery(detail, d.Delivery)
		out[i].AttemptList = make([]DeliveryAttempt, len(d.AttemptList))
		for j, a := range d.AttemptList {
			out[i].AttemptList[j] = visibleAttempt(detail, a)
		}
	}
	return out
}

// VisibleDelivery is a delivery without its attempts as detail allows.
func VisibleDelivery(detail DeliveryDetail, d Delivery) Delivery {
	d.LastErrorClass = ErrorClass(d.LastStatus, d.LastError)
	if detail != DeliveryFull {
		d.LastError = ""
	}
	return d
}

func visibleAttempt(detail DeliveryDetail, a DeliveryAttempt) DeliveryAttempt {
	a.ErrorClass = ErrorClass(a.ResponseStatus, a.Error)
	if detail == DeliveryFull {
		return a
	}
	return DeliveryAttempt{
		ID: a.ID, DeliveryID: a.DeliveryID, Number: a.Number, StartedAt: a.StartedAt, DurationMS: a.DurationMS,
		ResponseStatus: a.ResponseStatus, Outcome: a.Outcome, NextAttemptAt: a.NextAttemptAt, ErrorClass: a.ErrorClass,
	}
}

// errorClasses name what went wrong without repeating anything the
// endpoint or the network said, first match wins. History stores the error
// as text, so the class is read from the wording our own code gives it
// (jobs, jobs/sender, jobs/slackclient), not from the endpoint's.
var errorClasses = []struct{ class, phrase string }{
	{"ssrf blocked", "blocked by ssrf protection"},
	{"invalid url", "webhook url "},
	{"timeout", "deadline exceeded"},
	{"timeout", "timeout"},
	{"connection refused", "connection refused"},
	{"connection reset", "connection reset"},
	{"dns lookup failed", "no such host"},
	{"tls error", "tls"},
	{"tls error", "x509"},
	{"too many redirects", "too many redirects"},
	{"rate limited", "slack rate limit"},
	{"slack error", "slack answered"},
	{"interrupted", "interrupted by worker shutdown"},
	{"integration deleted", "was deleted"},
	{"payload error", "render payload"},
}

// ErrorClass is an attempt's error as a viewer without detail sees it:
// "http <status>" for an answer outside 2xx, else a class such as
// "timeout" or "connection refused", "error" for anything else, "" for
// success.
func ErrorClass(status *int, errText string) string {
	if status != nil && (*status < 200 || *status > 299) {
		return "http " + strconv.Itoa(*status)
	}
	if errText == "" {
		return ""
	}
	lower := strings.ToLower(errText)
	for _, c := range errorClasses {
		if strings.Contains(lower, c.phrase) {
			return c.class
		}
	}
	return "error"
}
