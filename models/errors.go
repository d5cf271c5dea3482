package models

import (
	"errors"
	"fmt"
	"regexp"

	"gorm.io/gorm"
)

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// ErrForbidden is returned when the acting user may not do what was asked.
var ErrForbidden = errors.New("forbidden")

// ValidationError is bad input with a message safe to show beside Field.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Invalid builds a ValidationError.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ConflictError is a request that clashes with existing state (a duplicate
// name, removing the last admin); Message is safe to show.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Message }

// Conflict builds a ConflictError.
func Conflict(field, format string, args ...any) error {
	return &ConflictError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// notFound maps gorm's record-not-found to ErrNotFound, wrapping what was sought.
func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("load %s: %w", what, err)
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// NameRule says which names are accepted, for error messages and form hints.
const NameRule = "use letters, digits, '-', '_' and '.', start with a letter or digit, at most 64 characters"

// ValidateName checks a team, project, registry or collection name.
func ValidateName(field, name string) error {
	if name == "" {
		return Invalid(field, "is required")
	}
	if !namePattern.MatchString(name) {
		return Invalid(field, "%q is not a valid name: %s", Excerpt(name), NameRule)
	}
	return nil
}
