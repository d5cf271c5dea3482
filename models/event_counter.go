package models

import (
	"sync/atomic"

	"gorm.io/gorm"
)

// eventCounter is a gorm plugin holding who counts the events recorded
// through one *gorm.DB (web/metrics' automations_events_total). Events
// are written with raw SQL on the hot path, which gorm's create callbacks
// never see, so RecordEvent and recordAndQueue report them here.
type eventCounter struct {
	count atomic.Pointer[func(eventType string)]
}

const eventCounterName = "automations:event_counter"

func (*eventCounter) Name() string              { return eventCounterName }
func (*eventCounter) Initialize(*gorm.DB) error { return nil }

// CountEventsWith makes count receive the type of every event recorded
// through db from now on, at insert, inside the change's transaction (a
// transaction rolled back afterwards is still counted, which happens only
// on errors). A later call replaces count: a second server on the same
// *gorm.DB (tests) takes counting over instead of counting twice.
func CountEventsWith(db *gorm.DB, count func(eventType string)) error {
	c, ok := db.Config.Plugins[eventCounterName].(*eventCounter)
	if !ok {
		c = &eventCounter{}
		if err := db.Use(c); err != nil {
			return err
		}
	}
	c.count.Store(&count)
	return nil
}

// countEvent reports one recorded event of type typ.
func countEvent(db *gorm.DB, typ string) {
	if c, ok := db.Config.Plugins[eventCounterName].(*eventCounter); ok {
		if f := c.count.Load(); f != nil {
			(*f)(typ)
		}
	}
}
