package payload

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Compiled is a template parsed once to be rendered many times: the JSON
// structure and literal text are kept as ready-escaped bytes between the
// placeholders, so a render appends them and the placeholders' values
// without re-reading the template. Render and RenderRedacted compile
// first; a worker keeps the compiled form of each automation revision.
type Compiled struct {
	ops  []op
	size int // bytes of literal output, to size the render's buffer
	// secrets is whether a placeholder may resolve to a secret or the
	// access token (see UsesSecrets).
	secrets bool
}

type opKind uint8

const (
	opLiteral opKind = iota // lit as is
	opInside                // a placeholder inside a JSON string
	opWhole                 // a string value that is exactly "${name}"
)

type op struct {
	kind   opKind
	lit    []byte
	name   string
	braced bool
	raw    string
	// inner renders an opWhole as a string, for a name that is neither
	// metadata nor the version index.
	inner []op
}

// Compile checks that template is one JSON value and parses it for
// rendering. Placeholders are resolved at render time, against what the
// webhook grants then.
func Compile(template string) (*Compiled, error) {
	template = orEmptyObject(template)
	if err := checkJSON(template); err != nil {
		return nil, err
	}
	c := &Compiled{}
	flushed := 0
	str := func(dst []byte, s string, key bool) ([]byte, error) {
		if len(dst) > flushed {
			c.ops = appendLiteral(c.ops, dst[flushed:])
		}
		flushed = len(dst)
		inner, err := compileString(s)
		if err != nil {
			return dst, err
		}
		if !key && isWholePlaceholder(s) {
			c.ops = append(c.ops, op{kind: opWhole, name: s[2 : len(s)-1], inner: inner})
		} else {
			c.ops = append(c.ops, inner...)
		}
		return dst, nil
	}
	tail, err := walk(nil, template, str)
	if err != nil {
		return nil, err
	}
	if len(tail) > flushed {
		c.ops = appendLiteral(c.ops, tail[flushed:])
	}
	for _, o := range c.ops {
		c.size += len(o.lit)
		c.secrets = c.secrets || maySecret(o)
	}
	return c, nil
}

// UsesSecrets reports whether a placeholder of the template may resolve to
// a secret or the access token. When it does not, Render and
// RenderRedacted produce the same bytes, so a caller that needs both
// renders once.
func (c *Compiled) UsesSecrets() bool { return c.secrets }

// maySecret reports whether o (or a placeholder inside it) may resolve to
// a secret or the access token: anything but a braced documented variable
// or metadata/config key, which never do (see checker.bind).
func maySecret(o op) bool {
	switch o.kind {
	case opInside:
		return !o.braced || !(isVariable(o.name) || strings.HasPrefix(o.name, metadataPrefix) || strings.HasPrefix(o.name, runConfigPrefix))
	case opWhole:
		if !(isVariable(o.name) || strings.HasPrefix(o.name, metadataPrefix) || strings.HasPrefix(o.name, runConfigPrefix)) {
			return true
		}
		for _, in := range o.inner {
			if maySecret(in) {
				return true
			}
		}
	}
	return false
}

// isWholePlaceholder reports whether a string value may render typed:
// it is exactly one braced placeholder.
func isWholePlaceholder(s string) bool {
	return len(s) > 3 && strings.HasPrefix(s, "${") && strings.IndexByte(s, '}') == len(s)-1
}

// compileString parses one JSON string of the template, quotes included.
func compileString(s string) ([]op, error) {
	ops := []op{{kind: opLiteral, lit: []byte{'"'}}}
	err := scan(s,
		func(text string) error {
			ops = appendLiteral(ops, appendEscaped(nil, text))
			return nil
		},
		func(name string, braced bool, raw string) error {
			ops = append(ops, op{kind: opInside, name: name, braced: braced, raw: raw})
			return nil
		})
	return appendLiteral(ops, []byte{'"'}), err
}

// appendLiteral adds lit, merged into the previous op when that is a literal too.
func appendLiteral(ops []op, lit []byte) []op {
	if n := len(ops); n > 0 && ops[n-1].kind == opLiteral {
		ops[n-1].lit = append(ops[n-1].lit, lit...)
		return ops
	}
	return append(ops, op{kind: opLiteral, lit: append([]byte(nil), lit...)})
}

// Render is [Render] of the compiled template.
func (c *Compiled) Render(v Vars, secrets map[string]string, accessToken string) ([]byte, error) {
	names := make([]string, 0, len(secrets))
	for name := range secrets {
		names = append(names, name)
	}
	r := &renderer{chk: checker{hasToken: accessToken != "", granted: names}, vars: &v, secrets: secrets, token: accessToken}
	return r.appendOps(make([]byte, 0, c.size+256), c.ops)
}

// RenderRedacted is [RenderRedacted] of the compiled template.
func (c *Compiled) RenderRedacted(v Vars, secretNames []string) ([]byte, error) {
	r := &renderer{chk: checker{hasToken: true, granted: secretNames}, vars: &v, redact: true}
	return r.appendOps(make([]byte, 0, c.size+256), c.ops)
}

// RenderSentRedacted renders again, redacted, a body that was sent: the
// same output as RenderRedacted with the secret names granted when it was
// sent. A body that rendered without error had every placeholder that is
// no variable bound to a granted secret, so each such placeholder is
// shown as [Redacted] whatever the webhook grants today. Delivery history
// uses it for successful attempts, which are stored without their body.
func (c *Compiled) RenderSentRedacted(v Vars) ([]byte, error) {
	r := &renderer{chk: checker{hasToken: true, anySecret: true}, vars: &v, redact: true}
	return r.appendOps(make([]byte, 0, c.size+256), c.ops)
}

func (r *renderer) appendOps(dst []byte, ops []op) ([]byte, error) {
	for i := range ops {
		o := &ops[i]
		switch o.kind {
		case opLiteral:
			dst = append(dst, o.lit...)
		case opInside:
			b, err := r.chk.bind(o.name, o.braced)
			if err != nil {
				return dst, err
			}
			if dst, err = r.appendValue(dst, b, o.raw); err != nil {
				return dst, err
			}
		case opWhole:
			b, err := r.chk.bind(o.name, true)
			if err != nil {
				return dst, err
			}
			switch {
			case b.kind == bindMeta || b.kind == bindRunConfig:
				dst, err = r.appendTypedMetadata(dst, b)
			case b.kind == bindVar && b.name == varArtifactVersionIndex:
				dst = strconv.AppendInt(dst, int64(r.vars.ArtifactVersionIndex), 10)
			case b.kind == bindVar && numeric(b.name):
				// Stored as JSON number text by the event; null when unset.
				if text := r.vars.text(b.name); text != "" && json.Valid([]byte(text)) {
					dst = append(dst, text...)
				} else {
					dst = append(dst, "null"...)
				}
			default:
				dst, err = r.appendOps(dst, o.inner)
			}
			if err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}
