// Package openapijson turns docs/openapi.yaml, the OpenAPI document
// maintainers edit, into docs/openapi.json, the document the server serves
// at /openapi.json. It runs at build time only (go generate ./docs/ and the
// test that keeps the two files in step), so the YAML parser and the
// OpenAPI validator stay out of the server binary.
package openapijson

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// FromYAML parses an OpenAPI 3 document in YAML, checks it is valid, and
// returns it as indented JSON ending in a newline — byte for byte what
// docs/openapi.json must hold. Errors: the document does not parse or is
// not valid OpenAPI 3.
func FromYAML(yaml []byte) ([]byte, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(yaml)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not valid OpenAPI 3: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Indented, and <, > and & as they are: the file is read in diffs.
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("marshal openapi: %w", err)
	}
	return buf.Bytes(), nil
}
