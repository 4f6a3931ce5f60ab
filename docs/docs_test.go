package docs_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/citizen-city/chengguantong/docs"
	"github.com/citizen-city/chengguantong/docs/internal/openapijson"
)

// TestOpenAPIJSONIsCurrent fails when docs/openapi.json, which the server
// serves, is not what `go generate ./docs/` makes of docs/openapi.yaml.
func TestOpenAPIJSONIsCurrent(t *testing.T) {
	yaml, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := openapijson.FromYAML(yaml)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs.OpenAPIJSON(), want) {
		t.Fatal("docs/openapi.json is out of date with docs/openapi.yaml: run go generate ./docs/ and commit openapi.json")
	}
}
