package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

// Error is a failure with a message safe to show and the field it is about;
// Cause is logged, never shown.
type Error struct {
	Status  int
	Message string
	Field   string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

func newError(status int, field, message string) *Error {
	return &Error{Status: status, Field: field, Message: message}
}

// Classify turns any error into a status and a safe message: validation
// errors say what to fix, not-found and forbidden say so, anything else is
// a 500 with a generic message (and internal is true so the cause is logged).
func Classify(err error) (e *Error, internal bool) {
	var he *Error
	var ve *models.ValidationError
	var ce *models.ConflictError
	var ee *echo.HTTPError
	switch {
	case errors.As(err, &he):
		return he, he.Status >= 500
	case errors.As(err, &ve):
		return &Error{Status: http.StatusUnprocessableEntity, Field: ve.Field, Message: ve.Message, Cause: err}, false
	case errors.As(err, &ce):
		return &Error{Status: http.StatusConflict, Field: ce.Field, Message: ce.Message, Cause: err}, false
	case errors.Is(err, models.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Message: "Not found", Cause: err}, false
	case errors.Is(err, models.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Message: "You do not have permission to do that.", Cause: err}, false
	case errors.As(err, &ee):
		msg, ok := ee.Message.(string)
		if !ok || ee.Code >= 500 {
			msg = http.StatusText(ee.Code)
		}
		return &Error{Status: ee.Code, Message: msg, Cause: err}, ee.Code >= 500
	}
	return &Error{Status: http.StatusInternalServerError, Message: "Something went wrong on our side. It has been logged.", Cause: err}, true
}

// Forbidden is the error for a role check that failed.
func Forbidden() error {
	return newError(http.StatusForbidden, "", "You do not have permission to do that.")
}

// fieldErrors turns a validation or conflict error into form errors; ok is
// false for any other error, which the caller returns as is.
// flashRefusal shows a refused change (a validation or conflict error, such
// as a delete refused while something uses the item) as error flashes, and
// reports whether err was one; the caller then redirects back.
func (h *Handler) flashRefusal(c echo.Context, err error) bool {
	errs, _, ok := fieldErrors(err)
	for _, msg := range errs {
		h.flash(c, "error", msg)
	}
	return ok
}

func fieldErrors(err error) (map[string]string, int, bool) {
	errs, status := map[string]string{}, 0
	walkErrors(err, func(e error) {
		var field, msg string
		code := http.StatusUnprocessableEntity
		switch x := e.(type) {
		case *models.ValidationError:
			field, msg = x.Field, x.Message
		case *models.ConflictError:
			field, msg, code = x.Field, x.Message, http.StatusConflict
		default:
			return
		}
		if _, seen := errs[field]; !seen {
			errs[field] = msg
		}
		if status != http.StatusConflict {
			status = code // a conflict (a name taken) decides the status
		}
	})
	if len(errs) == 0 {
		return nil, 0, false
	}
	return errs, status, true
}

// walkErrors calls f on err and every error it wraps, joined ones
// included, in order (models' validation joins one error per field).
func walkErrors(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch x := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			walkErrors(e, f)
		}
	case interface{ Unwrap() error }:
		walkErrors(x.Unwrap(), f)
	}
}
