// Package openapi holds the OpenAPI 3.1 description of the JSON API under
// /api/v1 (DESIGN.md §11) and serves it. The document is written by hand
// next to the handlers it describes; web's TestOpenAPI* tests keep it equal
// to the route table and check real answers against it.
package openapi

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Document is openapi.json, embedded so the binary serves the description
// of the very API it implements.
//
//go:embed openapi.json
var Document []byte

// Serve answers GET /api/v1/openapi.json. It needs no sign-in: the
// description is public, only the API behind it is not.
func Serve(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, Document)
}
