// Package static embeds the stylesheet, htmx and icons into the binary.
package static

import "embed"

// Files are served under /static/.
//
//go:embed *.css *.js *.LICENSE VENDORED.md
var Files embed.FS
