package models

import "slices"

// healedWebhooks are the webhooks whose finished attempts in results all
// succeeded: CompleteAttempts resets their failure streak itself, in the
// statement that records the batch, since that is all their health needs
// (the common batch then costs no other statement).
func healedWebhooks(results []AttemptResult) []int64 {
	healed := map[int64]bool{}
	for _, r := range results {
		if r.Integration.Kind != IntegrationWebhook || (r.State != DeliverySucceeded && r.State != DeliveryFailed) {
			continue
		}
		ok, seen := healed[r.Integration.ID]
		healed[r.Integration.ID] = (ok || !seen) && r.State == DeliverySucceeded
	}
	var ids []int64
	for id, ok := range healed {
		if ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// HealthOutcomes are the final outcomes of a recorded batch that
// CompleteAttempts has not already counted into their integration's
// health, for RecordIntegrationHealth: every outcome of an integration
// with a failure in the batch, and of Slack integrations.
func HealthOutcomes(results []AttemptResult) []IntegrationOutcome {
	healed := healedWebhooks(results)
	var out []IntegrationOutcome
	for _, r := range results {
		if r.Integration.Kind == "" || (r.State != DeliverySucceeded && r.State != DeliveryFailed) {
			continue
		}
		if r.Integration.Kind == IntegrationWebhook {
			if _, done := slices.BinarySearch(healed, r.Integration.ID); done {
				continue
			}
		}
		out = append(out, IntegrationOutcome{Ref: r.Integration, Failed: r.State == DeliveryFailed, At: r.Attempt.StartedAt})
	}
	return out
}
