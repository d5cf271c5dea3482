package models

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/payload"
)

// SentBodyRendersAgain says whether a finished attempt's request body may
// be left out of its record: a webhook delivery's body is its revision's
// template (never changed) rendered with its event's variables (never
// changed), so history renders it again, redacted (fillSentBodies). Only
// successes leave it out: they are nearly every attempt, and a body that
// failed to render or was refused is kept as sent (redacted) to debug.
func SentBodyRendersAgain(actionType string, state DeliveryState) bool {
	return actionType == ActionWebhook && state == DeliverySucceeded
}

// fillSentBodies puts back the request body of the successful webhook
// attempts stored without one, rendered again from the delivery's revision
// and event with every secret and the access token redacted: the body
// history stored before bodies were left out (payload RenderSentRedacted).
func fillSentBodies(ctx context.Context, db *gorm.DB, ds []DeliveryWithAttempts) error {
	var revIDs, eventIDs []int64
	for _, d := range ds {
		for _, a := range d.AttemptList {
			if a.RequestBody == "" && SentBodyRendersAgain(d.ActionType, DeliveryState(a.Outcome)) {
				revIDs, eventIDs = append(revIDs, d.RevisionID), append(eventIDs, d.EventID)
				break
			}
		}
	}
	if len(revIDs) == 0 {
		return nil
	}
	var revs []AutomationRevision
	if err := db.WithContext(ctx).Select("id, payload_template").Where("id IN ?", revIDs).Find(&revs).Error; err != nil {
		return fmt.Errorf("delivery history: read revisions: %w", err)
	}
	templates := map[int64]*payload.Compiled{}
	for _, r := range revs {
		if c, err := payload.Compile(r.PayloadTemplate); err == nil {
			templates[r.ID] = c
		}
	}
	var events []Event
	if err := db.WithContext(ctx).Select("id, payload").Where("id IN ?", eventIDs).Find(&events).Error; err != nil {
		return fmt.Errorf("delivery history: read events: %w", err)
	}
	byID := map[int64]*Event{}
	for i := range events {
		if json.Unmarshal([]byte(events[i].Payload), &events[i].Vars) == nil {
			byID[events[i].ID] = &events[i]
		}
	}
	for i := range ds {
		d := &ds[i]
		tpl, ev := templates[d.RevisionID], byID[d.EventID]
		if tpl == nil || ev == nil {
			continue // shown empty: nothing to render it from
		}
		for j := range d.AttemptList {
			a := &d.AttemptList[j]
			if a.RequestBody != "" || !SentBodyRendersAgain(d.ActionType, DeliveryState(a.Outcome)) {
				continue
			}
			if body, err := tpl.RenderSentRedacted(ev.PayloadVars(d.AutomationName)); err == nil {
				a.RequestBody = string(body)
			}
		}
	}
	return nil
}
