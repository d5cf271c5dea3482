package web

import (
	"errors"
	"net/url"
	"testing"

	"github.com/automations-dev/automations/handlers"
)

// Every string and object key of a JSON body is checked, and the first bad
// one is reported by its path.
func TestJSONTextProblemNamesThePath(t *testing.T) {
	cases := []struct {
		name, doc, field, problem string
	}{
		{"clean", `{"name": "ok", "rows": [{"name": "é ☃ \u00e9"}], "n": 1, "b": true, "z": null}`, "", ""},
		{"escaped NUL at top level", `{"name": "a\u0000b"}`, "name", "contains a NUL byte"},
		{"raw invalid UTF-8", "{\"description\": \"caf\xe9\"}", "description", "is not valid UTF-8"},
		{"nested object", `{"action": {"type": "webhook", "payload": "{\"x\": \"\u0000\"}"}}`, "action.payload", "contains a NUL byte"},
		{"array of objects", `{"rows": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "\u0000"}]}`, "rows[3].name", "contains a NUL byte"},
		{"array of strings", `{"aliases": ["prod", "x\u0000"]}`, "aliases[1]", "contains a NUL byte"},
		{"nested arrays", `{"m": [[1, 2], ["a", "\u0000"]]}`, "m[1][1]", "contains a NUL byte"},
		{"after a nested value", `{"a": {"b": [1, {"c": "x"}]}, "d": "\u0000"}`, "d", "contains a NUL byte"},
		{"bad key", `{"overrides": {"k\u0000": 1}}`, `overrides.k\0`, "has a key that contains a NUL byte"},
		{"invalid UTF-8 key", "{\"o\": {\"\xff\": 1}}", "o.\uFFFD", "has a key that is not valid UTF-8"},
		{"string at the root", `"\u0000"`, "", "contains a NUL byte"},
		{"array at the root", `["ok", "\u0000"]`, "[1]", "contains a NUL byte"},
		{"a replacement character itself is fine", `{"name": "\ufffd"}`, "", ""},
		{"NUL in a number-free body that is not JSON", "{\"name\": \x00}", "", ""},
		{"not JSON", `name=x`, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			field, problem := jsonTextProblem([]byte(c.doc))
			if field != c.field || problem != c.problem {
				t.Fatalf("jsonTextProblem(%q) = %q, %q; want %q, %q", c.doc, field, problem, c.field, c.problem)
			}
		})
	}
}

// Form and query values and their names are checked, in name order.
func TestCheckValuesNamesTheField(t *testing.T) {
	cases := []struct {
		name   string
		values url.Values
		field  string
	}{
		{"clean", url.Values{"name": {"ok"}, "description": {"é"}}, ""},
		{"NUL value", url.Values{"name": {"ok"}, "description": {"a\x00"}}, "description"},
		{"invalid UTF-8 in a second value", url.Values{"secrets": {"A", "B\xff"}}, "secrets"},
		{"first in name order", url.Values{"z": {"\x00"}, "a": {"\x00"}}, "a"},
		{"bad name", url.Values{"n\x00": {"v"}}, `n\0`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkValues(c.values)
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want a refusal on %s", c.field)
			}
			he := asHandlerError(t, err)
			if he.Status != 422 || he.Field != c.field {
				t.Fatalf("refusal %d on %q, want 422 on %q", he.Status, he.Field, c.field)
			}
		})
	}
}

func asHandlerError(t *testing.T, err error) *handlers.Error {
	t.Helper()
	var he *handlers.Error
	if !errors.As(err, &he) {
		t.Fatalf("%v is not a handlers.Error", err)
	}
	return he
}
