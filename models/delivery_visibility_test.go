package models_test

import (
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
)

func TestDeliveryDetailFor(t *testing.T) {
	site, person := &models.User{SiteAdmin: true}, &models.User{}
	cases := []struct {
		name string
		u    *models.User
		role models.Role
		want models.DeliveryDetail
	}{
		{"site admin outside the team", site, models.RoleNone, models.DeliveryFull},
		{"admin of the integration's team", person, models.RoleAdmin, models.DeliveryFull},
		{"member of the integration's team", person, models.RoleMember, models.DeliverySummary},
		{"viewer of the integration's team", person, models.RoleViewer, models.DeliverySummary},
		{"registry or project viewer outside the team", person, models.RoleNone, models.DeliverySummary},
	}
	for _, c := range cases {
		if got := models.DeliveryDetailFor(c.u, c.role); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestVisibleDeliveriesKeepOnlyTheSummaryForNonAdmins(t *testing.T) {
	status, now := 500, time.Now()
	d := models.DeliveryWithAttempts{
		Delivery: models.Delivery{UID: "dlv_1", State: models.DeliveryFailed, Attempts: 1, LastStatus: &status,
			LastError: "the endpoint answered 500 with echo", CreatedAt: now},
		AttemptList: []models.DeliveryAttempt{{Number: 1, StartedAt: now, DurationMS: 12, ResponseStatus: &status, Outcome: "failed",
			RequestURL: "https://hooks.example.com/x", RequestHeaders: "Authorization: Bearer ••••", RequestBody: `{"a":1}`,
			ResponseHeaders: "X-Echo: 1", ResponseBody: "echo", ResponseTruncated: true, Error: "the endpoint answered 500"}},
	}
	full := models.VisibleDeliveries(models.DeliveryFull, []models.DeliveryWithAttempts{d})[0]
	if a := full.AttemptList[0]; a.ResponseBody != "echo" || a.RequestURL == "" || a.Error == "" || a.ErrorClass != "http 500" || full.LastError == "" {
		t.Errorf("full detail lost something: %+v", full)
	}
	sum := models.VisibleDeliveries(models.DeliverySummary, []models.DeliveryWithAttempts{d})[0]
	a := sum.AttemptList[0]
	if a.RequestURL != "" || a.RequestHeaders != "" || a.RequestBody != "" || a.ResponseHeaders != "" || a.ResponseBody != "" || a.Error != "" || a.ResponseTruncated || sum.LastError != "" {
		t.Errorf("the summary shows detail: %+v %q", a, sum.LastError)
	}
	if a.Number != 1 || a.DurationMS != 12 || a.ResponseStatus == nil || *a.ResponseStatus != 500 || a.Outcome != "failed" || a.ErrorClass != "http 500" ||
		sum.State != models.DeliveryFailed || sum.Attempts != 1 || sum.LastErrorClass != "http 500" || !sum.CreatedAt.Equal(now) {
		t.Errorf("the summary lost what every viewer sees: %+v %+v", a, sum.Delivery)
	}
	if d.AttemptList[0].ResponseBody != "echo" {
		t.Error("VisibleDeliveries changed its input")
	}
}

func TestErrorClass(t *testing.T) {
	ok, s500, s302 := 200, 500, 302
	cases := []struct {
		status *int
		err    string
		want   string
	}{
		{&ok, "", ""},
		{&s500, "the endpoint answered 500 Internal Server Error", "http 500"},
		{&s302, "", "http 302"},
		{nil, "sending webhook: dial tcp 127.0.0.1:9: connect: connection refused", "connection refused"},
		{nil, "sending webhook: context deadline exceeded", "timeout"},
		{nil, "sending webhook: blocked by SSRF protection: 10.0.0.1 is a private address", "ssrf blocked"},
		{nil, "webhook URL must use http or https", "invalid url"},
		{nil, "sending webhook: dial tcp: lookup nowhere.invalid: no such host", "dns lookup failed"},
		{nil, "Slack answered channel_not_found", "slack error"},
		{nil, "something else the endpoint said: secret", "error"},
	}
	for _, c := range cases {
		if got := models.ErrorClass(c.status, c.err); got != c.want {
			t.Errorf("ErrorClass(%v, %q) = %q, want %q", c.status, c.err, got, c.want)
		}
	}
}
