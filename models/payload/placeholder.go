package payload

import (
	"fmt"
	"strings"
)

// bindKind says where a placeholder's value comes from.
type bindKind uint8

const (
	bindVar       bindKind = iota // a plain documented variable; name is its name
	bindMeta                      // ${artifact_metadata.KEY}; name is KEY
	bindRunConfig                 // ${run_config.KEY}; name is KEY
	bindSecret                    // a granted secret; name is the secret's name
	bindToken                     // ACCESS_TOKEN
)

type binding struct {
	kind bindKind
	name string
}

// scan walks a decoded JSON string. It calls lit for each run of literal text
// and ph for each placeholder, in order; raw is the placeholder's source text
// ("${name}" or "$name"). $$ reaches lit as a single $.
func scan(s string, lit func(string) error, ph func(name string, braced bool, raw string) error) error {
	start := 0 // start of the pending literal text
	i := 0
	for {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 || i+j+1 >= len(s) {
			break
		}
		j += i
		switch c := s[j+1]; {
		case c == '$':
			if err := lit(s[start : j+1]); err != nil {
				return err
			}
			i = j + 2
			start = i
		case c == '{':
			k := strings.IndexByte(s[j+2:], '}')
			if k < 0 {
				return &ValidationError{
					Kind:        MalformedPlaceholder,
					Message:     fmt.Sprintf("unterminated placeholder %q: add the closing } (or write $$ for a literal $)", shown(s[j:])),
					Placeholder: shown(s[j:]),
				}
			}
			end := j + 2 + k
			if err := flush(lit, s[start:j]); err != nil {
				return err
			}
			if err := ph(s[j+2:end], true, s[j:end+1]); err != nil {
				return err
			}
			i = end + 1
			start = i
		case isNameStart(c):
			end := j + 2
			for end < len(s) && isNameChar(s[end]) {
				end++
			}
			if err := flush(lit, s[start:j]); err != nil {
				return err
			}
			if err := ph(s[j+1:end], false, s[j:end]); err != nil {
				return err
			}
			i = end
			start = i
		default:
			i = j + 1
		}
	}
	return flush(lit, s[start:])
}

func flush(lit func(string) error, s string) error {
	if s == "" {
		return nil
	}
	return lit(s)
}

func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameChar(c byte) bool { return isNameStart(c) || '0' <= c && c <= '9' }

// secretLike reports whether name looks like a secret rather than a
// variable: upper-case letters, digits and _ with at least one letter
// (secret names may start with a digit; such a name needs braces).
func secretLike(name string) bool {
	if name == "" {
		return false
	}
	letter := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'A' <= c && c <= 'Z':
			letter = true
		case c == '_' || '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return letter
}

// checker decides what a placeholder refers to and whether it applies.
type checker struct {
	event    EventType // empty: the event is not known, skip event checks
	hasToken bool
	granted  []string
	// anySecret treats every name that is no variable as a granted
	// secret (RenderSentRedacted).
	anySecret bool
}

func (c *checker) isGranted(name string) bool {
	if c.anySecret {
		return true
	}
	for _, g := range c.granted {
		if g == name {
			return true
		}
	}
	return false
}

