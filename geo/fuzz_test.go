package geo

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseGrids checks the GeoJSON grid upload parser on arbitrary bytes:
// it never panics; it fails with a *GridError whose message is Chinese and
// names the feature; or every grid it returns has its three properties and
// a shape that passes the validity checks, in range, in WGS-84.
func FuzzParseGrids(f *testing.F) {
	f.Add([]byte(fc(okFeat)))
	f.Add([]byte(`{"type":"FeatureCollection","coord_type":"gcj02","features":[` + okFeat + `]}`))
	f.Add([]byte(fc(feat("A", poly(okRing, holeRing)), feat("B", `{"type":"MultiPolygon","coordinates":[[`+okRing+`]]}`))))
	f.Add([]byte(fc(feat("P", `{"type":"Point","coordinates":[118.27,33.96]}`))))
	f.Add([]byte(fc(feat("S", poly(`[[0,0],[1,1],[1,0],[0,1],[0,0]]`)))))
	f.Add([]byte(fc(feat("T", poly(`[[0,0],[1],[1,1],[0,0]]`)))))
	f.Add([]byte(`{"type":"FeatureCollection","features":{}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		grids, err := ParseGrids(data)
		if err != nil {
			var ge *GridError
			if !errors.As(err, &ge) {
				t.Fatalf("not a *GridError: %v", err)
			}
			if !hasHan(ge.Msg) {
				t.Fatalf("message %q is not Chinese", ge.Msg)
			}
			if ge.Index >= 0 && (ge.Field() == "" || !strings.HasPrefix(ge.Error(), ge.Field())) {
				t.Fatalf("error %q does not name its feature %q", ge.Error(), ge.Field())
			}
			return
		}
		if len(grids) == 0 {
			t.Fatal("no error and no grids")
		}
		seen := map[string]bool{}
		for _, g := range grids {
			if strings.TrimSpace(g.Code) == "" || strings.TrimSpace(g.Name) == "" || strings.TrimSpace(g.Community) == "" {
				t.Fatalf("grid without its properties: %+v", g)
			}
			if seen[g.Code] {
				t.Fatalf("duplicate code %q accepted", g.Code)
			}
			seen[g.Code] = true
			if err := checkTopology(g.Shape); err != nil {
				t.Fatalf("invalid shape accepted: %v", err)
			}
			for _, p := range g.Shape {
				for _, r := range p {
					for _, pt := range r {
						if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.Abs(pt[0]) > 181 || math.Abs(pt[1]) > 91 {
							t.Fatalf("position %v out of range", pt)
						}
					}
				}
			}
		}
	})
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
