//go:build ignore

// gen_openapi writes openapi.json from openapi.yaml: run by
// `go generate ./docs/` after every change to openapi.yaml.
package main

import (
	"log"
	"os"

	"github.com/citizen-city/chengguantong/docs/internal/openapijson"
)

func main() {
	yaml, err := os.ReadFile("openapi.yaml")
	if err != nil {
		log.Fatal(err)
	}
	out, err := openapijson.FromYAML(yaml)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("openapi.json", out, 0o644); err != nil {
		log.Fatal(err)
	}
}
