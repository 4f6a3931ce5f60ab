// Package docs embeds the maintainer documents the server serves: the
// OpenAPI document of the HTTP API.
package docs

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI parses the embedded OpenAPI document.
func OpenAPI() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapiYAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	return doc, nil
}

// OpenAPIJSON returns the document as JSON, for /openapi.json. The document
// is validated by a test, so a failure here is a build defect.
func OpenAPIJSON() []byte {
	doc, err := OpenAPI()
	if err != nil {
		panic(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Errorf("marshal openapi: %w", err))
	}
	return b
}
