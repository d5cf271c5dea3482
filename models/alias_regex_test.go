package models_test

import (
	"errors"
	"testing"

	"github.com/automations-dev/automations/models"
)

// An alias regex matches whole aliases only, and text that would close the
// anchoring group (`prod)|(?:zzz`) is refused instead of matching anything.
func TestAliasRegexMatchesWholeAliasOnly(t *testing.T) {
	cases := []struct {
		expr    string
		invalid bool
		match   []string
		noMatch []string
	}{
		{expr: "prod)|(?:zzz", invalid: true},
		{expr: "(?:prod", invalid: true},
		{expr: "prod(", invalid: true},
		{expr: `prod\`, invalid: true},
		{expr: "", invalid: true},
		{expr: "prod", match: []string{"prod"}, noMatch: []string{"production", "preprod", "xxx", ""}},
		{expr: "prod|staging", match: []string{"prod", "staging"}, noMatch: []string{"prod-1", "stagingx", "xstaging", "xxx"}},
		{expr: `v\d+`, match: []string{"v1", "v42"}, noMatch: []string{"v", "v1a", "av1"}},
		{expr: "staging|prod(-v[0-9]+)?", match: []string{"staging", "prod", "prod-v2"}, noMatch: []string{"prod-v", "staging-v2"}},
		// A shorter leftmost alternative must not hide a whole-alias match.
		{expr: "a|ab", match: []string{"a", "ab"}, noMatch: []string{"abc"}},
		{expr: "(a|ab)(c|bcd)", match: []string{"abcd", "ac", "abc"}, noMatch: []string{"abcdx"}},
		{expr: "^(prod|staging)$", match: []string{"prod"}, noMatch: []string{"prodx"}},
		{expr: `\Qa.b`, match: []string{"a.b"}, noMatch: []string{"axb"}},
		{expr: ".*", match: []string{"", "anything"}},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			p, err := models.CompileAliasRegex(c.expr)
			if c.invalid {
				var ve *models.ValidationError
				if !errors.As(err, &ve) || ve.Field != "event.alias_regex" {
					t.Fatalf("CompileAliasRegex(%q) = %v, want a validation error on event.alias_regex", c.expr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range c.match {
				if !p.Match(a) {
					t.Errorf("%q does not match %q", c.expr, a)
				}
			}
			for _, a := range c.noMatch {
				if p.Match(a) {
					t.Errorf("%q matches %q", c.expr, a)
				}
			}
		})
	}
}
