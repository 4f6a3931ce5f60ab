package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Values of the top-level "coord_type" member of a grid FeatureCollection.
const (
	// CoordTypeWGS84 marks WGS-84 coordinates (GPS, the default).
	CoordTypeWGS84 = "wgs84"
	// CoordTypeGCJ02 marks GCJ-02 coordinates (AMap, Tencent Maps, WeChat).
	CoordTypeGCJ02 = "gcj02"
)

// MaxRingPositions is the largest number of positions ParseGrids accepts in a
// single ring. It bounds the cost of the quadratic validity checks.
const MaxRingPositions = 10_000

// Grid is a city-management grid (网格): the area one team looks after.
type Grid struct {
	Code      string // unique identifier, e.g. "321302001001"
	Name      string // display name
	Community string // community (社区) the grid belongs to
	// Shape is the grid area in WGS-84. Each orb.Point is {lng, lat}.
	Shape orb.MultiPolygon
}

// GridError describes why ParseGrids rejected its input. Its message is
// meant to be shown to the person who uploaded the file, in Simplified
// Chinese.
type GridError struct {
	// Index is the position of the offending feature in "features", or -1
	// when the problem concerns the whole collection.
	Index int
	// Code is the feature's "code" property, or "" if it is not known.
	Code string
	// Msg says what is wrong.
	Msg string
}

// Error formats e as `features[3]（code "X"）msg`, leaving out the parts
// that do not apply.
func (e *GridError) Error() string {
	switch {
	case e.Index < 0:
		return e.Msg
	case e.Code == "":
		return fmt.Sprintf("features[%d] %s", e.Index, e.Msg)
	default:
		return fmt.Sprintf("features[%d]（code %q）%s", e.Index, e.Code, e.Msg)
	}
}

// Field is the JSON path of the feature at fault (features[3]), or "" when
// the collection as a whole is.
func (e *GridError) Field() string {
	if e.Index < 0 {
		return ""
	}
	return fmt.Sprintf("features[%d]", e.Index)
}

// ParseGrids parses a GeoJSON FeatureCollection of grids.
//
// Every feature needs a Polygon or MultiPolygon geometry and the string
// properties "code" (unique within the collection), "name" and "community".
// A top-level member "coord_type": "gcj02" declares GCJ-02 coordinates, which
// are converted vertex by vertex to WGS-84 with GCJ02ToWGS84. A missing or
// null coord_type, or "wgs84", means WGS-84; any other value is an error.
//
// Each ring must have at least 4 and at most MaxRingPositions positions, be
// closed, have coordinates in range, enclose a non-zero area and not
// intersect itself; each hole must lie inside its outer ring. Ring
// orientation is not checked. Extra coordinates (altitude) are ignored.
//
// The first problem found is returned as a *GridError.
func ParseGrids(data []byte) ([]Grid, error) {
	members, err := decodeObject(data)
	if err != nil {
		return nil, collectionError("请求体不是 GeoJSON 对象")
	}

	var typ string
	if err := json.Unmarshal(members["type"], &typ); err != nil || typ != "FeatureCollection" {
		return nil, collectionError(`请求体不是 FeatureCollection："type" 必须是 "FeatureCollection"`)
	}

	gcj02, err := parseCoordType(members["coord_type"])
	if err != nil {
		return nil, err
	}

	var features []json.RawMessage
	if raw, ok := members["features"]; ok {
		if err := json.Unmarshal(raw, &features); err != nil {
			return nil, collectionError(`"features" 必须是数组`)
		}
	}
	if len(features) == 0 {
		return nil, collectionError("FeatureCollection 中没有任何 feature")
	}

	grids := make([]Grid, 0, len(features))
	seen := make(map[string]int, len(features)) // code -> feature index
	for i, raw := range features {
		g, gerr := parseGrid(raw, gcj02)
		if gerr != nil {
			gerr.Index = i
			return nil, gerr
		}
		if first, dup := seen[g.Code]; dup {
			return nil, &GridError{Index: i, Code: g.Code,
				Msg: fmt.Sprintf("code 重复，已被 features[%d] 使用", first)}
		}
		seen[g.Code] = i
		grids = append(grids, g)
	}
	return grids, nil
}

