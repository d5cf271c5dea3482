package models_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/automations-dev/automations/models"
)

// The worker's read of an event's variables gives what the full event
// load gives, for each event an artifact log writes (the version and its
// alias), and ErrNotFound for an event that does not exist.
func TestEventPayloadVarsMatchesTheEvent(t *testing.T) {
	f := newArtifactFixture(t)
	f.log(t, "resnet", "production")
	events := f.events(t)
	if len(events) != 2 {
		t.Fatalf("%d events, want CREATE_ARTIFACT and ADD_ARTIFACT_ALIAS", len(events))
	}
	for _, ev := range events {
		got, err := models.EventPayloadVars(context.Background(), f.db, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := ev.PayloadVars(""); !reflect.DeepEqual(got, want) {
			t.Errorf("event %d (%s):\n got %+v\nwant %+v", ev.ID, ev.Type, got, want)
		}
		if got.ArtifactMetadata == nil || got.EventType != ev.Type {
			t.Errorf("event %d: metadata %v, event type %q", ev.ID, got.ArtifactMetadata, got.EventType)
		}
	}
	if _, err := models.EventPayloadVars(context.Background(), f.db, events[1].ID+1000); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("a missing event: %v, want ErrNotFound", err)
	}
}
