package models_test

import (
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
)

// Messages quote at most ExcerptLength characters of what a user typed,
// cut on a character boundary and marked.
func TestExcerptShortensLongInput(t *testing.T) {
	short := strings.Repeat("é", models.ExcerptLength)
	if got := models.Excerpt(short); got != short {
		t.Errorf("Excerpt of %d characters changed it: %q", models.ExcerptLength, got)
	}
	long := strings.Repeat("é", models.ExcerptLength+1)
	if got := models.Excerpt(long); got != short+"…" {
		t.Errorf("Excerpt of a long input = %q", got)
	}
	err := models.ValidateName("name", strings.Repeat("x", 500)+"!")
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("a 501-character bad name gives %d characters of message", len(err.Error()))
	}
}
