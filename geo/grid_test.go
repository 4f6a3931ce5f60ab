package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// square returns a closed, counter-clockwise rectangular ring.
func square(minLng, minLat, maxLng, maxLat float64) orb.Ring {
	return orb.Ring{{minLng, minLat}, {maxLng, minLat}, {maxLng, maxLat}, {minLng, maxLat}, {minLng, minLat}}
}

// collection renders grids as a GeoJSON FeatureCollection. If coordType is
// not empty it is written as the top-level "coord_type" member.
func collection(t testing.TB, coordType string, grids ...Grid) []byte {
	t.Helper()
	fc := geojson.NewFeatureCollection()
	if coordType != "" {
		fc.ExtraMembers = geojson.Properties{"coord_type": coordType}
	}
	for _, g := range grids {
		var geom orb.Geometry = g.Shape
		if len(g.Shape) == 1 {
			geom = g.Shape[0]
		}
		f := geojson.NewFeature(geom)
		f.Properties["code"] = g.Code
		f.Properties["name"] = g.Name
		f.Properties["community"] = g.Community
		fc.Append(f)
	}
	data, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseGrids(t *testing.T) {
	outer := square(118.270, 33.960, 118.273, 33.963)
	hole := square(118.2712, 33.9612, 118.2718, 33.9618)
	want := []Grid{
		{Code: "A", Name: "网格一", Community: "幸福社区", Shape: orb.MultiPolygon{{outer, hole}}},
		{Code: "B", Name: "网格二", Community: "幸福社区", Shape: orb.MultiPolygon{
			{square(118.273, 33.960, 118.276, 33.963)},
			{square(118.280, 33.960, 118.281, 33.961)},
		}},
	}

	for _, coordType := range []string{"", CoordTypeWGS84} {
		got, err := ParseGrids(collection(t, coordType, want...))
		if err != nil {
			t.Fatalf("coord_type %q: %v", coordType, err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d grids, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].Code != want[i].Code || got[i].Name != want[i].Name || got[i].Community != want[i].Community {
				t.Errorf("grid %d = %+v, want %+v", i, got[i], want[i])
			}
			if !got[i].Shape.Equal(want[i].Shape) {
				t.Errorf("grid %d shape = %v, want %v", i, got[i].Shape, want[i].Shape)
			}
		}
	}
}

func TestParseGridsAcceptsVariants(t *testing.T) {
	data := `{
		"type": "FeatureCollection",
		"coord_type": null,
		"name": "宿城区网格",
		"features": [{
			"type": "Feature",
			"id": 7,
			"properties": {"code": "A", "name": "n", "community": "c", "area": 12.5},
			"geometry": {"type": "Polygon", "coordinates": [[
				[118.270, 33.960, 12], [118.273, 33.960, 12], [118.273, 33.960, 12],
				[118.273, 33.963, 12], [118.270, 33.963, 12], [118.270, 33.960, 12]
			]]}
		}]
	}`
	grids, err := ParseGrids([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(grids) != 1 || len(grids[0].Shape) != 1 || len(grids[0].Shape[0][0]) != 6 {
		t.Fatalf("got %+v", grids)
	}
	if got := grids[0].Shape[0][0][1]; got != (orb.Point{118.273, 33.960}) {
		t.Errorf("altitude not dropped: %v", got)
	}
}

func TestParseGridsConvertsGCJ02(t *testing.T) {
	wgs := square(118.270, 33.960, 118.273, 33.963)
	gcj := make(orb.Ring, len(wgs))
	for i, pt := range wgs {
		g := WGS84ToGCJ02(Point{Lat: pt[1], Lng: pt[0]})
		gcj[i] = orb.Point{g.Lng, g.Lat}
	}
	data := collection(t, CoordTypeGCJ02, Grid{Code: "A", Name: "n", Community: "c", Shape: orb.MultiPolygon{{gcj}}})

	grids, err := ParseGrids(data)
	if err != nil {
		t.Fatal(err)
	}
	got := grids[0].Shape[0][0]
	for i := range wgs {
		want := GCJ02ToWGS84(Point{Lat: gcj[i][1], Lng: gcj[i][0]})
		if got[i] != (orb.Point{want.Lng, want.Lat}) {
			t.Errorf("vertex %d = %v, want GCJ02ToWGS84 of the input %v", i, got[i], want)
		}
		if d := DistanceMeters(Point{Lat: got[i][1], Lng: got[i][0]}, Point{Lat: wgs[i][1], Lng: wgs[i][0]}); d > 0.001 {
			t.Errorf("vertex %d is %.4f m from the original WGS-84 vertex", i, d)
		}
	}
	if got[0] != got[len(got)-1] {
		t.Error("converted ring is no longer closed")
	}
}

func TestGridErrorFormat(t *testing.T) {
	tests := []struct {
		err  GridError
		want string
	}{
		{GridError{Index: -1, Msg: "FeatureCollection 中没有任何 feature"}, "FeatureCollection 中没有任何 feature"},
		{GridError{Index: 3, Msg: `缺少属性 "code"`}, `features[3] 缺少属性 "code"`},
		{GridError{Index: 1, Code: "宿城-01", Msg: "缺少 geometry"}, `features[1]（code "宿城-01"）缺少 geometry`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// fc wraps feature JSON in a FeatureCollection.
func fc(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

// feat builds a feature with the given code and geometry JSON.
func feat(code, geometry string) string {
	return fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":"n","community":"c"},"geometry":%s}`, code, geometry)
}

// poly builds Polygon geometry JSON from rings written as JSON arrays.
func poly(rings ...string) string {
	return `{"type":"Polygon","coordinates":[` + strings.Join(rings, ",") + `]}`
}

const (
	okRing   = `[[118.270,33.960],[118.273,33.960],[118.273,33.963],[118.270,33.963],[118.270,33.960]]`
	okFeat   = `{"type":"Feature","properties":{"code":"OK","name":"n","community":"c"},"geometry":{"type":"Polygon","coordinates":[` + okRing + `]}}`
	holeRing = `[[118.271,33.961],[118.272,33.961],[118.272,33.962],[118.271,33.962],[118.271,33.961]]`
)

// longRing returns a closed ring JSON array with n positions on a circle.
func longRing(n int) string {
	pts := make([]string, n)
	for i := range n - 1 {
		a := 2 * math.Pi * float64(i) / float64(n-1)
		pts[i] = fmt.Sprintf("[%.9f,%.9f]", 118.27+0.01*math.Cos(a), 33.96+0.01*math.Sin(a))
	}
	pts[n-1] = pts[0]
	return "[" + strings.Join(pts, ",") + "]"
}

func TestParseGridsErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		index int
		code  string
		msg   string // expected substring of the message
	}{
		// The collection.
		{"not JSON", `{"type":`, -1, "", "不是 GeoJSON 对象"},
		{"JSON array", `[]`, -1, "", "不是 GeoJSON 对象"},
		{"JSON null", `null`, -1, "", "不是 GeoJSON 对象"},
		{"a Feature", okFeat, -1, "", "不是 FeatureCollection"},
		{"no type", `{"features":[` + okFeat + `]}`, -1, "", "不是 FeatureCollection"},
		{"wrong type case", `{"type":"featurecollection","features":[` + okFeat + `]}`, -1, "", "不是 FeatureCollection"},
		{"coord_type bd09", `{"type":"FeatureCollection","coord_type":"bd09","features":[` + okFeat + `]}`,
			-1, "", `"coord_type" 必须是 "wgs84" 或 "gcj02"，不能是 "bd09"`},
		{"coord_type upper case", `{"type":"FeatureCollection","coord_type":"GCJ02","features":[` + okFeat + `]}`,
			-1, "", `"coord_type" 必须是`},
		{"coord_type number", `{"type":"FeatureCollection","coord_type":2,"features":[` + okFeat + `]}`,
			-1, "", `"coord_type" 必须是`},
		{"features missing", `{"type":"FeatureCollection"}`, -1, "", "没有任何 feature"},
		{"features null", `{"type":"FeatureCollection","features":null}`, -1, "", "没有任何 feature"},
		{"features empty", fc(), -1, "", "没有任何 feature"},
		{"features object", `{"type":"FeatureCollection","features":{}}`, -1, "", `"features" 必须是数组`},

		// The feature itself.
		{"feature not an object", fc(okFeat, `5`), 1, "", "不是 Feature：必须是 JSON 对象"},
		{"feature null", fc(`null`), 0, "", "不是 Feature：必须是 JSON 对象"},
		{"feature wrong type", fc(`{"type":"Place","properties":{"code":"X"}}`), 0, "X", "不是有效的 GeoJSON Feature"},
		{"unknown geometry type", fc(feat("X", `{"type":"Circle","coordinates":[1,2]}`)), 0, "X", "不是有效的 GeoJSON Feature"},
		{"malformed coordinates", fc(feat("X", `{"type":"Polygon","coordinates":[1,2]}`)), 0, "X", "不是有效的 GeoJSON Feature"},

		// Properties.
		{"properties null", fc(`{"type":"Feature","properties":null,"geometry":` + poly(okRing) + `}`),
			0, "", `缺少属性 "code"`},
		{"code missing", fc(`{"type":"Feature","properties":{"name":"n","community":"c"},"geometry":` + poly(okRing) + `}`),
			0, "", `缺少属性 "code"`},
		{"code number", fc(`{"type":"Feature","properties":{"code":12,"name":"n","community":"c"},"geometry":` + poly(okRing) + `}`),
			0, "", `属性 "code" 必须是字符串，不能是数字`},
		{"code blank", fc(feat(" ", poly(okRing))), 0, "", `属性 "code" 为空`},
		{"name missing", fc(`{"type":"Feature","properties":{"code":"X","community":"c"},"geometry":` + poly(okRing) + `}`),
			0, "X", `缺少属性 "name"`},
		{"name null", fc(`{"type":"Feature","properties":{"code":"X","name":null,"community":"c"},"geometry":` + poly(okRing) + `}`),
			0, "X", `缺少属性 "name"`},
		{"community boolean", fc(`{"type":"Feature","properties":{"code":"X","name":"n","community":true},"geometry":` + poly(okRing) + `}`),
			0, "X", `属性 "community" 必须是字符串，不能是布尔值`},
		{"community object", fc(`{"type":"Feature","properties":{"code":"X","name":"n","community":{}},"geometry":` + poly(okRing) + `}`),
			0, "X", `属性 "community" 必须是字符串，不能是对象`},
		{"duplicate code", fc(feat("X", poly(okRing)), okFeat, feat("X", poly(okRing))),
			2, "X", "code 重复，已被 features[0] 使用"},

		// Geometry type.
		{"geometry absent", fc(`{"type":"Feature","properties":{"code":"X","name":"n","community":"c"}}`),
			0, "X", "缺少 geometry"},
		{"geometry null", fc(feat("X", `null`)), 0, "X", "缺少 geometry"},
		{"geometry point", fc(feat("X", `{"type":"Point","coordinates":[118.27,33.96]}`)),
			0, "X", "不支持 geometry 类型 Point"},
		{"geometry line", fc(feat("X", `{"type":"LineString","coordinates":[[118.27,33.96],[118.28,33.97]]}`)),
			0, "X", "不支持 geometry 类型 LineString"},
		{"geometry collection", fc(feat("X", `{"type":"GeometryCollection","geometries":[`+poly(okRing)+`]}`)),
			0, "X", "不支持 geometry 类型 GeometryCollection"},
		{"polygon without rings", fc(feat("X", `{"type":"Polygon","coordinates":[]}`)), 0, "X", "第 0 个多边形没有环"},
		{"multipolygon without polygons", fc(feat("X", `{"type":"MultiPolygon","coordinates":[]}`)), 0, "X", "geometry 没有多边形"},
		{"multipolygon with empty polygon", fc(feat("X", `{"type":"MultiPolygon","coordinates":[[`+okRing+`],[]]}`)),
			0, "X", "第 1 个多边形没有环"},

		// Ring structure.
		{"ring with 3 positions", fc(feat("X", poly(`[[118.27,33.96],[118.28,33.96],[118.27,33.96]]`))),
			0, "X", "第 0 个多边形的第 0 个环有 3 个坐标点，至少需要 4 个"},
		{"hole with 2 positions", fc(feat("X", poly(okRing, `[[118.271,33.961],[118.271,33.961]]`))),
			0, "X", "第 0 个多边形的第 1 个环有 2 个坐标点，至少需要 4 个"},
		{"ring too long", fc(feat("X", poly(longRing(MaxRingPositions+1)))),
			0, "X", "第 0 个多边形的第 0 个环有 10001 个坐标点，上限是 10000 个"},
		{"ring not closed", fc(feat("X", poly(`[[118.270,33.960],[118.273,33.960],[118.273,33.963],[118.270,33.963]]`))),
			0, "X", "第 0 个多边形的第 0 个环没有闭合"},
		{"second polygon not closed", fc(feat("X", `{"type":"MultiPolygon","coordinates":[[`+okRing+`],[[[1,1],[2,1],[2,2],[1,2.1]]]]}`)),
			0, "X", "第 1 个多边形的第 0 个环没有闭合"},

		// Coordinate values.
		{"longitude out of range", fc(feat("X", poly(`[[181,33.96],[181.1,33.96],[181.1,33.97],[181,33.96]]`))),
			0, "X", "第 0 个多边形的第 0 个环第 0 个坐标点 [181, 33.96] 超出范围"},
		{"latitude out of range", fc(feat("X", poly(`[[118.27,33.96],[118.28,33.96],[118.28,-91],[118.27,33.96]]`))),
			0, "X", "第 0 个多边形的第 0 个环第 2 个坐标点 [118.28, -91] 超出范围"},
		{"swapped lat/lng", fc(feat("X", poly(`[[33.96,118.27],[33.97,118.27],[33.97,118.28],[33.96,118.27]]`))),
			0, "X", "超出范围"},
		{"position with one number", fc(feat("X", poly(`[[118.27,33.96],[118.28],[118.28,33.97],[118.27,33.96]]`))),
			0, "X", "第 0 个多边形的第 0 个环第 1 个坐标点只有 1 个数，需要经度和纬度"},
		{"empty position in a multipolygon", fc(feat("X", `{"type":"MultiPolygon","coordinates":[[`+okRing+`],[`+okRing+`,[[118.271,33.961],[],[118.272,33.962],[118.271,33.961]]]]}`)),
			0, "X", "第 1 个多边形的第 1 个环第 1 个坐标点只有 0 个数"},
		{"number overflow", fc(feat("X", poly(`[[1e999,33.96],[118.28,33.96],[118.28,33.97],[1e999,33.96]]`))),
			0, "X", "不是有效的 GeoJSON Feature"},

		// Ring geometry.
		{"zero area", fc(feat("X", poly(`[[118.27,33.96],[118.28,33.97],[118.29,33.98],[118.27,33.96]]`))),
			0, "X", "第 0 个多边形的第 0 个环面积为零"},
		{"all positions equal", fc(feat("X", poly(`[[118.27,33.96],[118.27,33.96],[118.27,33.96],[118.27,33.96]]`))),
			0, "X", "第 0 个多边形的第 0 个环面积为零"},
		{"bow tie", fc(feat("X", poly(`[[118.270,33.960],[118.273,33.963],[118.273,33.960],[118.270,33.962],[118.270,33.960]]`))),
			0, "X", "第 0 个多边形的第 0 个环自相交：从第 0 个坐标点"},
		{"figure eight touching at a vertex", fc(feat("X", poly(`[[0,0],[2,0],[1,1],[2,2],[0,2],[1,1],[0,0]]`))),
			0, "X", "第 0 个多边形的第 0 个环自相交"},
		{"spike", fc(feat("X", poly(`[[0,0],[2,0],[3,0],[2,0],[2,2],[0,2],[0,0]]`))),
			0, "X", "第 0 个多边形的第 0 个环自相交：在第 2 个坐标点 [3, 0] 处折返"},
		{"edge overlapping a later edge", fc(feat("X", poly(`[[0,0],[4,0],[4,2],[3,0],[2,0],[2,3],[0,3],[0,0]]`))),
			0, "X", "第 0 个多边形的第 0 个环自相交"},
		{"self-intersecting hole", fc(feat("X", poly(okRing, `[[118.271,33.961],[118.272,33.962],[118.272,33.961],[118.271,33.9615],[118.271,33.961]]`))),
			0, "X", "第 0 个多边形的第 1 个环自相交"},
		{"zero-area hole", fc(feat("X", poly(okRing, `[[118.271,33.961],[118.272,33.961],[118.271,33.961],[118.271,33.961]]`))),
			0, "X", "第 0 个多边形的第 1 个环面积为零"},
		{"hole outside", fc(feat("X", poly(okRing, `[[118.280,33.961],[118.281,33.961],[118.281,33.962],[118.280,33.962],[118.280,33.961]]`))),
			0, "X", "第 0 个多边形的第 1 个环是洞，但不在外环（第 0 个多边形的第 0 个环）之内"},
		{"hole crossing the outer ring", fc(feat("X", poly(okRing, `[[118.271,33.961],[118.275,33.961],[118.275,33.962],[118.271,33.962],[118.271,33.961]]`))),
			0, "X", "第 0 个多边形的第 1 个环是洞，但不在外环"},
		{"hole poking out between vertices", fc(feat("X", poly(
			`[[0,0],[4,0],[4,4],[2,1],[0,4],[0,0]]`,    // concave outer ring
			`[[1,2],[3,2],[2.9,2.3],[1,2.3],[1,2]]`))), // vertices inside, middle outside
			0, "X", "是洞，但不在外环"},
		{"hole spanning a notch between two touching points", fc(feat("X", poly(
			`[[0,0],[4,0],[4,4],[2,1],[0,4],[0,0]]`,
			`[[1,2.5],[2,0.5],[3,2.5],[1,2.5]]`))), // vertices inside or on the ring, top edge outside
			0, "X", "是洞，但不在外环"},
		{"hole through an outer vertex", fc(feat("X", poly(
			`[[0,0],[4,0],[4,4],[0,4],[0,0]]`,
			`[[2,2],[4,4],[5,3],[2,2]]`))),
			0, "X", "是洞，但不在外环"},
		{"error in second feature names it", fc(okFeat, feat("B-2", `null`)), 1, "B-2", "缺少 geometry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grids, err := ParseGrids([]byte(tt.input))
			if err == nil {
				t.Fatalf("ParseGrids succeeded with %d grids, want an error containing %q", len(grids), tt.msg)
			}
			var ge *GridError
			if !errors.As(err, &ge) {
				t.Fatalf("error %v (%T) is not a *GridError", err, err)
			}
			if ge.Index != tt.index || ge.Code != tt.code {
				t.Errorf("Index, Code = %d, %q; want %d, %q (error: %v)", ge.Index, ge.Code, tt.index, tt.code, err)
			}
			if !strings.Contains(ge.Msg, tt.msg) {
				t.Errorf("Msg = %q, want it to contain %q", ge.Msg, tt.msg)
			}
			if grids != nil {
				t.Errorf("got grids %v along with the error", grids)
			}
		})
	}
}

// NaN and infinities cannot be written in JSON, so the check is tested
// directly on the validator.
func TestCheckPositionsRejectsNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		ring := square(118.270, 33.960, 118.273, 33.963)
		ring[2] = orb.Point{118.273, bad}
		err := checkPositions(orb.MultiPolygon{{ring}})
		if err == nil || !strings.Contains(err.Error(), "第 0 个多边形的第 0 个环第 2 个坐标点不是有限的数") {
			t.Errorf("coordinate %v: err = %v", bad, err)
		}
	}
}

func TestParseGridsAcceptsValidShapes(t *testing.T) {
	tests := []struct {
		name string
		geom string
	}{
		{"clockwise ring", poly(`[[0,0],[0,2],[2,2],[2,0],[0,0]]`)},
		{"repeated consecutive positions", poly(`[[0,0],[2,0],[2,0],[2,2],[0,2],[0,0],[0,0]]`)},
		{"collinear vertices", poly(`[[0,0],[1,0],[2,0],[2,2],[0,2],[0,0]]`)},
		{"concave", poly(`[[0,0],[4,0],[4,4],[2,1],[0,4],[0,0]]`)},
		{"hole touching the outer ring", poly(`[[0,0],[4,0],[4,4],[0,4],[0,0]]`, `[[0,2],[2,1],[2,3],[0,2]]`)},
		{"two holes", poly(`[[0,0],[4,0],[4,4],[0,4],[0,0]]`, `[[1,1],[1.5,1],[1.5,1.5],[1,1]]`, `[[3,3],[3.5,3],[3.5,3.5],[3,3]]`)},
		{"thin sliver", poly(`[[118.27,33.96],[118.28,33.97],[118.28,33.9700001],[118.27,33.96]]`)},
		{"10000 positions", poly(longRing(MaxRingPositions))},
	}
	for _, tt := range tests {
		if _, err := ParseGrids([]byte(fc(feat("X", tt.geom)))); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
