// Package payload validates and renders webhook payload templates.
//
// A template is JSON text. Inside any JSON string, key or value, it may use
// placeholders:
//
//   - ${variable}: a documented variable (see [Variables]), such as
//     ${project_name} or ${artifact_metadata.accuracy}, the webhook's
//     ${ACCESS_TOKEN}, or ${NAME} for a secret granted to the webhook. A
//     documented variable wins over a secret of the same name; ACCESS_TOKEN
//     always means the webhook's access token.
//   - $NAME: a bare name ($ then [A-Za-z_][A-Za-z0-9_]*, longest match). It
//     resolves only to ACCESS_TOKEN or a granted secret, and is checked
//     exactly like ${NAME}: any other bare name is an error (with a "did you
//     mean" hint, e.g. ${project_name} for $project_name), never text sent
//     as written. A $ not followed by a letter, _, { or $ is text, so
//     "costs $5" survives. A secret whose name starts with a digit is
//     written ${1NAME}.
//   - $$: a literal $. It is the only escape: "$${project_name}" renders the
//     text ${project_name} and "$$GITHUB_TOKEN" the text $GITHUB_TOKEN.
//
// # Validation
//
// [Validate] is run when an automation is saved. The template must be one
// JSON value (typically an object; an empty template means {}), and every
// placeholder must be known and apply: ${alias} only to ADD_ARTIFACT_ALIAS
// events, ACCESS_TOKEN only when the webhook has an access token, a secret
// only when it is granted to the webhook (its signing secret and access
// token's secret count as granted: see models.Webhook.PayloadContext).
// Metadata keys are not checked because they differ from version to
// version. Errors are [*ValidationError] values whose message names the
// placeholder and is safe to show.
//
// # Rendering rule
//
// [Render] parses the template with encoding/json's token stream (UseNumber)
// and re-emits it token by token: key order, duplicate keys and number text
// are kept as written, insignificant whitespace is dropped, and string escapes
// are normalised. Because the document's structure comes only from the
// template's tokens, the output is always valid JSON whatever the values:
//
//   - Inside a JSON string each placeholder is replaced by its value's text and
//     the whole string is JSON-escaped on output, so quotes, backslashes,
//     control characters, newlines, U+2028/U+2029 or text such as
//     `"}, "admin": true` in a value stay inside that string and cannot add
//     keys. Substitution is single pass: a value containing ${event_type} or
//     $ACCESS_TOKEN is emitted as that text, never expanded.
//   - Placeholders are found in the string's decoded text, so a template
//     may spell $ as \u0024; to keep a $ literal, write $$.
//   - Invalid UTF-8 in a value is replaced by U+FFFD, value by value.
//   - A string VALUE (not a key) that is exactly one ${artifact_metadata.KEY}
//     placeholder takes the metadata value with its JSON type: a number, bool,
//     null, object or array is emitted as JSON (compacted, key order and
//     number text kept), a string as a string, and a key this version's
//     metadata lacks as null. A value that is exactly ${artifact_version_index}
//     is emitted as a number.
//   - Anywhere else, a metadata string substitutes as its text, other metadata
//     as its compact JSON text, and a missing metadata key as "".
//
// [RenderRedacted] renders the same body with every secret and the access
// token shown as [Redacted]; it is what delivery history stores and the test
// panel shows, and it never sees a secret's value. Unlike Render it shows
// ${ACCESS_TOKEN} as [Redacted] even when no token is set.
//
// Everything here is a pure function of its arguments: no database, no
// shared state, safe for concurrent use.
package payload