// parseGrid parses and validates a single feature. The Index of a returned
// error is left for the caller to fill in.
func parseGrid(raw json.RawMessage, gcj02 bool) (Grid, *GridError) {
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return Grid{}, &GridError{Msg: "不是 Feature：必须是 JSON 对象"}
	}
	f, err := geojson.UnmarshalFeature(raw)
	if err != nil {
		return Grid{}, &GridError{Code: peekCode(raw), Msg: "不是有效的 GeoJSON Feature"}
	}

	var g Grid
	fail := func(format string, args ...any) (Grid, *GridError) {
		return Grid{}, &GridError{Code: g.Code, Msg: fmt.Sprintf(format, args...)}
	}

	props := f.Properties
	for _, p := range []struct {
		key string
		dst *string
	}{
		{"code", &g.Code},
		{"name", &g.Name},
		{"community", &g.Community},
	} {
		v, ok := props[p.key]
		if !ok || v == nil {
			return fail("缺少属性 %q", p.key)
		}
		s, ok := v.(string)
		if !ok {
			return fail("属性 %q 必须是字符串，不能是%s", p.key, jsonTypeName(v))
		}
		if strings.TrimSpace(s) == "" {
			return fail("属性 %q 为空", p.key)
		}
		*p.dst = s
	}

	switch geom := f.Geometry.(type) {
	case nil:
		return fail("缺少 geometry")
	case orb.Polygon:
		g.Shape = orb.MultiPolygon{geom}
	case orb.MultiPolygon:
		g.Shape = geom
	default:
		return fail("不支持 geometry 类型 %s，只支持 Polygon 或 MultiPolygon", geom.GeoJSONType())
	}

	if err := checkArity(raw); err != nil {
		return fail("%v", err)
	}
	if err := checkPositions(g.Shape); err != nil {
		return fail("%v", err)
	}
	if gcj02 {
		toWGS84(g.Shape)
	}
	if err := checkTopology(g.Shape); err != nil {
		return fail("%v", err)
	}
	return g, nil
}

// checkArity reports a position with fewer than two numbers. orb decodes
// positions into [2]float64 and would silently fill the gap with zeros.
// raw is a feature that orb already decoded as a Polygon or MultiPolygon.
func checkArity(raw json.RawMessage) error {
	var f struct {
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
	}
	// orb has decoded the feature already; what fails here is a shape orb
	// tolerates (a duplicate member, say), said in the uploader's terms.
	bad := errors.New("geometry 的 coordinates 格式有误：应为坐标点数组的数组")
	if err := json.Unmarshal(raw, &f); err != nil {
		return bad
	}
	var polys [][][][]float64
	if f.Geometry.Type == "MultiPolygon" {
		if err := json.Unmarshal(f.Geometry.Coordinates, &polys); err != nil {
			return bad
		}
	} else {
		var rings [][][]float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &rings); err != nil {
			return bad
		}
		polys = [][][][]float64{rings}
	}
	for pi, poly := range polys {
		for ri, ring := range poly {
			for i, pos := range ring {
				if len(pos) < 2 {
					return fmt.Errorf("%s第 %d 个坐标点只有 %d 个数，需要经度和纬度",
						ringName(pi, ri), i, len(pos))
				}
			}
		}
	}
	return nil
}

// parseCoordType interprets the "coord_type" member and reports whether the
// coordinates are GCJ-02.
func parseCoordType(raw json.RawMessage) (gcj02 bool, err error) {
	if raw == nil || bytes.Equal(raw, []byte("null")) {
		return false, nil
	}
	var ct string
	if err := json.Unmarshal(raw, &ct); err == nil {
		switch ct {
		case CoordTypeWGS84:
			return false, nil
		case CoordTypeGCJ02:
			return true, nil
		}
	}
	return false, collectionError(`"coord_type" 必须是 %q 或 %q，不能是 %s`,
		CoordTypeWGS84, CoordTypeGCJ02, truncate(string(raw), 40))
}

// toWGS84 converts every vertex of mp from GCJ-02 to WGS-84 in place.
// Closed rings stay closed because the conversion is deterministic.
func toWGS84(mp orb.MultiPolygon) {
	for _, poly := range mp {
		for _, ring := range poly {
			for i, pt := range ring {
				w := GCJ02ToWGS84(Point{Lat: pt[1], Lng: pt[0]})
				ring[i] = orb.Point{w.Lng, w.Lat}
			}
		}
	}
}

// decodeObject decodes a JSON object into its members, keeping key case
// exactly as written (unlike decoding into a struct).
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, err
	}
	if members == nil {
		return nil, fmt.Errorf("是 null")
	}
	return members, nil
}

// peekCode returns the feature's "code" property if it is a string, so that
// errors about undecodable features can still name the feature.
func peekCode(raw json.RawMessage) string {
	var f struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return ""
	}
	code, _ := f.Properties["code"].(string)
	return code
}

// jsonTypeName names the JSON type of a value decoded by encoding/json.
func jsonTypeName(v any) string {
	switch v.(type) {
	case bool:
		return "布尔值"
	case float64, json.Number:
		return "数字"
	case []any:
		return "数组"
	case map[string]any:
		return "对象"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// truncate shortens s to at most n runes for use in an error message.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

func collectionError(format string, args ...any) *GridError {
	return &GridError{Index: -1, Msg: fmt.Sprintf(format, args...)}
}
