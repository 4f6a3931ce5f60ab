package handler_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/citizen-city/chengguantong/docs"
	"github.com/citizen-city/chengguantong/handler"
)

// TestOpenAPIMatchesRoutes keeps the document and the router in step: the
// document served (docs/openapi.json, generated from docs/openapi.yaml) is
// valid OpenAPI 3, every registered route is documented and
// every documented operation is registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPIJSON())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3: %v", err)
	}
	e := handler.New(handler.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	param := regexp.MustCompile(`:([a-z_]+)`)
	registered := map[string]bool{}
	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Method, "echo_route_") || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		registered[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	for _, k := range sorted(registered) {
		if !documented[k] && !strings.HasPrefix(k, http.MethodHead+" ") {
			t.Errorf("route %s is not in docs/openapi.yaml", k)
		}
	}
	for _, k := range sorted(documented) {
		if !registered[k] {
			t.Errorf("docs/openapi.yaml documents %s, which is not registered", k)
		}
	}
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
