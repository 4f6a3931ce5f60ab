// Package docs embeds the maintainer documents the server serves: the
// OpenAPI document of the HTTP API, as JSON prepared at build time.
//
// docs/openapi.yaml is the document maintainers edit; docs/openapi.json is
// generated from it by `go generate ./docs/` and committed. TestOpenAPIJSONIsCurrent
// fails when the JSON is out of date with the YAML, and the handler's
// TestOpenAPIMatchesRoutes when a route and the document disagree.
package docs

import _ "embed"

//go:generate go run gen_openapi.go

//go:embed openapi.json
var openapiJSON []byte

// OpenAPIJSON returns the OpenAPI document as JSON, for /openapi.json: the
// bytes of docs/openapi.json, which callers must not change.
func OpenAPIJSON() []byte {
	return openapiJSON
}
