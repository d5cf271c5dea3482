package models

import "github.com/automations-dev/automations/models/redact"

// Redact removes every form of the secret values r holds from all the text
// of the attempt that came from or went to the endpoint: the URL, request
// headers and body (a payload can carry a secret through event data too),
// the response headers and body, and the error (Slack's error code is read
// from the response). Run it before the attempt is stored (DESIGN.md §13).
func (a *DeliveryAttempt) Redact(r *redact.Redactor) {
	for _, s := range []*string{&a.RequestURL, &a.RequestHeaders, &a.RequestBody, &a.ResponseHeaders, &a.Error} {
		*s = r.String(*s)
	}
	if a.ResponseTruncated {
		a.ResponseBody = r.Truncated(a.ResponseBody)
	} else {
		a.ResponseBody = r.String(a.ResponseBody)
	}
}
