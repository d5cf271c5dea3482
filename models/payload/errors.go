package payload

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrorKind classifies a [ValidationError] so callers and tests need not
// match messages.
type ErrorKind int

// The kinds of template errors.
const (
	// InvalidJSON: the template is not one JSON value.
	InvalidJSON ErrorKind = iota + 1
	// MalformedPlaceholder: ${ without }, an empty ${}, or
	// ${artifact_metadata} without a key.
	MalformedPlaceholder
	// UnknownVariable: ${name} is neither a variable nor a granted secret.
	UnknownVariable
	// NotApplicable: the variable exists but not for this automation:
	// ${alias} outside ADD_ARTIFACT_ALIAS, ACCESS_TOKEN without a token.
	NotApplicable
	// SecretNotGranted: a secret-like name the webhook is not granted.
	SecretNotGranted
	// UnknownEventType: the context names an event type that does not exist.
	UnknownEventType
)

// ValidationError is a template error with a message a user can act on. The
// message names the offending placeholder and never contains a secret value.
type ValidationError struct {
	Kind        ErrorKind
	Message     string
	Placeholder string // as written, e.g. "${alias}" or "$GITHUB_TOKEN"; empty for InvalidJSON
	// Line and Column (1-based, in characters) locate an InvalidJSON error.
	Line, Column int
}

func (e *ValidationError) Error() string { return e.Message }

// maxShownName caps how much of a placeholder name an error message repeats,
// so a megabyte-long ${...} does not become a megabyte-long message.
const maxShownName = 64

// shown returns name as it may appear in a message: at most maxShownName
// characters, control and invalid characters replaced by U+FFFD.
func shown(name string) string {
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == maxShownName {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// placeholderText writes a name the way the template wrote it.
func placeholderText(name string, braced bool) string {
	if braced {
		return "${" + shown(name) + "}"
	}
	return "$" + shown(name)
}

// position returns the 1-based line and column (counted in characters) of
// byte offset off in s.
func position(s string, off int) (line, col int) {
	off = min(max(off, 0), len(s))
	before := s[:off]
	line = 1 + strings.Count(before, "\n")
	start := strings.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCountInString(before[start:])
}