// bind resolves one placeholder, ${name} when braced, else $name.
func (c *checker) bind(name string, braced bool) (binding, error) {
	// Spelled out only for an error: bind runs for every placeholder of
	// every delivery, and almost all of them resolve.
	written := func() string { return placeholderText(name, braced) }
	notApplicable := func(msg string) error {
		w := written()
		return &ValidationError{Kind: NotApplicable, Message: w + " " + msg, Placeholder: w}
	}
	switch {
	case name == accessTokenName:
		// ACCESS_TOKEN takes precedence over a secret of the same name.
		if !c.hasToken {
			return binding{}, notApplicable("is available only when the webhook has an access token")
		}
		return binding{kind: bindToken}, nil
	case !braced:
		// $name is checked like ${name} (DESIGN.md §6): a bare name that is
		// no granted secret is an error, never text sent as written; $$ is
		// the way to write a literal $.
		if c.isGranted(name) {
			return binding{kind: bindSecret, name: name}, nil
		}
		return binding{}, c.unknown(name, false)
	case name == "":
		return binding{}, &ValidationError{Kind: MalformedPlaceholder, Message: "empty placeholder ${}: name a variable, e.g. ${project_name}", Placeholder: "${}"}
	case isVariable(name):
		switch {
		case c.event == "":
		case c.event.IsRun() && artifactOnly(name):
			return binding{}, notApplicable("is an artifact variable: it does not apply to " + string(c.event) + " events")
		case !c.event.IsRun() && runOnly(name):
			return binding{}, notApplicable("is a run variable: it does not apply to " + string(c.event) + " events")
		case c.event == RunState && metricOnly(name):
			return binding{}, notApplicable("applies only to metric events (RUN_METRIC, RUN_METRIC_CHANGE, RUN_METRIC_ZSCORE)")
		case name == varAlias && c.event != AddArtifactAlias:
			return binding{}, notApplicable("applies only to ADD_ARTIFACT_ALIAS events")
		}
		return binding{kind: bindVar, name: name}, nil
	case name == "artifact_metadata" || name == metadataPrefix:
		w := written()
		return binding{}, &ValidationError{Kind: MalformedPlaceholder, Message: w + " needs a metadata key: write ${artifact_metadata.<KEY>}", Placeholder: w}
	case name == "run_config" || name == runConfigPrefix:
		w := written()
		return binding{}, &ValidationError{Kind: MalformedPlaceholder, Message: w + " needs a config key: write ${run_config.<KEY>}", Placeholder: w}
	case strings.HasPrefix(name, metadataPrefix):
		if c.event.IsRun() {
			return binding{}, notApplicable("is an artifact variable: it does not apply to " + string(c.event) + " events")
		}
		return binding{kind: bindMeta, name: name[len(metadataPrefix):]}, nil
	case strings.HasPrefix(name, runConfigPrefix):
		if c.event != "" && !c.event.IsRun() {
			return binding{}, notApplicable("is a run variable: it does not apply to " + string(c.event) + " events")
		}
		return binding{kind: bindRunConfig, name: name[len(runConfigPrefix):]}, nil
	case c.isGranted(name):
		return binding{kind: bindSecret, name: name}, nil
	}
	return binding{}, c.unknown(name, true)
}

// unknown builds the error for a name that resolves to nothing.
func (c *checker) unknown(name string, braced bool) error {
	written := placeholderText(name, braced)
	hint := ""
	if s, isVar := c.suggest(name); s != "" {
		hint = "; did you mean " + placeholderText(s, braced || isVar) + "?"
	}
	if secretLike(name) && !isVariable(strings.ToLower(name)) {
		if hint == "" {
			hint = " (grant it in the webhook's settings, or write $" + written + " for a literal " + written + ")"
		}
		return &ValidationError{Kind: SecretNotGranted, Message: "secret " + written + " is not granted to this webhook" + hint, Placeholder: written}
	}
	if hint == "" {
		hint = ": not a payload variable or a secret granted to this webhook"
	}
	return &ValidationError{Kind: UnknownVariable, Message: "unknown variable " + written + hint, Placeholder: written}
}

// suggest returns the known name closest to name, and whether it is a
// variable (which only resolves braced), or "" if none is close.
func (c *checker) suggest(name string) (string, bool) {
	const maxLen = 80 // edit distance is quadratic; long names get no hint
	if len(name) > maxLen {
		return "", false
	}
	best, bestVar, bestDist := "", false, -1
	try := func(cand string, isVar bool) {
		d := distance(strings.ToLower(name), strings.ToLower(cand))
		if d > min(3, len(cand)/3) || bestDist >= 0 && d >= bestDist {
			return
		}
		best, bestVar, bestDist = cand, isVar, d
	}
	for _, v := range variableNames {
		try(v, true)
	}
	// A misspelt metadata prefix: suggest the same key under the right one.
	if dot := strings.IndexByte(name, '.'); dot > 0 && name[dot+1:] != "" {
		if d := distance(strings.ToLower(name[:dot+1]), metadataPrefix); d <= 3 && (bestDist < 0 || d < bestDist) {
			best, bestVar, bestDist = metadataPrefix+name[dot+1:], true, d
		}
	}
	if c.hasToken {
		try(accessTokenName, false)
	}
	for _, g := range c.granted {
		try(g, false)
	}
	return best, bestVar
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
